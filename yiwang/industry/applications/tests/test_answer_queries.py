"""Query budgets of the reads behind the API's answers and the officials' inbox
(``queries.py``): one application, its materials, timeline and open tasks, each one query
whose SQL is compiled once; the inbox one query (two when it counts). And the inbox's
written-out SQL gives the rows the ORM gives."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yiwang.industry.applications import service as applications
from yiwang.industry.applications.queries import INBOX_FIELDS
from yiwang.industry.applications.tests.conftest import submitted
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db


def _fresh(user: Any) -> Any:
    return get_user_model().objects.get(pk=user.pk)


def _tables(ctx: Any) -> list[str]:
    """The applications tables each captured query reads (the session's and the access
    checks' queries aside)."""
    found = []
    for query in ctx.captured_queries:
        sql = query["sql"]
        for table in ("application", "material", "event", "task"):
            if f'FROM "applications_{table}"' in sql or f"FROM applications_{table} " in sql:
                found.append(table)
    return found


def test_the_full_answer_reads_each_table_once(version: Any, citizen: Any, officer: Any,
                                               public_client: Any,
                                               internal_client: Any) -> None:
    app = submitted(citizen)
    with CaptureQueriesContext(connection) as read:
        mine = applications.application_for_applicant(citizen, app.pk)
    assert len(read) == 1 and mine.data == app.data and mine.row_version == app.row_version
    sign_in_client(public_client, citizen)
    with CaptureQueriesContext(connection) as answer:
        body = public_client.get(f"/api/v1/applications/{app.pk}").json()
    assert sorted(_tables(answer)) == ["application", "event", "material", "task"]
    assert [m["key"] for m in body["materials"]] == ["id_card"]
    assert [e["kind"] for e in body["events"]] == [
        e.kind for e in app.events.filter(public=True).order_by("at", "id")]
    assert [t["id"] for t in body["tasks"]] == list(
        app.tasks.filter(state="open").values_list("pk", flat=True))
    sign_in_client(internal_client, officer)
    with CaptureQueriesContext(connection) as detail:
        body = internal_client.get(f"/api/v1/applications/{app.pk}").json()
    assert sorted(_tables(detail)) == ["application", "event", "material", "task"]
    assert len(body["events"]) == app.events.count()
    assert body["data"]["id_card"][0].startswith("/api/v1/applications/")


def test_keys_that_match_nothing_are_refused_without_error(version: Any, citizen: Any,
                                                           public_client: Any) -> None:
    app = submitted(citizen)
    for key in (2**63, -(2**64), "x", None, app.pk + 1000):
        with pytest.raises(applications_denied()):
            applications.application_for_applicant(citizen, key)
    sign_in_client(public_client, citizen)
    response = public_client.get(f"/api/v1/applications/{2**70}")
    assert response.status_code == 404


def applications_denied() -> type[Exception]:
    from django.core.exceptions import PermissionDenied

    return PermissionDenied


def _reference(user: Any, *, state: str = "open", q: str = "") -> list[dict[str, Any]]:
    """The inbox as the ORM writes it (a member's own units, any position)."""
    from yiwang.industry.applications.models import Task

    codes = applications.department_codes(user)
    qs = Task.objects.filter(Q(department_code__in=codes) & Q(position_code=""))
    if state == "mine":
        qs = qs.filter(state="open", claimed_by=user)
    elif state in ("waiting", "done"):
        qs = qs.filter(state=state)
        if state == "done":
            qs = qs.filter(done_by=user)
    else:
        qs = qs.filter(state="open")
    if q:
        qs = qs.filter(number__startswith=q.upper())
    order = ("-done_at", "-id") if state == "done" else ("due_at", "id")
    return list(qs.order_by(*order).values(*INBOX_FIELDS))


def test_the_inbox_gives_the_rows_the_orm_gives_in_one_or_two_queries(
        version: Any, citizen: Any, officer: Any) -> None:
    apps = [submitted(citizen) for _ in range(5)]
    apps[2].tasks.update(due_at=timezone.now() + timedelta(hours=1))
    apps[3].tasks.update(claimed_by=officer)
    official = _fresh(officer)
    applications.inbox(official)  # the official's scope, once per user object
    with CaptureQueriesContext(connection) as whole:
        page = applications.inbox(official)
    assert len(whole) == 1  # the list fits on the page: no count
    assert page.rows == _reference(official) and page.count == 5
    assert page.rows[0]["due_at"].tzinfo is not None
    with CaptureQueriesContext(connection) as paged:
        second = applications.inbox(official, per_page=2, page=2)
    assert len(paged) == 2  # the page and the capped count
    assert second.rows == _reference(official)[2:4] and second.count == 5 and second.has_next
    mine = applications.inbox(official, state="mine")
    assert mine.rows == _reference(official, state="mine") and mine.count == 1
    prefix = apps[4].number[:-2].lower()  # searched as typed, case aside
    found = applications.inbox(official, q=prefix)
    assert found.rows == _reference(official, q=prefix) and found.count >= 1
    assert applications.inbox(official, q="%").count == 0  # a LIKE wildcard is literal
    assert applications.inbox(official, matter="nope").count == 0
    assert applications.inbox(official, department="scjg").count == 0


def test_the_inbox_answer_through_the_api(version: Any, citizen: Any, officer: Any,
                                          internal_client: Any) -> None:
    apps = [submitted(citizen) for _ in range(3)]
    sign_in_client(internal_client, officer)
    body = internal_client.get("/api/v1/applications/inbox?per_page=2").json()
    assert body["count"] == 3 and body["has_next"] and not body["count_capped"]
    assert {row["application"] for row in body["items"]} <= {a.pk for a in apps}
    assert body["items"][0]["claimed_by_me"] is False and body["items"][0]["due_at"]


def _task_rows(tasks: list[Any]) -> list[tuple[Any, ...]]:
    return [(t.pk, t.name, t.department_code, t.position_code, t.state, t.claimed_by_id,
             t.due_at) for t in tasks]


def _stored_open(app: Any) -> list[tuple[Any, ...]]:
    from yiwang.industry.applications.models import Task

    return _task_rows(list(Task.objects.filter(application_id=app.pk,
                                               state__in=["open", "waiting"]).order_by("id")))


def test_a_write_that_made_all_open_tasks_answers_without_reading_them(
        version: Any, citizen: Any, officer: Any) -> None:
    """The submission and a step that opens the next task know the open tasks (those they
    made): the answer is built from them, and they are the stored ones."""
    app = submitted(citizen)
    with CaptureQueriesContext(connection) as read:
        tasks = applications.open_task_rows(app)
    assert len(read) == 0 and len(tasks) == 1
    assert _task_rows(tasks) == _stored_open(app)
    assert tasks[0].due_at.utcoffset() == timedelta(0)  # as a read gives it: the same JSON
    app = applications.decide_task(officer, tasks[0].pk, "approve", "", app.row_version)
    with CaptureQueriesContext(connection) as read:
        following = applications.open_task_rows(app)
    assert len(read) == 0 and following[0].pk != tasks[0].pk
    assert _task_rows(following) == _stored_open(app)


def test_a_step_that_leaves_other_tasks_open_reads_them(city: Any, citizen: Any,
                                                        officer: Any) -> None:
    """A countersign party's approval leaves the other party's task open, which the step
    did not make: the answer reads the open tasks."""
    from yiwang.industry.applications.tests.conftest import publish_matter

    publish_matter(flow={"version": 1, "steps": [
        {"kind": "countersign", "id": "joint", "name": "联合审查", "parties": [
            {"department": "gaj", "position": None}, {"department": "rsj", "position": None}]},
    ]}, licence={})
    app = submitted(citizen)
    assert len(applications.open_task_rows(app)) == 2
    ours = next(t for t in applications.open_tasks(app) if t.department_code == "gaj")
    app = applications.decide_task(officer, ours.pk, "approve", "", app.row_version)
    with CaptureQueriesContext(connection) as read:
        left = applications.open_task_rows(app)
    assert len(read) == 1
    assert [t.department_code for t in left] == ["rsj"] and _task_rows(left) == _stored_open(app)
