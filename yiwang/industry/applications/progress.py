"""Following the approval flow: the workflow's ready tasks become inbox rows, and a finished
flow decides the application — on approval the licence is issued through the trust core,
and either way an ``application.decided`` ledger entry (identifiers and hashes only) is
appended in the same transaction."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

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


def apply_run(app: Application, run: Any, *, actor: Any, now: datetime,
              reason: str = "", version: Any = None, saved: bool = False) -> None:
    """Store the flow's new state (unless the caller ``saved`` it with the application);
    open inbox rows for newly ready tasks, cancel rows of tasks no longer ready; decide the
    application when the flow finished."""
    if not saved:
        app.workflow_state = run.state
        app.next_timer_at = ext.run_timer(run)
        app.save(update_fields=["workflow_text", "next_timer_at", "updated_at"])
    ready = {}
    for info in run.ready:
        item = ext.task_info(info)
        ready[str(item["id"])] = item
    existing = {t.wf_task_id: t for t in app.tasks.filter(
        state__in=[TaskState.OPEN, TaskState.WAITING])}
    for wf_id, task in existing.items():
        if wf_id not in ready:
            task.state = TaskState.CANCELLED
            task.save(update_fields=["state"])
    new = []
    for wf_id, item in ready.items():
        if wf_id in existing:
            continue
        days = int(item.get("days") or 0)
        due = clock.due_after(now, days) if days else app.due_at
        new.append(Task(
            application=app, wf_task_id=wf_id, spec=str(item.get("spec") or "")[:64],
            name=str(item.get("name") or "")[:64],
            department_code=_department(app, item.get("department")),
            position_code=str(item.get("position") or "")[:64],
            countersign_group=str(item.get("countersign_group") or "")[:64],
            due_at=due, number=app.number or "", matter_code=app.matter_code,
            matter_name=app.matter_name, applicant_masked=app.applicant_masked))
    if new:
        Task.objects.bulk_create(new)
    if run.finished:
        decide(app, run.outcome or "rejected", actor=actor, now=now, reason=reason,
               version=version)


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
           reason: str = "", version: Any = None) -> None:
    """Close the application with the flow's outcome (``approved``/``rejected``)."""
    approved = outcome == "approved"
    licence_id = ""
    if approved:
        version = version if version is not None else ext.get_version(app.version_pk)
        mapped = ext.catalogue.licence_fields(
            version, app.data, context={"application_number": app.number})
        if mapped is not None:
            type_code, fields = mapped
            licence = ext.licences.issue_licence(
                type_code, holder=licence_holder(version, app), fields=fields,
                department_code=app.department_code, actor=actor)
            licence_id = licence.identifier
    app.state = State.APPROVED if approved else State.REJECTED
    app.decided_at = now
    app.licence_identifier = licence_id
    app.outcome_reason = reason
    app.next_timer_at = None
    app.save()
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
    ext.notify.notify(app.applicant, kind="application.decided",
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
