"""The statutory clock (办理时限) on the working calendar (工作日历).

An application accepted at ``accepted_at`` is due ``time_limit_days`` working days later
(the matter's promised days, else its statutory days). While it waits for the applicant's
correction (补正) the clock stops: ``paused_at`` marks the stop, and when the correction
arrives the working days that passed are added to ``due_at`` (and to the open tasks' due
times), and the interval is kept in ``pauses``.

:func:`tick` (the periodic ``applications.tick_clocks``) warns the officials of an
application due within ``WARN_WORKING_DAYS`` working days, marks the ones past due as
overdue and escalates them to the department's lead position, and fires the workflow's
timers (boundary timer events: escalation or warning).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import service as audit
from yiwang.industry.applications import integration as ext
from yiwang.industry.applications.links import official_link
from yiwang.industry.applications.models import (
    ACTIVE_STATES,
    Application,
    Event,
    Task,
    TaskState,
)

logger = logging.getLogger("yiwang.applications")

WARN_WORKING_DAYS = 2
BATCH = 500


def due_after(start: datetime, days: int) -> datetime | None:
    """The end (23:59:59, local time) of the ``days``-th working day after ``start`` — a
    statutory period ends at the end of its last day (民法典 第二百零三条), not at the hour it
    started (review session 2, L6) — or None when there is no time limit."""
    if days <= 0:
        return None
    return end_of_day(ext.workflow.add_working_days(start, days))


def end_of_day(moment: datetime) -> datetime:
    return timezone.localtime(moment).replace(hour=23, minute=59, second=59, microsecond=0)


def paused_working_days(start: datetime, end: datetime) -> int:
    return max(0, int(ext.workflow.working_days_between(start, end)))


def pause(app: Application, now: datetime) -> None:
    """Stop the clock (补正 asked)."""
    if app.paused_at is None:
        app.paused_at = now


def resume(app: Application, now: datetime) -> int:
    """Start the clock again; move ``due_at``, the open tasks' due times and the flow's
    boundary timers by the working days it stood still, and let the moved due time be
    warned (and found overdue) again. Returns those days.

    The pause counts whole working days: the working days after the day it was asked up to
    and including the day it came back (ADR 0023) — asked and returned the same day adds
    none; asked at 17:00 and returned at 09:00 the next working day adds one."""
    if app.paused_at is None:
        return 0
    days = paused_working_days(app.paused_at, now)
    pauses = list(app.pauses or [])
    pauses.append({"from": app.paused_at.isoformat(), "to": now.isoformat(), "days": days})
    app.pauses = pauses
    app.paused_at = None
    if not days:
        return 0
    if app.due_at is not None:
        app.due_at = ext.workflow.add_working_days(app.due_at, days)
        app.warned = False
        app.overdue = False
        for task in app.tasks.filter(state__in=[TaskState.OPEN, TaskState.WAITING],
                                     due_at__isnull=False):
            assert task.due_at is not None
            task.due_at = ext.workflow.add_working_days(task.due_at, days)
            task.save(update_fields=["due_at"])
    if app.next_timer_at is not None:
        app.workflow_state = ext.shift_timers(app.workflow_state, days)
        app.next_timer_at = ext.workflow.add_working_days(app.next_timer_at, days)
    return days


def lead_officials(department_code: str) -> list[Any]:
    """The holders of the department's first position (its head: positions sort head
    first), or, without positions, its first member."""
    members = list(ext.orgs.members_of(department_code)[:50])
    if not members:
        return []
    first = members[0].position_id
    leads = [m.user for m in members if m.position_id == first] if first else [members[0].user]
    return list({u.pk: u for u in leads}.values())


def position_holders(department_code: str, position_code: str) -> list[Any]:
    """The members of the department holding ``position_code``; its lead position's when
    none is named or nobody holds it."""
    if position_code:
        users = [m.user for m in ext.orgs.members_of(department_code)[:200]
                 if m.position is not None and m.position.code == position_code]
        if users:
            return list({u.pk: u for u in users}.values())
    return lead_officials(department_code)


def _officials_of(app: Application) -> list[Any]:
    """Who works on the application now: the claimants of its open tasks, else the
    members of the tasks' departments (a few)."""
    tasks = list(app.tasks.filter(state=TaskState.OPEN).select_related("claimed_by"))
    people = [t.claimed_by for t in tasks if t.claimed_by is not None]
    if not people:
        for code in {t.department_code for t in tasks}:
            people += [m.user for m in ext.orgs.members_of(code)[:10]]
    return list({u.pk: u for u in people}.values())


def _notify_all(users: list[Any], *, kind: str, title: str, body: str, link: str) -> None:
    for user in users:
        ext.notify.notify(user, kind=kind, title=title, body=body, link=link)


def _link(app: Application) -> str:
    return official_link(app)


@transaction.atomic
def _warn(app: Application, now: datetime) -> None:
    if Application.objects.filter(pk=app.pk, warned=False).update(warned=True) == 0:
        return
    Event.objects.create(application=app, at=now, kind="warned", title=_("办理时限预警"),
                         public=False)
    _notify_all(_officials_of(app), kind="application.warning",
                title=_("办件 %(number)s 即将到期") % {"number": app.number},
                body=_("%(matter)s 将于 %(due)s 到期,请及时办理。") % {
                    "matter": app.matter_name,
                    "due": timezone.localtime(app.due_at).strftime("%Y-%m-%d %H:%M")},
                link=_link(app))


@transaction.atomic
def _escalate(app: Application, now: datetime) -> None:
    if Application.objects.filter(pk=app.pk, overdue=False).update(overdue=True,
                                                                   warned=True) == 0:
        return
    Event.objects.create(application=app, at=now, kind="overdue", title=_("已超过办理时限"),
                         public=False)
    audit.record("application.overdue", app, detail={"number": app.number})
    _notify_all(lead_officials(app.department_code) + _officials_of(app),
                kind="application.overdue",
                title=_("办件 %(number)s 已超期") % {"number": app.number},
                body=_("%(matter)s 已超过办理时限,请督办。") % {"matter": app.matter_name},
                link=_link(app))


@transaction.atomic
def _fire_timers(app_pk: int, now: datetime) -> int:
    app = Application.objects.select_for_update().filter(pk=app_pk).first()
    if app is None or app.state not in ACTIVE_STATES or app.paused_at is not None:
        return 0
    version = ext.get_version(app.version_pk)
    run = ext.workflow.fire_timers(ext.version_bpmn(version), app.workflow_state, now)
    app.workflow_state = run.state
    app.next_timer_at = ext.run_timer(run)
    app.save(update_fields=["workflow_text", "next_timer_at"])
    for escalation in run.escalations or []:
        task = app.tasks.filter(wf_task_id=str(escalation.get("task", ""))).first()
        department = task.department_code if task is not None else app.department_code
        users = position_holders(department, escalation.get("to_position") or "")
        action = str(escalation.get("action") or "escalate")
        name = task.name if task is not None else ""
        Event.objects.create(application=app, at=now, kind=f"timer.{action}",
                             title=_("环节超时提醒"), public=False)
        _notify_all(users, kind=f"application.{action}",
                    title=_("办件 %(number)s 环节超时") % {"number": app.number},
                    body=_("“%(task)s”环节已超过设定时间。") % {"task": name},
                    link=_link(app))
    return len(run.escalations or [])


def tick(now: datetime | None = None) -> dict[str, int]:
    """Warnings, overdue escalations and workflow timers due at ``now``; idempotent (each
    application is warned and escalated once)."""
    now = now or timezone.now()
    warn_before = ext.workflow.add_working_days(now, WARN_WORKING_DAYS)
    running = Application.objects.filter(state__in=ACTIVE_STATES, paused_at__isnull=True)
    counts = {"warned": 0, "overdue": 0, "timers": 0}
    for app in running.filter(due_at__lt=now, overdue=False).order_by("due_at")[:BATCH]:
        _escalate(app, now)
        counts["overdue"] += 1
    for app in running.filter(due_at__lte=warn_before, due_at__gte=now,
                              warned=False).order_by("due_at")[:BATCH]:
        _warn(app, now)
        counts["warned"] += 1
    pks = list(running.filter(next_timer_at__lte=now).values_list("pk", flat=True)[:BATCH])
    for pk in pks:
        try:
            counts["timers"] += _fire_timers(pk, now)
        except Exception:  # one broken flow must not stop the others' clocks
            logger.exception("timers of application %s failed", pk)
    return counts


def overdue_tasks_count(department_code: str, now: datetime | None = None) -> int:
    """Open tasks of a department past their due time (capped, for the inbox header)."""
    now = now or timezone.now()
    qs = Task.objects.filter(department_code=department_code, state=TaskState.OPEN,
                             due_at__lt=now).values("pk")[:1000]
    return len(qs)
