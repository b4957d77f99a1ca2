"""Officials: access by department, the inbox, claims, two officials at once (one wins),
corrections pausing the clock, warnings and overdue escalation."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yiwang.enablement.workflow import service as workflow
from yiwang.industry.applications import service as applications
from yiwang.industry.applications.tests.conftest import (
    LEGAL_MATTER,
    MATTER,
    form_data,
    make_official,
    submitted,
)
from yiwang.support.notify import service as notify

pytestmark = pytest.mark.django_db


def test_citizens_see_only_their_own(version: Any, citizen: Any, other_citizen: Any) -> None:
    app = submitted(citizen)
    with pytest.raises(PermissionDenied):
        applications.application_for_applicant(other_citizen, app.pk)
    assert not applications.applications_of(other_citizen).exists()
    assert list(applications.applications_of(citizen)) == [app]
    with pytest.raises(PermissionDenied):
        applications.withdraw_application(other_citizen, app)


def test_officials_see_only_their_departments(version: Any, citizen: Any, officer: Any,
                                              stranger_official: Any) -> None:
    app = submitted(citizen)
    assert applications.application_for_official(officer, app.pk).pk == app.pk
    with pytest.raises(PermissionDenied):
        applications.application_for_official(stranger_official, app.pk)
    assert applications.inbox(stranger_official).count == 0
    task = applications.open_tasks(app)[0]
    with pytest.raises(PermissionDenied):
        applications.claim_task(stranger_official, task.pk, app.row_version)
    with pytest.raises(PermissionDenied):
        applications.inbox(citizen)


def test_an_agent_files_for_the_enterprise_and_the_representative_sees_it(
        legal_version: Any, citizen: Any, other_citizen: Any, enterprise: Any) -> None:
    code = enterprise.credit_code
    app = applications.save_draft(other_citizen, LEGAL_MATTER, form_data(other_citizen),
                                  acting_for=code)
    assert app.acting_for == code and app.applicant_masked == enterprise.name
    # The representative sees the enterprise's applications; the agent their own.
    assert applications.application_for_applicant(citizen, app.pk).pk == app.pk
    assert list(applications.applications_of(citizen, acting_for=code)) == [app]
    assert list(applications.applications_of(other_citizen, acting_for=code)) == [app]
    assert not applications.applications_of(citizen).exists()  # not among personal ones


def test_filing_for_an_enterprise_needs_the_apply_scope(version: Any, citizen: Any,
                                                        other_citizen: Any,
                                                        enterprise: Any) -> None:
    from yiwang.industry.applications.tests.conftest import make_citizen

    outsider = make_citizen("citizen3", "赵小刚")
    with pytest.raises(ValidationError):
        applications.save_draft(outsider, MATTER, {}, acting_for=enterprise.credit_code)


def test_inbox_lists_open_tasks_soonest_due_in_a_fixed_number_of_queries(
        version: Any, citizen: Any, officer: Any) -> None:
    apps = [submitted(citizen) for _ in range(3)]
    apps[1].tasks.update(due_at=timezone.now() + timedelta(hours=1))
    applications.inbox(officer)  # warm caches (content types, memberships)
    with CaptureQueriesContext(connection) as first:
        page = applications.inbox(officer)
    assert page.rows[0]["application_id"] == apps[1].pk
    assert page.count == 3 and not page.has_next and not page.capped
    assert {r["applicant_masked"] for r in page.rows} == {"李**"}
    assert len(first) == 1  # the whole list fits on the page: no count query
    with CaptureQueriesContext(connection) as second:
        applications.inbox(officer, per_page=2)
    for _ in range(5):
        submitted(citizen)
    with CaptureQueriesContext(connection) as third:
        applications.inbox(officer, per_page=2, page=3)
    assert len(second) == len(third) == 2  # rows and a capped count; no N+1
    assert applications.inbox(officer, q=apps[0].number).rows[0]["number"] == apps[0].number
    assert applications.inbox(officer, state="mine").count == 0


def test_a_task_claimed_by_one_official_is_refused_to_another(version: Any, citizen: Any,
                                                              officer: Any,
                                                              officer2: Any) -> None:
    app = submitted(citizen)
    task = applications.open_tasks(app)[0]
    applications.claim_task(officer, task.pk, app.row_version)
    app.refresh_from_db()
    assert app.state == "in_review"
    with pytest.raises(ValidationError) as caught:
        applications.decide_task(officer2, task.pk, "approve", "", app.row_version)
    assert "签收" in caught.value.messages[0]


def test_a_stale_version_is_refused_plainly(version: Any, citizen: Any, officer: Any,
                                            officer2: Any) -> None:
    app = submitted(citizen)
    task = applications.open_tasks(app)[0]
    seen = app.row_version
    applications.decide_task(officer, task.pk, "approve", "", seen)
    with pytest.raises(ValidationError) as caught:
        applications.request_correction(officer2, task.pk, "请补正", seen)
    assert caught.value.code == "stale" and "刷新" in caught.value.messages[0]


@pytest.mark.django_db(transaction=True)
def test_two_officials_deciding_at_once_one_wins(city: Any) -> None:
    """Two threads, two database connections, the same task and version: one decision is
    applied, the other gets the plain message."""
    from yiwang.industry.applications.tests.conftest import (
        give_licence_seal,
        make_citizen,
        publish_matter,
    )

    publish_matter()
    citizen = make_citizen("citizen9", "李小明")
    one = make_official("gaj.one", "gaj")
    two = make_official("gaj.two", "gaj")
    give_licence_seal("gaj", one)
    app = submitted(citizen)
    task = applications.open_tasks(app)[0]
    seen = app.row_version
    barrier = threading.Barrier(2)
    results: dict[str, Any] = {}

    def act(name: str, user: Any) -> None:
        try:
            barrier.wait(timeout=10)
            applications.decide_task(user, task.pk, "approve", "", seen)
            results[name] = "ok"
        except ValidationError as exc:
            results[name] = exc.code
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=act, args=(n, u)) for n, u in (("a", one), ("b", two))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    # the loser is told plainly: "stale" if it met the winner's version bump, "task_closed"
    # if the winner had already closed the task when its transaction began
    outcomes = sorted(results.values())
    assert outcomes[0] == "ok" and outcomes[1] in ("stale", "task_closed"), outcomes
    app.refresh_from_db()
    assert app.row_version == seen + 1
    assert [t.name for t in applications.open_tasks(app)] == ["审批决定"]


def test_correction_pauses_the_clock_and_moves_the_due_time(version: Any, citizen: Any,
                                                            officer: Any) -> None:
    app = submitted(citizen)
    task = applications.open_tasks(app)[0]
    applications.claim_task(officer, task.pk, app.row_version)
    app.refresh_from_db()
    app = applications.request_correction(officer, task.pk, "身份证照片不清晰", app.row_version,
                                          fields=["id_card"])
    assert app.state == "correction" and app.paused_at is not None
    assert applications.inbox(officer).count == 0
    assert applications.inbox(officer, state="waiting").count == 1
    # The applicant took a week: the clock stood still for the working days in between.
    week_ago = timezone.now() - timedelta(days=7)
    due_before = app.due_at
    app.__class__.objects.filter(pk=app.pk).update(paused_at=week_ago)
    app.refresh_from_db()
    task_due = applications.open_tasks(app)[0].due_at
    app = applications.submit_correction(citizen, app, data=app.data)
    resumed = datetime.fromisoformat(app.pauses[0]["to"])
    days = workflow.working_days_between(week_ago, resumed)
    assert app.state == "in_review" and app.paused_at is None
    assert app.pauses[0]["days"] == days and days >= 4
    assert app.due_at == workflow.add_working_days(due_before, days)
    reopened = applications.open_tasks(app)[0]
    assert reopened.state == "open" and reopened.claimed_by_id == officer.pk
    assert reopened.due_at == workflow.add_working_days(task_due, days)
    assert [e.kind for e in applications.timeline(app, public_only=True)][-2:] == [
        "correction", "corrected"]


def test_the_clock_warns_then_escalates_to_the_lead(version: Any, citizen: Any,
                                                    officer: Any) -> None:
    from yiwang.platform.orgs import service as orgs

    orgs.create_position("gaj", "head", "局长")
    orgs.order_positions("gaj", ["head"])
    head = make_official("gaj.head", "gaj", position="head")
    app = submitted(citizen)
    now = timezone.now()
    app.__class__.objects.filter(pk=app.pk).update(due_at=now + timedelta(hours=2))
    counts = applications.tick_clocks(now)
    assert counts["warned"] == 1 and counts["overdue"] == 0
    assert applications.tick_clocks(now)["warned"] == 0  # once
    later = now + timedelta(hours=3)
    counts = applications.tick_clocks(later)
    app.refresh_from_db()
    assert counts["overdue"] == 1 and app.overdue
    assert notify.unread_count(head) >= 1
    assert applications.tick_clocks(later)["overdue"] == 0


def test_a_paused_application_is_not_escalated(version: Any, citizen: Any,
                                               officer: Any) -> None:
    app = submitted(citizen)
    task = applications.open_tasks(app)[0]
    app = applications.request_correction(officer, task.pk, "请补正", app.row_version)
    app.__class__.objects.filter(pk=app.pk).update(due_at=timezone.now() - timedelta(days=1))
    assert applications.tick_clocks()["overdue"] == 0


def test_countersign_needs_every_party(city: Any, citizen: Any, officer: Any) -> None:
    """A countersign (会签) step opens one task per party, in each party's department; the
    application goes on once all have approved."""
    from yiwang.industry.applications.tests.conftest import publish_matter

    publish_matter(flow={"version": 1, "steps": [
        {"kind": "countersign", "id": "joint", "name": "联合审查", "parties": [
            {"department": "gaj", "position": None}, {"department": "rsj", "position": None}]},
    ]}, licence={})
    labour = make_official("rsj.joint", "rsj")
    app = submitted(citizen)
    tasks = {t.department_code: t for t in applications.open_tasks(app)}
    assert set(tasks) == {"gaj", "rsj"} and tasks["gaj"].countersign_group
    assert applications.inbox(labour).count == 1
    app = applications.decide_task(officer, tasks["gaj"].pk, "approve", "", app.row_version)
    assert app.state == "in_review" and [t.department_code for t in
                                         applications.open_tasks(app)] == ["rsj"]
    app = applications.decide_task(labour, tasks["rsj"].pk, "approve", "", app.row_version)
    assert app.state == "approved"


def test_a_revoked_agent_loses_the_enterprises_applications(
        public_client: Any, legal_version: Any, citizen: Any, other_citizen: Any,
        enterprise: Any,
        officer: Any) -> None:
    from django.core.exceptions import PermissionDenied
    from django.urls import reverse

    from yiwang.industry.applications.tests.conftest import plain_png, upload
    from yiwang.support.identity import service as identity
    from yiwang.support.identity.testing import sign_in_client

    code = enterprise.credit_code
    agent = other_citizen
    app = applications.save_draft(agent, LEGAL_MATTER, form_data(agent), acting_for=code)
    applications.attach_upload(agent, app, "id_card", upload(agent, plain_png()))
    app = applications.submit_application(agent, app)
    task = applications.open_tasks(app)[0]
    applications.claim_task(officer, task.pk, app.row_version)
    app.refresh_from_db()
    app = applications.request_correction(officer, task.pk, "请补正", app.row_version)
    assert applications.application_for_applicant(agent, app.pk).pk == app.pk

    mandate = identity.mandate_of(agent, code)
    identity.revoke_mandate(mandate, actor=citizen, reason="离职")
    app.refresh_from_db()
    with pytest.raises(PermissionDenied):
        applications.application_for_applicant(agent, app.pk)
    assert not applications.applications_of(agent, acting_for=code).exists()
    with pytest.raises(PermissionDenied):
        applications.submit_correction(agent, app, data=app.data)
    with pytest.raises(PermissionDenied):
        applications.withdraw_application(agent, app)
    with pytest.raises(PermissionDenied):
        applications.evaluate_application(agent, app, score=5)
    sign_in_client(public_client, agent)
    page = reverse("applications_portal:detail", args=[app.pk], urlconf="yiwang.urls.public")
    assert public_client.get(page).status_code == 404
    assert public_client.get(f"/api/v1/applications/{app.pk}").status_code == 404
    # The enterprise's representative still sees it and acts on it.
    assert applications.application_for_applicant(citizen, app.pk).pk == app.pk
    assert list(applications.applications_of(citizen, acting_for=code)) == [app]


def test_an_agent_without_the_apply_scope_sees_nothing(legal_version: Any, citizen: Any,
                                                      other_citizen: Any,
                                                      enterprise: Any) -> None:
    from datetime import timedelta

    from django.core.exceptions import PermissionDenied
    from django.utils import timezone

    from yiwang.support.identity import service as identity

    code = enterprise.credit_code
    app = applications.save_draft(other_citizen, LEGAL_MATTER, form_data(other_citizen),
                                  acting_for=code)
    identity.revoke_mandate(identity.mandate_of(other_citizen, code), actor=citizen,
                            reason="改为只查询")
    identity.grant_mandate(enterprise, scopes=["query"], agent_login=other_citizen.username,
                           expires_at=timezone.now() + timedelta(days=30), actor=citizen)
    assert identity.mandate_of(other_citizen, code) is not None
    with pytest.raises(PermissionDenied):
        applications.application_for_applicant(other_citizen, app.pk)
    assert not applications.applications_of(other_citizen, acting_for=code).exists()
