"""Public facade of the tasks app (后台任务): enqueue work, read results, run and watch workers.

Declare tasks with ``@task`` and ``@periodic`` from this module in your app's ``tasks.py``
(they are defined in ``registry.py``, which other apps may not import; its docstring says
how to write tasks)::

    from yiwang.core.tasks.service import PermanentFailure, periodic, task

    @task(name="licences.issue_licence", max_retries=5)
    def issue_licence(application_id: int) -> None:
        ...

and enqueue them from service functions::

    from yiwang.core.tasks.service import enqueue

    def approve_application(application_id: int) -> None:
        with transaction.atomic():
            ...  # the business write
            enqueue("licences.issue_licence", application_id)

Work never runs inside the request. With the database backend (the default) the job row is
written in the caller's transaction; with Celery the row is written there too and the
message is sent only after the transaction commits. Either way a rolled-back write leaves
no job behind. Jobs run at least once (a lost worker or a retry runs them again): tasks
must be idempotent.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from yiwang.core.tasks import heartbeats, jobs, registry
from yiwang.core.tasks.heartbeats import WorkerStatus
from yiwang.core.tasks.models import Job
from yiwang.core.tasks.registry import PermanentFailure, Task, periodic, task

__all__ = [
    "PermanentFailure",
    "Task",
    "TaskResult",
    "WorkerStatus",
    "enqueue",
    "get_task_result",
    "heartbeat",
    "list_recent",
    "periodic",
    "run_pending",
    "task",
    "worker_status",
]

logger = logging.getLogger("yiwang.tasks")


@dataclass(frozen=True)
class TaskResult:
    """The state of one job as callers and the operations page see it."""

    id: str
    name: str
    status: str  # queued | running | succeeded | failed | dead
    queue: str
    backend: str
    attempts: int
    max_attempts: int
    result: Any
    error: str
    created_at: datetime
    run_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def done(self) -> bool:
        """Finished for good: succeeded, failed permanently, or dead after its retries."""
        return self.status in Job.FINISHED

    @property
    def ok(self) -> bool:
        return self.status == Job.Status.SUCCEEDED

    @classmethod
    def of(cls, job: Job) -> TaskResult:
        return cls(
            id=str(job.id), name=job.name, status=job.status, queue=job.queue,
            backend=job.backend, attempts=job.attempts, max_attempts=job.max_attempts,
            result=job.result, error=job.error, created_at=job.created_at, run_at=job.run_at,
            started_at=job.started_at, finished_at=job.finished_at,
        )


def enqueue(task_or_name: Task[..., Any] | str, *args: Any,
            countdown: float | timedelta = 0, **kwargs: Any) -> str:
    """Queue a run of a registered task; return the job id.

    ``args`` and ``kwargs`` must fit the task's signature and be JSON values, else
    ``TypeError`` is raised here (pass primary keys, not model instances). An unknown name
    raises ``LookupError``. ``countdown`` (seconds or a timedelta) delays the first run.

    The job is written in the current transaction: if it rolls back, the job never existed.
    With Celery the message goes to the broker only after the commit.
    """
    spec = registry.get(task_or_name if isinstance(task_or_name, str) else task_or_name.name)
    if not isinstance(task_or_name, str) and spec is not task_or_name:
        raise LookupError(f"task {spec.name!r} is registered to another function")
    json_args, json_kwargs = spec.check_call(args, kwargs)
    delay = countdown.total_seconds() if isinstance(countdown, timedelta) else float(countdown)
    if delay < 0:
        raise ValueError("countdown must not be negative")
    run_at = timezone.now() + timedelta(seconds=delay)
    backend = settings.YIWANG_TASKS_BACKEND
    immediate = delay == 0
    job = jobs.create(spec, json_args, json_kwargs, backend=backend, run_at=run_at,
                      dispatched=backend == Job.Backend.CELERY and immediate)
    if backend == Job.Backend.CELERY and immediate:
        # Delayed jobs (and retries) are sent by the dispatcher in the workers when due,
        # so the broker never holds long-delayed messages.
        transaction.on_commit(partial(_send_to_celery, job.pk, spec.name, spec.queue))
    return str(job.pk)


def _send_to_celery(job_id: uuid.UUID, name: str, queue: str) -> None:
    from yiwang.core.tasks import celery_app

    try:
        celery_app.send(job_id, name, queue)
    except Exception:
        # The row is committed; the dispatcher of any running Celery worker sends it later.
        logger.exception("job %s (%s): broker unreachable, will be sent by the dispatcher",
                         job_id, name, extra={"job_id": str(job_id), "task": name})
        Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(dispatched_at=None)


def get_task_result(job_id: str | uuid.UUID) -> TaskResult | None:
    """The current state of a job, or ``None`` if there is no such job (or it was pruned)."""
    try:
        key = job_id if isinstance(job_id, uuid.UUID) else uuid.UUID(str(job_id))
    except ValueError:
        return None
    job = Job.objects.filter(pk=key).first()
    return TaskResult.of(job) if job else None


def list_recent(limit: int = 50, *, status: str | None = None, name: str | None = None,
                since: datetime | None = None) -> list[TaskResult]:
    """The most recently created jobs, newest first, optionally filtered."""
    jobs_qs = Job.objects.order_by("-created_at")
    if status:
        jobs_qs = jobs_qs.filter(status=status)
    if name:
        jobs_qs = jobs_qs.filter(name=name)
    if since:
        jobs_qs = jobs_qs.filter(created_at__gte=since)
    return [TaskResult.of(job) for job in jobs_qs[: max(0, min(limit, 1000))]]


def run_pending(limit: int = 100, *, queues: list[str] | None = None,
                isolated: bool = True) -> int:
    """Run up to ``limit`` due jobs of the database backend here; return how many ran.

    Used by the worker loop and by ``yiwang worker --once``. With ``isolated`` (the default)
    each job runs in a child process that is killed at its time limit; ``isolated=False``
    runs jobs in this process (tests inside a transaction, debugging).
    """
    from yiwang.core.tasks.worker import DatabaseWorker

    return DatabaseWorker(queues=queues, isolated=isolated).run_pending(limit)


def heartbeat(worker_id: str | None = None, *, backend: str | None = None,
              jobs_done: int | None = None, stopped: bool = False) -> None:
    """Record that a worker (default: this process) is alive, or that it stopped."""
    heartbeats.beat(worker_id, backend=backend, jobs_done=jobs_done, stopped=stopped)


def worker_status() -> WorkerStatus:
    """Whether a worker of the configured backend sent a heartbeat in the last 30 seconds."""
    return heartbeats.status()
