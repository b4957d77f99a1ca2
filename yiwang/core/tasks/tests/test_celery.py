"""A real Celery worker on a real Redis runs our tasks (``yiwang worker``, Celery backend)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from yiwang.core.tasks import service
from yiwang.core.tasks.models import Job, PeriodicSchedule, WorkerHeartbeat
from yiwang.core.tasks.service import enqueue, get_task_result

from .conftest import wait_until

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def celery_backend(settings: Any, redis_url: str) -> Iterator[str]:
    """This process enqueues through Celery on the test Redis."""
    from yiwang.core.tasks import celery_app

    settings.YIWANG_TASKS_BACKEND = "celery"
    settings.REDIS_URL = settings.CELERY_BROKER_URL = redis_url
    celery_app.configure()
    yield redis_url
    settings.CELERY_BROKER_URL = None
    celery_app.configure()


def test_celery_worker_runs_jobs_timers_and_stops_cleanly(celery_backend, worker_env,
                                                          start_worker):
    env = {**worker_env, "REDIS_URL": celery_backend, "YIWANG_TASKS_BACKEND": "celery"}
    now = timezone.now()
    PeriodicSchedule.objects.create(name="tasks.prune_jobs",
                                    schedule="daily at 03:30 Asia/Shanghai",
                                    next_run_at=now - timedelta(minutes=1))
    worker = start_worker(env, "--concurrency", "1")

    job_id = enqueue("tasks.echo", {"事项": "营业执照", "n": 3})
    wait_until(lambda: (r := get_task_result(job_id)) and r.done, 30, "the Celery worker")
    result = get_task_result(job_id)
    assert result is not None and result.ok, worker.output()
    assert result.backend == "celery" and result.attempts == 1
    assert result.result["value"] == {"事项": "营业执照", "n": 3}

    # A delayed job is sent by the workers' dispatcher when due, not held by the broker.
    later = enqueue("tasks.echo", "later", countdown=1)
    assert Job.objects.get(pk=later).dispatched_at is None
    wait_until(lambda: (r := get_task_result(later)) and r.ok, 30, "the delayed job")

    # The periodic job fired once, through the same claim as the embedded worker.
    wait_until(lambda: Job.objects.filter(name="tasks.prune_jobs", status="succeeded").exists(),
               30, "the periodic job")
    assert Job.objects.filter(name="tasks.prune_jobs").count() == 1

    status = service.worker_status()
    assert status.alive and status.backend == "celery", status.describe()

    # A warm shutdown lets the job in hand finish: at start the worker fires every periodic
    # task that has never run (root CA and trust list, OIDC key rotation, status lists …),
    # which on a loaded CI machine can keep it busy for a while.
    assert worker.stop(timeout=90) == 0, worker.output()
    assert WorkerHeartbeat.objects.get(pid=worker.proc.pid).stopped_at is not None
