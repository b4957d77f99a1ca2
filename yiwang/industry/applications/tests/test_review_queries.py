"""The officials' claim and decide steps: their own queries (the session's and the access
checks' are counted elsewhere) after the session-3 work — the move into review made by the
compare-and-swap ``UPDATE`` itself, the timeline's events and the audit events of a decision
written with one ``INSERT`` each, the decided task not cancelled after it is done, the
applicant notified by key, the ledger's head read once — and the behaviour those shortcuts
must keep."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yiwang.core.audit.service import AuditEvent
from yiwang.industry.applications import service as applications
from yiwang.industry.applications.models import Event, Task
from yiwang.industry.applications.tests.conftest import publish_matter, submitted

pytestmark = pytest.mark.django_db

# The request's identity and access checks: not this step's queries.
_NOT_MINE = ("django_session", "identity_session", "auth_permission", "orgs_", "identity_user")
# This step's queries, BEGIN and COMMIT and savepoints included. Before session 3: claim 8,
# approve 11, the final approval (no licence) 28.
CLAIM_QUERIES = 7
APPROVE_QUERIES = 10
FINAL_QUERIES = 19


def _mine(ctx: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries
            if not any(name in q["sql"] for name in _NOT_MINE)]


@pytest.fixture
def no_licence(city: Any) -> Any:
    return publish_matter(licence={})


def _decided(citizen: Any, officer: Any) -> None:
    app = submitted(citizen)
    while app.state != "approved":
        app = applications.decide_task(officer, applications.open_tasks(app)[0].pk,
                                       "approve", "", app.row_version)


def test_claim_and_decide_query_counts(no_licence: Any, citizen: Any, officer: Any) -> None:
    _decided(citizen, officer)  # the ledger's log is made on first use: not counted
    app = submitted(citizen)
    task = applications.open_tasks(app)[0]
    with CaptureQueriesContext(connection) as ctx:
        applications.claim_task(officer, task.pk, app.row_version)
    claim = _mine(ctx)
    assert len(claim) <= CLAIM_QUERIES, claim
    # Into review with the version's bump: one UPDATE of the application.
    assert len([s for s in claim if s.startswith('UPDATE "applications_application"')]) == 1
    app.refresh_from_db()
    assert app.state == "in_review"

    with CaptureQueriesContext(connection) as ctx:
        app = applications.decide_task(officer, task.pk, "approve", "", app.row_version)
    approve = _mine(ctx)
    assert len(approve) <= APPROVE_QUERIES, approve

    second = applications.open_tasks(app)[0]
    with CaptureQueriesContext(connection) as ctx:
        app = applications.decide_task(officer, second.pk, "approve", "好", app.row_version)
    final = _mine(ctx)
    # PostgreSQL locks the ledger's head row (SELECT … FOR UPDATE); SQLite's IMMEDIATE
    # transaction already holds the write lock
    assert len(final) <= FINAL_QUERIES + (connection.vendor == "postgresql"), final
    assert app.state == "approved"
    # One INSERT for the three events (implicit claim, decision, outcome), one for the
    # four audit events (the notification's included); the applicant is not read.
    assert len([s for s in final if s.startswith('INSERT INTO "applications_event"')]) == 1
    assert len([s for s in final if s.startswith('INSERT INTO "audit_auditevent"')]) == 1
    assert not any(q["sql"].startswith('SELECT "identity_user"') for q in ctx.captured_queries)


def test_a_decision_keeps_every_record(no_licence: Any, citizen: Any, officer: Any) -> None:
    """What the batched writes must still leave: every event in order, every audit event
    with its id, the decided tasks done (and in the official's done list), the
    notification."""
    from yiwang.support.notify import service as notify

    app = submitted(citizen)
    first = applications.open_tasks(app)[0]
    applications.claim_task(officer, first.pk, app.row_version)
    app.refresh_from_db()
    app = applications.decide_task(officer, first.pk, "approve", "", app.row_version)
    second = applications.open_tasks(app)[0]
    before = AuditEvent.objects.count()
    app = applications.decide_task(officer, second.pk, "approve", "同意", app.row_version)

    kinds = list(Event.objects.filter(application=app).order_by("at", "id")
                 .values_list("kind", flat=True))
    assert kinds[-3:] == ["claimed", "task_decided", "decided"]
    assert Event.objects.get(application=app, kind="decided").note == "同意"
    audited = list(AuditEvent.objects.order_by("id")[before:].values_list("action", flat=True))
    assert audited == ["application.task_claimed", "application.task_decided",
                       "application.decided", "create"]
    assert all(e.pk for e in AuditEvent.objects.order_by("id")[before:])
    states = dict(Task.objects.filter(application=app).values_list("pk", "state"))
    assert states == {first.pk: "done", second.pk: "done"}
    assert applications.inbox(officer, state="done").count == 2
    assert notify.unread_count(citizen) >= 2  # submitted, decided


def test_a_failed_decision_writes_no_event(no_licence: Any, citizen: Any, officer: Any,
                                           monkeypatch: Any) -> None:
    """A decision that fails inside its transaction (here the ledger refuses its entry,
    after the implicit claim and the decision were recorded) leaves no event and no audit
    event behind: the batches are dropped with the transaction."""
    from django.core.exceptions import ValidationError

    from yiwang.industry.applications import integration

    app = submitted(citizen)
    task = applications.open_tasks(app)[0]
    app = applications.decide_task(officer, task.pk, "approve", "", app.row_version)
    second = applications.open_tasks(app)[0]
    events, audited = Event.objects.count(), AuditEvent.objects.count()

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise ValidationError("no")

    monkeypatch.setattr(integration.ledger, "append", refused)
    with pytest.raises(ValidationError):
        applications.decide_task(officer, second.pk, "approve", "", app.row_version)
    assert (Event.objects.count(), AuditEvent.objects.count()) == (events, audited)
    assert Task.objects.get(pk=second.pk).state == "open"
