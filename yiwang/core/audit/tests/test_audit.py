from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from yiwang.core import context
from yiwang.core.audit.service import (
    AppendOnlyError,
    AuditEvent,
    AuditFilter,
    purge_older_than,
    record,
    record_personal_read,
    search,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_window():
    """Close the maintenance window the test set-up opened (rolled back after the test)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_maintenance")


def test_record_takes_actor_zone_address_and_request_id_from_the_request_context():
    user = get_user_model().objects.create_user("auditor1", password="x" * 12)
    token = context.begin("req-12345678", "10.1.2.3")
    try:
        context.bind_zone("internal")
        context.bind_user(user)
        event = record("case.view", ("city.case", "C-1"))
    finally:
        context.end(token)
    event.refresh_from_db()
    assert (event.actor_id, event.actor_label) == (str(user.pk), "auditor1")
    assert (event.zone, event.address, event.request_id) == ("internal", "10.1.2.3", "req-12345678")
    assert (event.object_type, event.object_id) == ("city.case", "C-1")


def test_outside_a_request_the_actor_is_the_system():
    event = record("nightly.job")
    assert event.actor_label == "system"
    assert event.request_id == ""


def test_detail_text_is_masked():
    event = record("note", detail={"text": "公民 110101199003074258 手机 13812345678"})
    assert "110101199003074258" not in event.detail["text"]
    assert "13812345678" not in event.detail["text"]


def test_every_write_to_a_model_is_audited():
    user = get_user_model().objects.create_user("writer", password="x" * 12)
    user.display_name = "王五"
    user.save(update_fields=["display_name"])
    user_id = str(user.pk)
    user.delete()
    actions = list(
        AuditEvent.objects.filter(object_type="identity.user", object_id=user_id)
        .order_by("id").values_list("action", flat=True)
    )
    assert actions == ["create", "update", "delete"]


def test_personal_read_is_recorded_with_the_fields():
    event = record_personal_read(("registry.person", "7"), ["id_number", "phone"],
                                 purpose="核验身份")
    assert event.personal_data is True
    assert event.detail == {"fields": ["id_number", "phone"], "purpose": "核验身份"}


def test_events_cannot_be_changed_or_deleted_through_the_orm():
    event = record("x")
    event.action = "y"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="y")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()


def test_the_database_refuses_updates_and_deletes(closed_window):
    event = record("x")
    for sql in ("UPDATE audit_auditevent SET action = 'forged' WHERE id = %s",
                "DELETE FROM audit_auditevent WHERE id = %s"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).action == "x"


def test_purge_keeps_recent_events_and_records_itself(closed_window):
    old = record("old")
    AuditEvent.objects.filter(pk=old.pk)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        else:
            cursor.execute("DROP TRIGGER audit_event_no_update")
        cursor.execute("UPDATE audit_auditevent SET occurred_at = %s WHERE id = %s",
                       [timezone.now() - timedelta(days=400), old.pk])
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")
    recent = record("recent")
    assert purge_older_than(365) == 1
    assert not AuditEvent.objects.filter(pk=old.pk).exists()
    assert AuditEvent.objects.filter(pk=recent.pk).exists()
    assert AuditEvent.objects.filter(action="audit.purge").exists()
    with pytest.raises(ValueError):
        purge_older_than(30)


def test_search_filters():
    record("licence.issue", ("licences.licence", "1"))
    record("licence.revoke", ("licences.licence", "1"))
    record("case.dispatch", ("city.case", "9"), personal_data=True)
    assert search(AuditFilter(action="licence.")).count() == 2
    assert search(AuditFilter(object_type="city.case")).count() == 1
    assert search(AuditFilter(personal_only=True)).get().action == "case.dispatch"
    assert search(AuditFilter(since=timezone.now() + timedelta(minutes=1))).count() == 0


def test_sign_in_success_and_failure_are_audited(public_client):
    get_user_model().objects.create_user("citizen1", password="correct-horse-1")
    public_client.post("/account/login/", {"login": "citizen1", "password": "wrong-password"})
    public_client.post("/account/login/", {"login": "citizen1", "password": "correct-horse-1"})
    failed = AuditEvent.objects.get(action="identity.sign_in_failed")
    assert failed.actor_label == "citizen1"
    assert failed.zone == "public"
    ok = AuditEvent.objects.get(action="identity.sign_in")
    assert ok.actor_label == "citizen1" and ok.detail["method"] == "password"
    assert ok.request_id
    assert AuditEvent.objects.filter(action="auth.login", actor_label="citizen1").exists()


def test_nested_detail_is_masked_too():
    event = record("note", detail={"rows": [{"tel": "13812345678"}], "n": 2})
    assert "13812345678" not in str(event.detail)
    assert event.detail["n"] == 2

