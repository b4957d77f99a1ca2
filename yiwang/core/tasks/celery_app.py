"""The Celery backend: Celery workers on Redis run the same registered tasks.

There is one Celery task, ``yiwang.run``, which claims a job row and runs the registered
function by name, so task code is written once for both backends and results land in the
same job table. The messages carry only the task name and job id: arguments (which may hold
personal data) stay in the database.

Timers do not use ``celery beat``: a bootstep in every worker's main process runs the same
scheduler as the embedded worker every few seconds (heartbeat, periodic jobs, sending
delayed jobs and retries when due, sending again jobs whose message was lost, recovering
jobs of lost workers). Periods are claimed in the database, so any number of worker nodes
fire each period once — several ``-B`` beats would each fire it — and no node is special.

``yiwang worker`` starts this worker when ``YIWANG_TASKS_BACKEND=celery``; so does
``celery -A yiwang.core.tasks.celery_app worker``.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import django
from django.apps import apps

if not apps.ready:  # started as `celery -A yiwang.core.tasks.celery_app worker`
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.conf.settings")
    django.setup()

# Imported after set-up: the models below need the app registry.
from celery import Celery, bootsteps
from celery.worker import state
from django.conf import settings
from django.db import close_old_connections
from django.db.models import DateTimeField, DurationField, ExpressionWrapper, F, Q, Value
from django.db.models.lookups import GreaterThan
from django.utils import timezone

from yiwang.core.tasks import heartbeats, jobs, periodic, registry
from yiwang.core.tasks.models import Job

logger = logging.getLogger("yiwang.tasks")

BACKEND = Job.Backend.CELERY
TICK_SECONDS = 2.0  # how often each worker's scheduler looks for due work
HARD_LIMIT_MARGIN = 30  # seconds after the soft limit before Celery kills the child
DISPATCH_BATCH = 500
# A queued job still not taken this long after its message was sent is sent again (the
# message was lost, or waits in a backlog; see _redelivery_due). Well above the time a
# message waits in the broker while workers keep up; a lost job waits this long.
REDELIVER_AFTER = timedelta(minutes=5)
REDELIVER_MAX = timedelta(hours=1)  # the longest wait between two sends of a job


def celery_config() -> dict[str, Any]:
    """Celery settings derived from yiwang's settings."""
    limit = int(settings.YIWANG_TASK_TIME_LIMIT)
    return {
        "broker_url": settings.CELERY_BROKER_URL,
        "broker_connection_retry_on_startup": True,
        # Visibility timeout: an unacknowledged message is redelivered after this long, so it
        # must outlast the longest run (acks are late). Retries are not ETA messages.
        "broker_transport_options": {"visibility_timeout": max(3600, 2 * limit)},
        "result_backend": None,
        "task_ignore_result": True,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_soft_time_limit": limit,
        "task_time_limit": limit + HARD_LIMIT_MARGIN,
        "task_default_queue": "default",
        "task_publish_retry_policy": {"max_retries": 2, "interval_start": 0,
                                      "interval_step": 0.5, "interval_max": 1},
        "timezone": settings.TIME_ZONE,
        "enable_utc": True,
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
    }


app = Celery("yiwang")
app.conf.update(celery_config())


def configure() -> None:
    """Re-read the settings (tests that change the broker); closes pooled connections."""
    app.close()
    app.conf.update(celery_config())


@app.task(name="yiwang.run", bind=True)
def run(self: Any, name: str, args: list[Any] | None = None,
        kwargs: dict[str, Any] | None = None, job_id: str | None = None) -> str | None:
    """Run registered task ``name``: the job ``job_id`` (normal path), or a new job for a
    message sent without one (``celery call yiwang.run --args='["tasks.echo", [1]]'``)."""
    worker_id = f"{self.request.hostname or heartbeats.identity()}:{os.getpid()}"
    if job_id is None:
        spec = registry.get(name)
        json_args, json_kwargs = spec.check_call(tuple(args or ()), kwargs or {})
        job_id = str(jobs.create(spec, json_args, json_kwargs, backend=BACKEND,
                                 dispatched=True).pk)
    claim = jobs.claim_by_id(uuid.UUID(job_id), worker_id)
    if claim is None:
        # Done already, or another worker holds it: a duplicate message is harmless.
        logger.info("job %s (%s): not claimable, message dropped", job_id, name,
                    extra={"job_id": job_id, "task": name})
        return None
    jobs.record(claim, jobs.execute(claim))
    return job_id


def send(job_id: uuid.UUID, name: str, queue: str) -> None:
    """Publish the message that makes a Celery worker run job ``job_id``."""
    limit = jobs.time_limit_of(name)
    run.apply_async(args=[name, [], {}, str(job_id)], queue=queue,
                    soft_time_limit=limit, time_limit=limit + HARD_LIMIT_MARGIN)


def _redelivery_due(now: datetime) -> Q:
    """Queued jobs sent long enough ago that their message is presumed lost.

    A queued job whose message a worker received would be running, so a job still queued
    ``REDELIVER_AFTER`` after its send either lost its message (the sender died between the
    commit and the send, or Redis lost it) or waits behind a backlog. It is sent again;
    should both messages arrive, ``jobs.claim_by_id`` drops the second. So that a long
    backlog does not get a duplicate of every waiting job every few minutes, the wait before
    each further send is as long as the job has already waited since it was due, but never
    longer than ``REDELIVER_MAX``: a job due at 0:00 and never taken is sent again at 0:05,
    0:10, 0:20, 0:40, 1:20, then hourly.
    """
    waited = ExpressionWrapper(F("dispatched_at") - F("run_at"), output_field=DurationField())
    silent = ExpressionWrapper(Value(now, output_field=DateTimeField()) - F("dispatched_at"),
                               output_field=DurationField())
    return Q(dispatched_at__lt=now - REDELIVER_AFTER) & (
        Q(dispatched_at__lt=now - REDELIVER_MAX) | Q(GreaterThan(silent, waited))
    )


def dispatch_due(limit: int = DISPATCH_BATCH, *, now: datetime | None = None) -> int:
    """Send the Celery jobs that are due and not yet sent — delayed jobs, retries, jobs whose
    send failed after commit, jobs of lost workers — and send again those whose message is
    presumed lost (see :func:`_redelivery_due`). Returns how many were sent."""
    now = now or timezone.now()
    Job.objects.filter(
        backend=BACKEND, status=Job.Status.RUNNING, locked_until__lt=now,
        attempts__lt=F("max_attempts"),
    ).update(status=Job.Status.QUEUED, locked_by="", locked_until=None, dispatched_at=None)
    due = (Job.objects.filter(Q(dispatched_at__isnull=True) | _redelivery_due(now),
                              backend=BACKEND, status=Job.Status.QUEUED, run_at__lte=now)
           .order_by("run_at").values_list("id", "name", "queue", "dispatched_at")[:limit])
    sent = 0
    for job_id, name, queue, last_sent in due:
        # Of several workers dispatching at once, the one whose UPDATE changes the row sends.
        mine = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED)
        mine = (mine.filter(dispatched_at__isnull=True) if last_sent is None
                else mine.filter(dispatched_at=last_sent))
        if not mine.update(dispatched_at=now):
            continue
        if last_sent is not None:
            logger.warning("job %s (%s): still queued %s after it was sent, sending it again",
                           job_id, name, now - last_sent,
                           extra={"job_id": str(job_id), "task": name})
        try:
            send(job_id, name, queue)
        except Exception:
            Job.objects.filter(pk=job_id).update(dispatched_at=None)
            logger.exception("dispatch of job %s (%s) failed", job_id, name)
            break
        sent += 1
    return sent


class Scheduler(bootsteps.StartStopStep):
    """Heartbeat and timers, in the main process of each worker (not in a pool child, so a
    worker busy with long jobs still reports itself alive and still fires timers)."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker: Any, **kwargs: Any) -> None:
        super().__init__(worker, **kwargs)
        self.tref: Any = None
        self.worker_id = heartbeats.identity()
        self.last_beat = 0.0

    def start(self, worker: Any) -> None:
        periodic.sync_schedules()
        heartbeats.beat(self.worker_id, backend=BACKEND, jobs_done=0, started=True)
        self.last_beat = time.monotonic()
        self.tref = worker.timer.call_repeatedly(TICK_SECONDS, self.tick, (worker,), priority=10)
        logger.info("celery worker %s: scheduler started", self.worker_id)

    def stop(self, worker: Any) -> None:
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None
        try:
            heartbeats.beat(self.worker_id, backend=BACKEND, stopped=True)
        except Exception:
            logger.exception("could not record the worker stop")

    def tick(self, worker: Any) -> None:
        try:
            close_old_connections()
            if time.monotonic() - self.last_beat >= heartbeats.HEARTBEAT_INTERVAL:
                heartbeats.beat(self.worker_id, backend=BACKEND,
                                jobs_done=sum(state.total_count.values()))
                self.last_beat = time.monotonic()
            periodic.fire_due(BACKEND)
            jobs.bury_lost(BACKEND)
            dispatch_due()
        except Exception:  # a timer that raises would stop ticking
            logger.exception("celery worker %s: scheduler tick failed", self.worker_id)


app.steps["worker"].add(Scheduler)


def run_worker(*, queues: list[str], concurrency: int | None = None,
               loglevel: str = "INFO") -> None:
    """Run a Celery worker in this process (``yiwang worker`` with the Celery backend)."""
    # `yiwang worker` has checked the models; Celery would run every check again, the URL
    # configuration included, which a worker does not serve.
    os.environ.setdefault("CELERY_SKIP_CHECKS", "1")
    argv = ["worker", f"--loglevel={loglevel}", "--queues", ",".join(queues),
            "--hostname", f"yiwang-{os.getpid()}@%h", "--without-gossip", "--without-mingle"]
    if concurrency:
        argv += ["--concurrency", str(concurrency)]
    app.worker_main(argv)
