"""Review findings L1, L3, L4, L5, L7, L8 of session 1: the clock after a correction, a
bundle whose members were withdrawn, the bundle's own uploads, the ledger's fingerprint,
notification links and the implicit claim."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from yiwang.core.uploads import service as uploads
from yiwang.enablement.ledger import service as ledger
from yiwang.enablement.workflow import service as workflow
from yiwang.industry.applications import clock, integration, progress
from yiwang.industry.applications import service as applications
from yiwang.industry.applications.tests.conftest import (
    form_data,
    plain_png,
    submitted,
    upload,
)
from yiwang.industry.applications.tests.test_bundles import bundle  # noqa: F401 (fixture)
from yiwang.support.notify import service as notify

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")


def _correction(citizen: Any, officer: Any) -> Any:
    app = submitted(citizen)
    task = applications.open_tasks(app)[0]
    applications.claim_task(officer, task.pk, app.row_version)
    app.refresh_from_db()
    return applications.request_correction(officer, task.pk, "请补正", app.row_version)


# --- L1 ----------------------------------------------------------------------------------------

def test_the_pause_counts_whole_working_days_both_edges(city: Any) -> None:
    # Wednesday 2 December 2026 and the days after it (no holiday in the default calendar).
    wednesday_9 = datetime(2026, 12, 2, 9, 0, tzinfo=TZ)
    assert workflow.is_workday(wednesday_9.date())
    # Asked and returned the same day: no day added.
    assert clock.paused_working_days(wednesday_9, wednesday_9.replace(hour=17)) == 0
    # Asked at 17:00, returned at 09:00 the next working day: one whole day added.
    assert clock.paused_working_days(wednesday_9.replace(hour=17),
                                     datetime(2026, 12, 3, 9, 0, tzinfo=TZ)) == 1
    # Friday 17:00 to Monday 09:00: the weekend does not count.
    assert clock.paused_working_days(datetime(2026, 12, 4, 17, 0, tzinfo=TZ),
                                     datetime(2026, 12, 7, 9, 0, tzinfo=TZ)) == 1


def test_after_a_correction_the_moved_due_time_is_warned_again_and_timers_move(
        version: Any, citizen: Any, officer: Any) -> None:
    app = _correction(citizen, officer)
    week_ago = timezone.now() - timedelta(days=7)
    timer = timezone.now() + timedelta(hours=1)
    state = {"tasks": {"t1": {"internal_data": {"event_value": timer.isoformat()}},
                       "t2": {"internal_data": {"event_value": timer.isoformat(),
                                                "event_fired": True}}}}
    Application = app.__class__
    Application.objects.filter(pk=app.pk).update(paused_at=week_ago, warned=True,
                                                 overdue=True, next_timer_at=timer)
    app.refresh_from_db()
    app.workflow_state = state
    app.save(update_fields=["workflow_text"])
    app = applications.submit_correction(citizen, app, data=app.data)
    days = app.pauses[0]["days"]
    assert days >= 4
    app.refresh_from_db()
    assert app.warned is False and app.overdue is False
    assert app.next_timer_at == workflow.add_working_days(timer, days)
    tasks = app.workflow_state["tasks"]
    assert tasks["t1"]["internal_data"]["event_value"] == \
        workflow.add_working_days(timer, days).isoformat()
    assert tasks["t2"]["internal_data"]["event_value"] == timer.isoformat()  # fired: kept
    # The moved due time is warned again when it comes near.
    Application.objects.filter(pk=app.pk).update(next_timer_at=None)
    near = app.due_at - timedelta(hours=1)
    assert applications.tick_clocks(near)["warned"] == 1


def test_shift_timers_leaves_unreadable_states_alone() -> None:
    assert integration.shift_timers("opaque", 3) == "opaque"
    assert integration.shift_timers({"event_value": "not a date"}, 3) == {
        "event_value": "not a date"}


# --- L3, L4 ------------------------------------------------------------------------------------

def test_a_bundle_whose_members_were_all_withdrawn_is_withdrawn(
        bundle: Any, citizen: Any, officer: Any) -> None:  # noqa: F811
    token = upload(citizen, plain_png())
    parent = applications.submit_bundle(citizen, "test-bundle",
                                        form_data(citizen, id_card=[token]))
    for child in parent.children.all():
        applications.withdraw_application(citizen, child)
    parent.refresh_from_db()
    assert parent.state == "withdrawn"


def test_a_bundle_is_approved_when_every_member_not_withdrawn_was(
        bundle: Any, citizen: Any, officer: Any) -> None:  # noqa: F811
    from yiwang.industry.applications.tests.conftest import make_official

    labour = make_official("rsj.officer", "rsj")
    token = upload(citizen, plain_png())
    parent = applications.submit_bundle(citizen, "test-bundle",
                                        form_data(citizen, id_card=[token]))
    children = {c.department_code: c for c in parent.children.all()}
    applications.withdraw_application(citizen, children["gaj"])
    child = children["rsj"]
    task = applications.open_tasks(child)[0]
    applications.decide_task(labour, task.pk, "approve", "", child.row_version)
    parent.refresh_from_db()
    assert parent.state == "approved"


def test_the_bundle_claims_every_token_of_its_data(bundle: Any, citizen: Any,  # noqa: F811
                                                   other_citizen: Any) -> None:
    theirs = upload(other_citizen, plain_png())
    with pytest.raises(ValidationError) as caught:
        applications.submit_bundle(citizen, "test-bundle",
                                   form_data(citizen, id_card=[theirs]))
    assert "id_card" in caught.value.message_dict
    assert not applications.applications_of(citizen).exists()
    mine = upload(citizen, plain_png())
    parent = applications.submit_bundle(citizen, "test-bundle",
                                        form_data(citizen, id_card=[mine]))
    assert parent.data["id_card"] == [mine] and uploads.get_upload(mine).claimed


# --- L5 ----------------------------------------------------------------------------------------

def test_the_ledger_holds_a_keyed_fingerprint_not_a_plain_hash(version: Any, citizen: Any,
                                                               officer: Any) -> None:
    import hashlib
    import json

    from yiwang.industry.applications.tests.test_lifecycle import approve_all

    app = approve_all(submitted(citizen), officer)
    entry = [e for e in ledger.entries("main") if e.entry_type == "application.decided"][-1]
    canonical = json.dumps(app.data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    plain = hashlib.sha256(canonical.encode()).hexdigest()
    record = entry.record if isinstance(entry.record, str) else json.dumps(entry.record)
    assert plain not in record and "data_sha256" not in record
    assert json.loads(record)["data_hmac"] == progress.data_hash(app.data) != plain


# --- L7 ----------------------------------------------------------------------------------------

def test_officials_notifications_link_to_the_workbench(version: Any, citizen: Any,
                                                       officer: Any) -> None:
    from django.urls import reverse
    from django.utils import translation

    app = _correction(citizen, officer)
    with translation.override("en"):  # the applicant browses in English
        applications.submit_correction(citizen, app, data=app.data)
    page = notify.list_notifications(officer)
    links = [n.link for n in page.object_list if n.kind == "application.corrected"]
    expected = reverse("workbench:applications_detail", args=[app.pk],
                       urlconf="yiwang.urls.internal")
    assert links == [expected] and not expected.startswith("/en/")
    mine = [n.link for n in notify.list_notifications(citizen).object_list
            if n.kind == "application.correction"]
    assert mine == [reverse("applications_portal:correct", args=[app.pk],
                            urlconf="yiwang.urls.public")]


# --- L8 ----------------------------------------------------------------------------------------

def test_deciding_an_unclaimed_task_claims_it_and_says_so(version: Any, citizen: Any,
                                                          officer: Any) -> None:
    app = submitted(citizen)
    task = applications.open_tasks(app)[0]
    assert task.claimed_by_id is None
    app = applications.decide_task(officer, task.pk, "approve", "", app.row_version)
    task.refresh_from_db()
    assert task.claimed_by_id == officer.pk and task.done_by_id == officer.pk
    claimed = [e for e in applications.timeline(app, public_only=False) if e.kind == "claimed"]
    assert len(claimed) == 1 and claimed[0].note == "办理时自动签收"
    # An explicit claim is not recorded twice.
    nxt = applications.open_tasks(app)[0]
    applications.claim_task(officer, nxt.pk, app.row_version)
    app.refresh_from_db()
    applications.decide_task(officer, nxt.pk, "approve", "", app.row_version)
    kinds = [e.kind for e in applications.timeline(app, public_only=False)]
    assert kinds.count("claimed") == 2


# --- the licence holder named by the mapping (contract with the catalogue) ---------------------

def test_the_licence_goes_to_the_holder_the_mapping_names(version: Any, citizen: Any,
                                                          other_citizen: Any, officer: Any,
                                                          monkeypatch: Any) -> None:
    from yiwang.industry.applications.tests.test_lifecycle import approve_all
    from yiwang.industry.services import service as catalogue
    from yiwang.support.licences import service as licences

    calls: list[str] = []

    def holder(version: Any, data: Any, *, application_number: str,
               applicant: Any = None) -> str:
        calls.append(application_number)
        assert applicant is not None and applicant.pk == citizen.pk
        return other_citizen.id_number

    monkeypatch.setattr(catalogue, "licence_holder", holder, raising=False)
    app = approve_all(submitted(citizen), officer)
    assert calls == [app.number]
    licence = licences.find_by_identifier(app.licence_identifier)
    assert licences.licences_of(other_citizen).filter(pk=licence.pk).exists()
    assert not licences.licences_of(citizen).filter(pk=licence.pk).exists()


def test_without_a_named_holder_the_applicant_gets_the_licence(version: Any, citizen: Any,
                                                               officer: Any,
                                                               monkeypatch: Any) -> None:
    from yiwang.industry.applications.tests.test_lifecycle import approve_all
    from yiwang.industry.services import service as catalogue
    from yiwang.support.licences import service as licences

    monkeypatch.setattr(catalogue, "licence_holder",
                        lambda version, data, *, application_number: None, raising=False)
    app = approve_all(submitted(citizen), officer)
    licence = licences.find_by_identifier(app.licence_identifier)
    assert licences.licences_of(citizen).filter(pk=licence.pk).exists()


def test_a_time_limit_ends_at_the_end_of_its_last_working_day(city: Any) -> None:
    friday_17 = datetime(2026, 12, 4, 17, 0, tzinfo=TZ)
    due = clock.due_after(friday_17, 2)
    assert due is not None
    local = timezone.localtime(due)
    assert local.date() == workflow.add_working_days(friday_17, 2).astimezone(TZ).date()
    assert (local.hour, local.minute, local.second) == (23, 59, 59)
    # Moved by a pause, it still ends at the end of a day.
    moved = timezone.localtime(workflow.add_working_days(due, 1))
    assert (moved.hour, moved.minute) == (23, 59)
