"""The officials' side: claim a task (签收), decide it (approve / reject, countersign parties
each deciding their own task), or ask the applicant for a correction (补正, pausing the
clock). Claiming first is not required: acting on an unclaimed task claims it for the
official who acts, and the timeline and audit trail record that implicit claim (ADR 0023).
Every call carries the ``row_version`` the official saw; of two officials acting on
one application at once one wins and the other is told plainly (see :func:`.common.swap_version`).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import service as audit
from yiwang.industry.applications import access, clock, lifecycle, progress
from yiwang.industry.applications import integration as ext
from yiwang.industry.applications.common import (
    add_event,
    error,
    events_together,
    locked,
    official_label,
    stale,
    swap_version,
)
from yiwang.industry.applications.links import correction_link
from yiwang.industry.applications.models import Application, State, Task, TaskState

REASON_MAX = 1000
DECISIONS = ("approve", "reject")


# What a claim does not read of the application: its encrypted columns (each decrypted as
# the row is read), the form data and the flow's state.
_NOT_FOR_CLAIM = ("data_text", "workflow_text", "outcome_reason")
_read_sql: dict[tuple[str, bool], tuple[str, list[Any], list[str], list[Any], list[str]]] = {}


def _prepared_read(light: bool) -> tuple[str, list[Any], list[str], list[Any], list[str]]:
    """``Task.objects.select_related("application").filter(pk=…)`` (``light``: deferring
    the application's :data:`_NOT_FOR_CLAIM`) written out once per process, with each
    column's converters as the ORM's compiler would apply them (dates, decryption)."""
    key = (connection.alias, light)
    prepared = _read_sql.get(key)
    if prepared is None:
        quote = connection.ops.quote_name
        tasks: list[Any] = list(Task._meta.concrete_fields)
        apps: list[Any] = [f for f in Application._meta.concrete_fields
                           if not (light and f.attname in _NOT_FOR_CLAIM)]
        t, a = quote(Task._meta.db_table), quote(Application._meta.db_table)
        columns = [f"{t}.{quote(f.column)}" for f in tasks] + [
            f"{a}.{quote(f.column)}" for f in apps]
        sql = (f"SELECT {', '.join(columns)} FROM {t} INNER JOIN {a} "  # noqa: S608
               f"ON {a}.{quote('id')} = {t}.{quote('application_id')} "
               f"WHERE {t}.{quote('id')} = %s")
        converters = []
        for field, table in [(f, Task._meta.db_table) for f in tasks] + [
                (f, Application._meta.db_table) for f in apps]:
            col = field.get_col(table)
            converters.append((connection.ops.get_db_converters(col)
                               + col.get_db_converters(connection), col))
        prepared = _read_sql[key] = (sql, tasks, [f.attname for f in tasks], converters,
                                     [f.attname for f in apps])
    return prepared


def _task(task_id: int | str, *, with_application: bool = False,
          light: bool = False) -> Task:
    try:
        pk = int(task_id)
    except (TypeError, ValueError):
        pk = 0
    if not with_application:
        task = Task.objects.filter(pk=pk).first()
        if task is None:
            raise error(_("找不到该待办任务。"), "task")
        return task
    # The task and its application in one query, as select_related reads them, but not
    # compiled by the ORM on every claim and decision.
    sql, tasks, task_names, converters, app_names = _prepared_read(light)
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk])
        row = cursor.fetchone()
    if row is None:
        raise error(_("找不到该待办任务。"), "task")
    values = list(row)
    for i, (functions, col) in enumerate(converters):
        for convert in functions:
            values[i] = convert(values[i], col, connection)
    n = len(tasks)
    task = Task.from_db(connection.alias, task_names, values[:n])
    app = Application.from_db(connection.alias, app_names, values[n:])
    Task._meta.get_field("application").set_cached_value(task, app)
    return task


def _check_actor(user: Any, task: Task) -> None:
    if not access.may_act_on_task(user, task):
        raise PermissionDenied("not this task's department or position")


def _check_open(task: Task, user: Any) -> None:
    if task.state == TaskState.WAITING:
        raise error(_("该办件正在等待申请人补正,补正后才能继续办理。"), "waiting")
    if task.state != TaskState.OPEN:
        raise error(_("该任务已办结或已取消。"), "task_closed")
    if task.claimed_by_id and task.claimed_by_id != user.pk:
        raise error(_("该任务已由 %(name)s 签收,您不能办理。") % {
            "name": official_label(task.claimed_by)}, "claimed")


def _open_task(task_pk: int, user: Any) -> Task:
    task = Task.objects.select_related("claimed_by").get(pk=task_pk)
    _check_open(task, user)
    return task


def _take(task: Task, user: Any, **changes: Any) -> None:
    """Inside the transaction: the conditional update of an open task not claimed by
    another official (the checks were made before; should the task have changed since,
    the reason is read again and told). Written out, not compiled by the ORM each time;
    the values prepared by their fields as ``update()`` prepares them."""
    meta = Task._meta
    quote = connection.ops.quote_name
    sets, params = [], []
    for name, value in changes.items():
        field: Any = meta.get_field(name)  # identifiers from the model, never from input
        sets.append(f"{quote(str(field.column))} = %s")
        params.append(field.get_db_prep_save(getattr(value, "pk", value), connection))
    table, pk, state, claimed = (quote(meta.db_table), quote(str(meta.pk.column)),
                                 quote("state"), quote("claimed_by_id"))
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {', '.join(sets)} WHERE {pk} = %s "  # noqa: S608
                       f"AND {state} = %s AND ({claimed} IS NULL OR {claimed} = %s)",
                       [*params, task.pk, TaskState.OPEN.value, user.pk])
        done = cursor.rowcount
    if not done:
        _open_task(task.pk, user)
        raise stale()


def _read(user: Any, task_id: int | str, expected_version: int | None, *,
          light: bool = False) -> tuple[Task, Application, int]:
    """Before the transaction: the task (one the official may act on, open, not another's)
    and its application as they stand (``light``: without its encrypted columns), and the
    version the write will require."""
    task = _task(task_id, with_application=True, light=light)
    _check_actor(user, task)
    app = task.application  # read with the task, one query
    expected = app.row_version if expected_version is None else expected_version
    if expected != app.row_version:
        raise stale()
    _check_open(task, user)  # as just read; _take's conditional update checks it again
    return task, app, expected


def claim_task(user: Any, task_id: int | str, expected_version: int | None) -> Task:
    """Claim an open task of one's department (and position): it is then one's own."""
    task, app, expected = _read(user, task_id, expected_version, light=True)
    now = timezone.now()
    with transaction.atomic():
        # A submitted application goes into review with the version's bump, in one UPDATE.
        swap_version(app.pk, expected,
                     start_review=now if app.state == State.SUBMITTED else None)
        _take(task, user, claimed_by=user)
        if app.state == State.SUBMITTED:
            app.state = State.IN_REVIEW
        add_event(app, "claimed", _("审查中:%(task)s") % {"task": task.name}, at=now,
                  actor=user, actor_label=official_label(user))
        audit.record("application.task_claimed", app, actor=user,
                     detail={"number": app.number, "task": task.pk})
        progress.refresh_parent(app, now)
    task.claimed_by = user
    return task


def _claim_implicitly(app: Application, task: Task, user: Any, now: Any) -> None:
    """Deciding (or asking for a correction on) an unclaimed task claims it first — as
    mature case systems do, one click for the common case — and the history says so
    (review L8): a ``claimed`` event noting the implicit claim, and its audit event."""
    add_event(app, "claimed", _("审查中:%(task)s") % {"task": task.name}, at=now, actor=user,
              actor_label=official_label(user), note=_("办理时自动签收"), public=True)
    audit.record("application.task_claimed", app, actor=user,
                 detail={"number": app.number, "task": task.pk, "implicit": True})


def _reason(reason: str, *, required: bool) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise error(_("请填写理由。"), "reason", "reason")
    if len(reason) > REASON_MAX:
        raise error(_("理由不能超过 %(n)d 个字。") % {"n": REASON_MAX}, "reason", "reason")
    return reason


def decide_task(user: Any, task_id: int | str, outcome: str, reason: str,
                expected_version: int | None) -> Application:
    """Approve or reject one task (``outcome`` ``approve``/``reject``; a reason is required
    to reject). The flow moves on: the next tasks open, or the application is decided (on
    approval the licence is issued and the ledger written, in this transaction).

    The flow's next state, the next tasks' due times and the licence's fields are computed
    from the application as read, before the transaction; the transaction's compare-and-swap
    on ``row_version`` makes sure that is still the application it writes."""
    if outcome not in DECISIONS:
        raise error(_("办理结果只能是准予或不予。"), "outcome", "outcome")
    reason = _reason(reason, required=outcome == "reject")
    task, app, expected = _read(user, task_id, expected_version)
    if app.state not in (State.SUBMITTED, State.IN_REVIEW):
        raise error(_("该办件当前状态不能办理。"), "state")
    now = timezone.now()
    version = ext.get_version(app.version_pk)
    run = ext.workflow.complete(ext.version_bpmn(version), app.workflow_state,
                                task.wf_task_id, outcome=outcome, data=app.data, now=now)
    if run.finished and run.outcome == "approved" and app.fee_fen and app.fee_paid_at is None:
        # 先缴费后发证: the approval that ends the flow issues the licence and closes the
        # application; until the fee is paid the earlier steps may go on, this one waits
        lapsed = (_("缴款单已过期未缴,可在本页重新开具并通知申请人。")
                  if lifecycle.fee_order_lapsed(app) else "")
        raise error(_("申请人尚未缴纳本事项的费用(¥%(amount)s),缴费到账后才能作出准予决定并办结。"
                      ) % {"amount": f"{app.fee_fen / 100:.2f}"} + lapsed, "fee_unpaid")
    plan = progress.plan_run(app, run, now=now, version=version, decided=task.pk)
    with transaction.atomic(), audit.together(), events_together():
        swap_version(app.pk, expected)
        if task.claimed_by_id is None:
            _claim_implicitly(app, task, user, now)
        _take(task, user, state=TaskState.DONE, outcome=outcome, claimed_by=user,
              done_by=user, done_at=now)
        app.row_version = expected + 1
        if app.state == State.SUBMITTED:
            app.state = State.IN_REVIEW
        title = (_("%(task)s:同意") if outcome == "approve" else _("%(task)s:不同意")) % {
            "task": task.name}
        add_event(app, "task_decided", title, at=now, actor=user,
                  actor_label=official_label(user), note=reason)
        audit.record("application.task_decided", app, actor=user,
                     detail={"number": app.number, "task": task.pk, "outcome": outcome})
        progress.write_run(app, plan, actor=user, reason=reason)
    return app


@transaction.atomic
def request_correction(user: Any, task_id: int | str, reason: str,
                       expected_version: int | None, *,
                       fields: list[str] | None = None) -> Application:
    """Ask the applicant to correct the application (补正), saying what and why: the clock
    stops until the correction arrives; the task waits, still claimed."""
    reason = _reason(reason, required=True)
    task = _task(task_id)
    _check_actor(user, task)
    swap_version(task.application_id, expected_version)
    app = locked(task.application_id)
    task = _open_task(task.pk, user)
    if app.state not in (State.SUBMITTED, State.IN_REVIEW):
        raise error(_("该办件当前状态不能要求补正。"), "state")
    now = timezone.now()
    clock.pause(app, now)
    app.state = State.CORRECTION
    app.save(update_fields=["state", "paused_at", "updated_at"])
    if task.claimed_by_id is None:
        _claim_implicitly(app, task, user, now)
        Task.objects.filter(pk=task.pk).update(claimed_by=user)
    app.tasks.filter(state=TaskState.OPEN).update(state=TaskState.WAITING)
    note = reason
    if fields:
        note += "\n" + _("需补正:%(fields)s") % {"fields": "、".join(str(f) for f in fields)}
    add_event(app, "correction", _("需要补正"), at=now, actor=user,
              actor_label=official_label(user), note=note)
    audit.record("application.correction_requested", app, actor=user,
                 detail={"number": app.number, "task": task.pk})
    ext.notify.notify(app.applicant, kind="application.correction",
                      title=_("办件 %(number)s 需要补正") % {"number": app.number},
                      body=reason, link=correction_link(app), sms=True)
    progress.refresh_parent(app, now)
    return app
