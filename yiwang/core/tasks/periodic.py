"""The scheduler of periodic jobs, run by every worker on both backends.

Each worker looks for schedules that are due and claims a period with a conditional UPDATE
of ``next_run_at`` (``… WHERE name = ? AND next_run_at = <the value it read>``): of several
workers that saw the same due schedule, one changes the row and enqueues the job, the others
change nothing. So a period fires once however many workers (or Celery nodes) run.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from yiwang.core.tasks import jobs, registry
from yiwang.core.tasks.models import Job, PeriodicSchedule

logger = logging.getLogger("yiwang.tasks")


def first_run(schedule: registry.Schedule, now: datetime) -> datetime:
    """When a newly declared (or re-scheduled) job first fires: intervals at once, daily
    jobs at their next time of day."""
    return now if schedule.every is not None else schedule.next_after(now)


def following(schedule: registry.Schedule, due: datetime, now: datetime) -> datetime:
    """The next due time after a period due at ``due`` fired at ``now``.

    Intervals keep their rhythm (``due + k × every``); periods missed while no worker ran are
    skipped, not replayed.
    """
    if schedule.every is None:
        return schedule.next_after(now)
    step = schedule.every
    periods = int((now - due) / step) + 1
    return due + periods * step


def sync_schedules(now: datetime | None = None) -> None:
    """Create the schedule rows of newly declared periodic jobs; reset changed ones."""
    now = now or timezone.now()
    declared = registry.all_periodic()
    existing = dict(PeriodicSchedule.objects.filter(name__in=declared)
                    .values_list("name", "schedule"))
    for name, job in declared.items():
        described = job.schedule.describe()
        if name not in existing:
            PeriodicSchedule.objects.get_or_create(
                name=name, defaults={"schedule": described,
                                     "next_run_at": first_run(job.schedule, now)},
            )
        elif existing[name] != described:
            PeriodicSchedule.objects.filter(name=name, schedule=existing[name]).update(
                schedule=described, next_run_at=first_run(job.schedule, now),
            )


def claim_period(name: str, seen_due: datetime, now: datetime) -> datetime | None:
    """Claim the period of ``name`` that was due at ``seen_due``; return the next due time,
    or ``None`` if another worker claimed it first."""
    schedule = registry.all_periodic()[name].schedule
    upcoming = following(schedule, seen_due, now)
    won = PeriodicSchedule.objects.filter(name=name, next_run_at=seen_due).update(
        next_run_at=upcoming, last_run_at=now,
    )
    return upcoming if won else None


def fire_due(backend: str, now: datetime | None = None) -> list[uuid.UUID]:
    """Enqueue every periodic job that is due and that this caller wins; return the job ids.

    A period whose previous run is still queued or running is claimed but not enqueued
    again, so a slow job or a busy queue does not pile up copies of itself.
    """
    now = now or timezone.now()
    declared = registry.all_periodic()
    due = list(PeriodicSchedule.objects.filter(name__in=declared, next_run_at__lte=now)
               .values_list("name", "next_run_at", "last_job_id"))
    fired: list[uuid.UUID] = []
    for name, seen_due, last_job_id in due:
        with transaction.atomic():
            upcoming = claim_period(name, seen_due, now)
            if upcoming is None:
                continue
            pending = last_job_id is not None and Job.objects.filter(
                pk=last_job_id, status__in=(Job.Status.QUEUED, Job.Status.RUNNING)
            ).exists()
            if pending:
                logger.warning("periodic %s: previous run %s still pending, period skipped",
                               name, last_job_id, extra={"task": name})
                continue
            job = jobs.create(declared[name].task, [], {}, backend=backend, run_at=now)
            PeriodicSchedule.objects.filter(name=name).update(last_job_id=job.pk)
        fired.append(job.pk)
        logger.info("periodic %s fired as job %s, next at %s", name, job.pk,
                    upcoming.isoformat(), extra={"task": name, "job_id": str(job.pk)})
    return fired
