"""The embedded worker for real: child processes, and ``python -m yiwang worker`` subprocesses.

These tests commit their rows (transaction=True) so that other processes see them.
"""

from __future__ import annotations

import os
import socket
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from yiwang.core.tasks import service
from yiwang.core.tasks.models import Job, PeriodicSchedule, WorkerHeartbeat
from yiwang.core.tasks.registry import task
from yiwang.core.tasks.service import enqueue, get_task_result

from .conftest import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def result_of(job_id: str) -> service.TaskResult:
    result = get_task_result(job_id)
    assert result is not None
    return result


@pytest.mark.usefixtures("temp_registry")
def test_a_child_process_runs_the_job_and_is_killed_at_the_time_limit():
    @task(name="testing.pid")
    def pid() -> int:
        return os.getpid()

    @task(name="testing.hang", time_limit=1, max_retries=0)
    def hang() -> None:
        while True:  # no signal from inside Python would stop a C call; a kill does
            time.sleep(1)

    pid_job, hang_job = enqueue(pid), enqueue(hang)
    started = time.monotonic()
    assert service.run_pending() == 2
    assert time.monotonic() - started < 5
    child_pid = result_of(pid_job).result
    assert isinstance(child_pid, int) and child_pid != os.getpid()
    hung = result_of(hang_job)
    assert hung.status == "dead" and "time limit of 1s" in hung.error


@pytest.mark.usefixtures("temp_registry")
def test_a_child_that_crashes_is_recorded_as_a_failure():
    @task(name="testing.crash", max_retries=0)
    def crash() -> None:
        os._exit(3)

    job_id = enqueue(crash)
    service.run_pending()
    result = result_of(job_id)
    assert result.status == "dead" and "exited with code 3" in result.error


def test_isolated_runs_refuse_to_start_inside_a_transaction():
    from django.db import transaction

    enqueue("tasks.echo")
    with pytest.raises(RuntimeError, match="inside a transaction"), transaction.atomic():
        service.run_pending()


def test_worker_subprocess_runs_a_job_and_stops_cleanly_on_sigterm(worker_env, start_worker):
    job_id = enqueue("tasks.echo", {"区划": "110101", "n": [1, 2]})
    worker = start_worker(worker_env)
    wait_until(lambda: result_of(job_id).done, 20, "the worker to run the job")
    result = result_of(job_id)
    assert result.ok, worker.output()
    assert result.result["value"] == {"区划": "110101", "n": [1, 2]}
    worker_pid = str(worker.proc.pid)
    # The job ran in a child of the worker, not in the worker itself.
    assert result.result["worker"].rsplit(":", 1)[1] != worker_pid
    assert service.worker_status().alive
    # A job enqueued while the worker waits is picked up at the next poll; a stop signal
    # that arrives while it runs lets it finish.
    second = enqueue("tasks.echo", "second", delay=1.5)
    wait_until(lambda: result_of(second).status == "running", 20, "the second job to start")
    assert worker.stop() == 0, worker.output()
    assert result_of(second).ok
    beat = WorkerHeartbeat.objects.get(pid=worker.proc.pid)
    # Both echo jobs, and any periodic job that fell due meanwhile (intervals fire once
    # when first declared).
    periodic_done = Job.objects.filter(status__in=Job.FINISHED).exclude(
        name="tasks.echo").count()
    assert beat.stopped_at is not None and beat.jobs_done == 2 + periodic_done
    assert not service.worker_status().alive


def test_worker_subprocess_fires_a_periodic_job(worker_env, start_worker):
    now = timezone.now()
    PeriodicSchedule.objects.create(
        name="tasks.prune_jobs", schedule="daily at 03:30 Asia/Shanghai",
        next_run_at=now - timedelta(minutes=1),
    )
    old = Job.objects.create(name="tasks.echo", status="succeeded",
                             finished_at=now - timedelta(days=10))
    worker = start_worker(worker_env)
    wait_until(lambda: Job.objects.filter(name="tasks.prune_jobs", status="succeeded").exists(),
               20, "the periodic prune job")
    assert worker.stop() == 0, worker.output()
    assert not Job.objects.filter(pk=old.pk).exists()
    assert Job.objects.filter(name="tasks.prune_jobs").count() == 1
    row = PeriodicSchedule.objects.get(name="tasks.prune_jobs")
    local = row.next_run_at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert (local.hour, local.minute) == (3, 30) and row.next_run_at > now
    assert row.last_run_at is not None and row.last_run_at >= now


def test_two_workers_share_the_queue_without_running_a_job_twice(worker_env, start_worker):
    ids = [enqueue("tasks.echo", i, delay=0.15) for i in range(16)]
    first = start_worker(worker_env, "--once")
    second = start_worker(worker_env, "--burst")
    assert first.wait() == 0, first.output()
    assert second.wait() == 0, second.output()
    results = [result_of(i) for i in ids]
    assert all(r.ok and r.attempts == 1 for r in results)
    assert [r.result["value"] for r in results] == list(range(16))
    # Both took part (16 × 0.15 s of work outlasts any difference in start-up time).
    runners = set(Job.objects.filter(pk__in=ids).values_list("locked_by", flat=True))
    assert runners == {f"{socket.gethostname()}:{first.proc.pid}",
                       f"{socket.gethostname()}:{second.proc.pid}"}


def test_worker_rejects_an_unknown_queue(worker_env, start_worker):
    worker = start_worker(worker_env, "--once", "--queue", "nosuchqueue")
    assert worker.wait() != 0
    assert "nosuchqueue" in worker.output()
