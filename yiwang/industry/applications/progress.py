"""Following the approval flow: the workflow's ready tasks become inbox rows, and a finished
flow decides the application — on approval the licence is issued through the trust core,
and either way an ``application.decided`` ledger entry (identifiers and hashes only) is
appended in the same transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _

from yiwang.core.audit import service as audit
from yiwang.core.crypto.service import blind_index
from yiwang.industry.applications import clock
from yiwang.industry.applications import integration as ext
from yiwang.industry.applications.common import add_event
from yiwang.industry.applications.links import applicant_link
from yiwang.industry.applications.models import Application, State, Task, TaskState

PLACEHOLDER_DEPARTMENTS = {"", "$matter", "$applicant_department"}


def _department(app: Application, value: str | None) -> str:
    return app.department_code if (value or "") in PLACEHOLDER_DEPARTMENTS else str(value)


@dataclass
class RunPlan:
    """What a step of the flow writes, computed before the write transaction: the flow's
    state, the tasks to open (without the receipt number, known only inside), the rows to
    cancel, and on a finish the outcome and the licence's fields."""

    run: Any
    now: datetime
    version: Any
    open: list[dict[str, Any]] = field(default_factory=list)
    cancel: list[int] = field(default_factory=list)
    #: open tasks that stay open (their flow tasks are still ready)
    kept: list[int] = field(default_factory=list)
    licence: tuple[str, dict[str, Any]] | None = None


def _open_task_ids(app_pk: int) -> dict[str, int]:
    """The application's open and waiting tasks by flow task id, in the tasks' order:
    ``app.tasks.filter(…).values_list(…)`` written out, as every decision reads it."""
    meta = Task._meta
    quote = connection.ops.quote_name
    fields: list[Any] = [meta.get_field(name)
                         for name in ("id", "wf_task_id", "application", "state", "due_at")]
    column = {field.name: quote(str(field.column)) for field in fields}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column['wf_task_id']}, {column['id']} "  # noqa: S608
            f"FROM {quote(meta.db_table)} "
            f"WHERE {column['application']} = %s AND {column['state']} IN (%s, %s) "
            f"ORDER BY {column['due_at']}, {column['id']}",  # Task's Meta.ordering
            [app_pk, TaskState.OPEN.value, TaskState.WAITING.value])
        return {str(wf_id): int(pk) for wf_id, pk in cursor.fetchall()}


def plan_run(app: Application, run: Any, *, now: datetime, version: Any = None,
             fresh: bool = False, decided: int | None = None) -> RunPlan:
    """Plan the rows a flow step writes (``fresh``: the application has no task yet;
    ``decided``: the task this step completes, marked done by the caller — not cancelled)."""
    plan = RunPlan(run=run, now=now, version=version)
    ready = {}
    for info in run.ready:
        item = ext.task_info(info)
        ready[str(item["id"])] = item
    existing = {} if fresh or app.pk is None else _open_task_ids(app.pk)
    plan.cancel = [pk for wf_id, pk in existing.items() if wf_id not in ready and pk != decided]
    plan.kept = [pk for wf_id, pk in existing.items() if wf_id in ready]
    for wf_id, item in ready.items():
        if wf_id in existing:
            continue
        days = int(item.get("days") or 0)
        plan.open.append({
            "wf_task_id": wf_id, "spec": str(item.get("spec") or "")[:64],
            "name": str(item.get("name") or "")[:64],
            "department_code": _department(app, item.get("department")),
            "position_code": str(item.get("position") or "")[:64],
            "countersign_group": str(item.get("countersign_group") or "")[:64],
            "due_at": clock.due_after(now, days) if days else None})
    if run.finished and run.outcome == "approved":
        version = version if version is not None else ext.get_version(app.version_pk)
        plan.version = version
        plan.licence = ext.catalogue.licence_fields(
            version, app.data, context={"application_number": app.number})
    return plan


def write_run(app: Application, plan: RunPlan, *, actor: Any, reason: str = "",
              saved: bool = False) -> None:
    """Inside the transaction: store the flow's state (unless the caller ``saved`` it with
    the application), open the planned tasks, cancel the others; decide when finished."""
    run = plan.run
    app.__dict__.pop("_open_tasks", None)  # what an earlier write of this instance made
    pending: list[str] = []
    if not saved:
        app.workflow_state = run.state
        app.next_timer_at = ext.run_timer(run)
        pending = ["workflow_text", "next_timer_at", "state", "updated_at"]
        if app.row_version:
            pending.append("row_version")
        if not run.finished:  # a finished flow's state is written with the decision
            app.save(update_fields=pending)
    if plan.cancel and not run.finished:  # a decision cancels every open task itself
        Task.objects.filter(pk__in=plan.cancel).update(state=TaskState.CANCELLED)
    created: list[Task] = []
    if plan.open:
        created = Task.objects.bulk_create([Task(
            application=app, **{**item, "due_at": item["due_at"] or app.due_at},
            number=app.number or "", matter_code=app.matter_code,
            matter_name=app.matter_name, applicant_masked=app.applicant_masked)
            for item in plan.open])
    if not run.finished and not plan.kept and all(t.pk for t in created):
        # The application's open tasks are exactly those just made: the answer to this
        # request need not read them back (queries.open_task_rows). Valid until the next
        # write of this instance; due times in UTC, as a read gives them.
        for task in created:
            if task.due_at is not None:
                task.due_at = task.due_at.astimezone(UTC)
        app._open_tasks = sorted(created, key=lambda t: t.pk)  # type: ignore[attr-defined]
    if run.finished:
        decide(app, run.outcome or "rejected", actor=actor, now=plan.now, reason=reason,
               version=plan.version, licence=plan.licence, planned=True, also=pending)


def apply_run(app: Application, run: Any, *, actor: Any, now: datetime,
              reason: str = "", version: Any = None, saved: bool = False) -> None:
    """:func:`plan_run` and :func:`write_run` in one go (inside a transaction: the timers'
    path, which is not a request)."""
    write_run(app, plan_run(app, run, now=now, version=version), actor=actor, reason=reason,
              saved=saved)


LEDGER_PURPOSE = "applications.ledger"


def data_hash(data: Any) -> str:
    """A keyed fingerprint of the application's data for the ledger (review L5): HMAC-SHA256
    under a server key derived for this purpose (``core.crypto.blind_index``, stable across
    data-key rotation), so that nobody reading the ledger can guess small forms (a name, an
    ID number, a date) by hashing candidates offline; the platform can still show that the
    data it holds is the data that was decided."""
    canonical = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return blind_index(canonical, LEDGER_PURPOSE)


def _holder(app: Application) -> Any:
    return app.acting_for or app.applicant


def licence_holder(version: Any, app: Application) -> Any:
    """Whom the licence is issued to: the holder the version's licence mapping names (a
    newborn, a newly registered 个体工商户 — ``catalogue.licence_holder``, which may create
    the registry record, idempotent per receipt number, inside this transaction), else the
    applicant or the enterprise they filed for."""
    named = ext.licence_holder(version, app.data, application_number=app.number or "",
                               applicant=app.applicant)
    return named or _holder(app)


def decide(app: Application, outcome: str, *, actor: Any, now: datetime,
           reason: str = "", version: Any = None,
           licence: tuple[str, dict[str, Any]] | None = None, planned: bool = False,
           also: list[str] | tuple[str, ...] = ()) -> None:
    """Close the application with the flow's outcome (``approved``/``rejected``); the
    licence's fields come ``planned`` (mapped before the transaction) or are mapped here.
    One ``UPDATE`` of the decision's columns and ``also`` (the flow's state, written with
    it) — not the whole row: the data is not encrypted and written again."""
    approved = outcome == "approved"
    licence_id = ""
    if approved:
        version = version if version is not None else ext.get_version(app.version_pk)
        mapped = licence if planned else ext.catalogue.licence_fields(
            version, app.data, context={"application_number": app.number})
        if mapped is not None:
            type_code, fields = mapped
            issued = ext.licences.issue_licence(
                type_code, holder=licence_holder(version, app), fields=fields,
                department_code=app.department_code, actor=actor)
            licence_id = issued.identifier
            ext.publish_licensing(app, version, issued, actor=actor)
    app.state = State.APPROVED if approved else State.REJECTED
    app.decided_at = now
    app.licence_identifier = licence_id
    app.outcome_reason = reason
    app.next_timer_at = None
    app.save(update_fields=sorted({"state", "decided_at", "licence_identifier",
                                   "outcome_reason", "next_timer_at", "updated_at", *also}))
    app.tasks.filter(state__in=[TaskState.OPEN, TaskState.WAITING]).update(
        state=TaskState.CANCELLED)
    ext.ledger.append("application.decided", {
        "application": app.number, "matter": app.matter_code, "version": app.version_pk,
        "department": app.department_code, "outcome": "approved" if approved else "rejected",
        "decided_at": now.isoformat(timespec="seconds"), "data_hmac": data_hash(app.data),
        "licence": licence_id or None})
    title = _("准予办理") if approved else _("不予办理")
    add_event(app, "decided", title, at=now, actor=actor, note=reason)
    audit.record("application.decided", app, actor=actor,
                 detail={"number": app.number, "outcome": outcome, "licence": licence_id})
    body = (_("%(matter)s 已办结,准予办理。") if approved
            else _("%(matter)s 已办结,不予办理,请查看办理意见。")) % {"matter": app.matter_name}
    if licence_id:
        body += _("电子证照已发放到您的证照夹。")
    # By the applicant's key: the notification needs no more of the user (no query).
    ext.notify.notify(app.applicant_id, kind="application.decided",
                      title=_("办件 %(number)s 已办结") % {"number": app.number},
                      body=body, link=applicant_link(app), sms=True)
    refresh_parent(app, now)


def refresh_parent(app: Application, now: datetime) -> None:
    """The parent's state follows its members: decided once all are (approved when all
    were), in review while any is, waiting for a correction while one waits."""
    if app.parent_id is None:
        return
    parent = Application.objects.select_for_update().get(pk=app.parent_id)
    states = list(parent.children.values_list("state", flat=True))
    if not states:
        return
    if all(s in (State.APPROVED, State.REJECTED, State.WITHDRAWN) for s in states):
        # Withdrawn members do not count (review L3): approved when every other member
        # was, withdrawn when all were.
        kept = [s for s in states if s != State.WITHDRAWN]
        if not kept:
            new = State.WITHDRAWN
        else:
            new = State.APPROVED if all(s == State.APPROVED for s in kept) else State.REJECTED
        parent.decided_at = now
    elif State.CORRECTION in states:
        new = State.CORRECTION
    elif State.IN_REVIEW in states or State.APPROVED in states or State.REJECTED in states:
        new = State.IN_REVIEW
    else:
        new = State.SUBMITTED
    if new != parent.state:
        parent.state = new
        parent.save(update_fields=["state", "decided_at", "updated_at"])
        if new in (State.APPROVED, State.REJECTED):
            add_event(parent, "decided", _("“一件事”全部办结"), at=now)
            ext.notify.notify(parent.applicant, kind="application.decided",
                              title=_("“一件事”%(number)s 已全部办结") % {
                                  "number": parent.number},
                              link=applicant_link(parent))
