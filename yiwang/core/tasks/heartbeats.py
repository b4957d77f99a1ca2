"""Worker heartbeats (心跳): each worker writes one every few seconds; /readyz reads them."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from yiwang.core.tasks.models import Job, WorkerHeartbeat

HEARTBEAT_INTERVAL = 10.0  # seconds between heartbeats of a running worker
ALIVE_WITHIN = timedelta(seconds=30)  # a worker silent for longer counts as gone


def identity() -> str:
    """This process as a worker: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class WorkerStatus:
    """What /readyz and the operations page say about the background workers."""

    alive: bool
    backend: str
    last_seen: datetime | None = None
    workers: int = 0
    waiting: int = 0  # jobs that are due and not yet started

    def describe(self) -> str:
        if self.last_seen is None:
            return f"{self.backend}: no worker seen"
        age = int((timezone.now() - self.last_seen).total_seconds())
        if not self.alive:
            return f"{self.backend}: no heartbeat for {age}s"
        return (f"{self.backend}: {self.workers} worker(s) alive, last heartbeat {age}s ago, "
                f"{self.waiting} job(s) waiting")


def beat(
    worker_id: str | None = None, *, backend: str | None = None, jobs_done: int | None = None,
    stopped: bool = False, started: bool = False,
) -> None:
    """Record that worker ``worker_id`` (default: this process) is alive, or has stopped."""
    now = timezone.now()
    values: dict[str, object] = {
        "hostname": socket.gethostname()[:200], "pid": os.getpid(),
        "backend": backend or settings.YIWANG_TASKS_BACKEND, "last_seen": now,
        "stopped_at": now if stopped else None,
    }
    if jobs_done is not None:
        values["jobs_done"] = jobs_done
    if started:
        values["started_at"] = now
    WorkerHeartbeat.objects.update_or_create(worker_id=(worker_id or identity())[:200],
                                             defaults=values)


def status(backend: str | None = None) -> WorkerStatus:
    """Whether a worker of the configured backend has sent a heartbeat lately."""
    backend = backend or settings.YIWANG_TASKS_BACKEND
    now = timezone.now()
    beats = WorkerHeartbeat.objects.filter(backend=backend)
    last_seen = beats.aggregate(last=Max("last_seen"))["last"]
    workers = beats.filter(stopped_at__isnull=True, last_seen__gte=now - ALIVE_WITHIN).count()
    waiting = Job.objects.filter(backend=backend, status=Job.Status.QUEUED,
                                 run_at__lte=now).count() if workers else 0
    return WorkerStatus(alive=workers > 0, backend=backend, last_seen=last_seen,
                        workers=workers, waiting=waiting)


def prune(older_than: timedelta) -> int:
    """Forget workers not seen for ``older_than``."""
    deleted, _ = WorkerHeartbeat.objects.filter(last_seen__lt=timezone.now() - older_than).delete()
    return deleted
