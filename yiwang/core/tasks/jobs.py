"""The life of a job, shared by both backends: create, claim, run, record, retry, prune.

A job is claimed by a conditional UPDATE that only one worker can win (on PostgreSQL after
``SELECT … FOR UPDATE SKIP LOCKED``, so workers do not queue behind each other's row locks).
The claim is a lease: a worker that dies leaves the job ``running`` until ``locked_until``,
after which another worker claims it again (the run counts as an attempt). Delivery is
therefore at least once; tasks must be idempotent.
"""

from __future__ import annotations

import logging
import random
import traceback
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from yiwang.core import context
from yiwang.core.masking.service import mask_text
from yiwang.core.metrics import TASKS
from yiwang.core.tasks import registry
from yiwang.core.tasks.models import Job

logger = logging.getLogger("yiwang.tasks")

LEASE_MARGIN = timedelta(seconds=60)  # beyond the time limit, before a running job counts as lost
BACKOFF_BASE = 10.0  # seconds before the first retry (± jitter)
BACKOFF_CAP = 3600.0  # never wait longer than an hour between attempts
ERROR_CHARS = 8000

Status = Job.Status


@dataclass(frozen=True)
class Claim:
    """A job a worker holds the lease on: what it needs to run it and report back."""

    id: uuid.UUID
    name: str
    args: list[Any]
    kwargs: dict[str, Any]
    attempt: int
    max_attempts: int
    time_limit: int
    request_id: str = ""


@dataclass(frozen=True)
class Outcome:
    """How one run ended."""

    ok: bool
    result: Any = None
    error: str = ""
    permanent: bool = False


def backoff(attempt: int) -> float:
    """Seconds to wait after failed attempt ``attempt`` (1-based): exponential, with jitter.

    Half the delay is fixed and half random ("equal jitter"), so that jobs that failed
    together (a database restart, an unreachable gateway) do not all retry in the same second.
    """
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempt - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 — jitter, not a secret


def time_limit_of(name: str) -> int:
    """Seconds one run of task ``name`` may take (``YIWANG_TASK_TIME_LIMIT`` if the task is
    not registered in this process)."""
    try:
        return registry.get(name).seconds_allowed
    except LookupError:
        from django.conf import settings

        return int(settings.YIWANG_TASK_TIME_LIMIT)


def create(
    spec: registry.Task[..., Any], args: list[Any], kwargs: dict[str, Any], *,
    backend: str, run_at: datetime | None = None, dispatched: bool = False,
) -> Job:
    """Write a job row in the current transaction (the outbox)."""
    now = timezone.now()
    return Job.objects.create(
        name=spec.name, args=args, kwargs=kwargs, queue=spec.queue, backend=backend,
        max_attempts=spec.max_attempts, run_at=run_at or now, created_at=now,
        dispatched_at=now if dispatched else None,
        request_id=_request_id(),
    )


def _request_id() -> str:
    request_id = context.current().request_id
    return "" if request_id == "-" else request_id[:64]


def _claimable(now: datetime, *, due_only: bool = True) -> Q:
    """Jobs a worker may claim: queued (and due, unless ``due_only`` is false), or running
    on a lost worker (lease expired) with attempts left.

    The Celery path claims without ``due_only``: a message is only sent for a due job, so
    the message itself says the job is due, whatever the clock of the worker that gets it.
    """
    queued = Q(status=Status.QUEUED, run_at__lte=now) if due_only else Q(status=Status.QUEUED)
    lost = Q(status=Status.RUNNING, locked_until__lt=now, attempts__lt=F("max_attempts"))
    return queued | lost


def _take(
    job_id: uuid.UUID, name: str, worker_id: str, now: datetime, condition: Q,
) -> Claim | None:
    limit = time_limit_of(name)
    won = Job.objects.filter(condition, pk=job_id).update(
        status=Status.RUNNING, attempts=F("attempts") + 1, locked_by=worker_id[:200],
        locked_until=now + timedelta(seconds=limit) + LEASE_MARGIN, started_at=now,
    )
    if not won:
        return None
    row = Job.objects.values(
        "args", "kwargs", "attempts", "max_attempts", "request_id"
    ).get(pk=job_id)
    return Claim(id=job_id, name=name, args=row["args"], kwargs=row["kwargs"],
                 attempt=row["attempts"], max_attempts=row["max_attempts"], time_limit=limit,
                 request_id=row["request_id"])


def claim_next(
    worker_id: str, *, backend: str = Job.Backend.DATABASE, queues: list[str] | None = None,
    now: datetime | None = None,
) -> Claim | None:
    """Claim the job that is due first, or return ``None`` when nothing is due."""
    now = now or timezone.now()
    scope = Q(backend=backend) & _claimable(now)
    if queues:
        scope &= Q(queue__in=queues)
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            row = (Job.objects.select_for_update(skip_locked=True).filter(scope)
                   .order_by("run_at").values_list("id", "name").first())
            return _take(row[0], row[1], worker_id, now, _claimable(now)) if row else None
    # SQLite: no row locks. Writers serialise (transaction_mode IMMEDIATE), and the
    # conditional UPDATE claims a row only if it is still claimable, so of several workers
    # that picked the same candidate exactly one sees rowcount 1; the others try the next.
    for job_id, name in Job.objects.filter(scope).order_by("run_at").values_list("id", "name")[:5]:
        claim = _take(job_id, name, worker_id, now, _claimable(now))
        if claim is not None:
            return claim
    return None


def claim_by_id(job_id: uuid.UUID, worker_id: str, now: datetime | None = None) -> Claim | None:
    """Claim one named job (the Celery path); ``None`` if it is done or someone holds it."""
    now = now or timezone.now()
    name = Job.objects.filter(pk=job_id).values_list("name", flat=True).first()
    if name is None:
        return None
    return _take(job_id, name, worker_id, now, _claimable(now, due_only=False))


def execute(claim: Claim) -> Outcome:
    """Run the task function of ``claim`` in this process and catch how it ended.

    The run carries a request context whose id is the enqueuing request's (or the job id),
    so logs and audit events of the task can be traced back to where it came from.
    """
    token = context.begin(claim.request_id or claim.id.hex, "")
    try:
        spec = registry.get(claim.name)
        value = spec.func(*claim.args, **claim.kwargs)
    except registry.PermanentFailure as exc:
        return Outcome(ok=False, error=_describe(exc), permanent=True)
    except Exception as exc:
        return Outcome(ok=False, error=_describe(exc))
    finally:
        context.end(token)
    try:
        return Outcome(ok=True, result=registry.as_json(value, f"result of {claim.name}"))
    except TypeError as exc:
        # The work is done; running it again would not make the result serialisable.
        return Outcome(ok=False, error=str(exc), permanent=True)


def _describe(exc: BaseException) -> str:
    text = "".join(traceback.format_exception(exc))
    return mask_text(text[-ERROR_CHARS:])


def record(claim: Claim, outcome: Outcome) -> float | None:
    """Store the outcome of a run; return the retry delay in seconds if it will be retried.

    Only the holder of the attempt can record it: if the lease expired and another worker
    took the job over, this late outcome is logged and dropped.
    """
    now = timezone.now()
    mine = Job.objects.filter(pk=claim.id, status=Status.RUNNING, attempts=claim.attempt)
    delay: float | None = None
    if outcome.ok:
        status = Status.SUCCEEDED
        changed = mine.update(status=status, result=outcome.result, error="", finished_at=now,
                              locked_until=None)
    elif outcome.permanent or claim.attempt >= claim.max_attempts:
        status = Status.FAILED if outcome.permanent else Status.DEAD
        changed = mine.update(status=status, error=outcome.error, finished_at=now,
                              locked_until=None)
    else:
        status, delay = Status.QUEUED, backoff(claim.attempt)
        changed = mine.update(status=status, error=outcome.error, locked_by="",
                              locked_until=None, dispatched_at=None,
                              run_at=now + timedelta(seconds=delay))
    if not changed:
        logger.warning("job %s (%s) attempt %s: lease lost, outcome dropped",
                       claim.id, claim.name, claim.attempt,
                       extra={"job_id": str(claim.id), "task": claim.name})
        return None
    TASKS.labels(claim.name, "retry" if delay is not None else status).inc()
    log = logger.info if outcome.ok else logger.warning
    log("job %s (%s) attempt %s/%s: %s%s", claim.id, claim.name, claim.attempt,
        claim.max_attempts, status, f", retry in {delay:.0f}s" if delay is not None else "",
        extra={"job_id": str(claim.id), "task": claim.name, "attempt": claim.attempt,
               "outcome": status})
    return delay


def bury_lost(backend: str, now: datetime | None = None) -> int:
    """Give up on running jobs whose lease expired after their last allowed attempt."""
    now = now or timezone.now()
    return Job.objects.filter(
        backend=backend, status=Status.RUNNING, locked_until__lt=now,
        attempts__gte=F("max_attempts"),
    ).update(status=Status.DEAD, finished_at=now, locked_until=None,
             error="the worker running the last attempt was lost (lease expired)")


def release(claim: Claim) -> None:
    """Hand a claimed job back to the queue now (the worker is stopping); undo the attempt."""
    Job.objects.filter(pk=claim.id, status=Status.RUNNING, attempts=claim.attempt).update(
        status=Status.QUEUED, attempts=F("attempts") - 1, locked_by="", locked_until=None,
        run_at=timezone.now(), dispatched_at=None,
    )


def prune(older_than: timedelta) -> int:
    """Delete finished jobs that ended more than ``older_than`` ago; return how many."""
    cutoff = timezone.now() - older_than
    deleted, _ = Job.objects.filter(status__in=Job.FINISHED, finished_at__lt=cutoff).delete()
    return deleted
