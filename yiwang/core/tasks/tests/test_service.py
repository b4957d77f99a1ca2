"""Enqueue, outbox, retries, leases, periodic jobs and worker status, through the service."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from yiwang.core import context
from yiwang.core.tasks import jobs, periodic, service
from yiwang.core.tasks.models import Job, PeriodicSchedule, WorkerHeartbeat
from yiwang.core.tasks.registry import PermanentFailure, Schedule, task
from yiwang.core.tasks.service import enqueue, get_task_result, run_pending
from yiwang.core.tasks.worker import DatabaseWorker

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("temp_registry")]

CALLS: Counter[str] = Counter()


@pytest.fixture
def flaky():
    """A task that fails its first ``failures`` runs for each token."""
    CALLS.clear()

    @task(name="testing.flaky", max_retries=2)
    def flaky_task(token: str, failures: int) -> str:
        CALLS[token] += 1
        if CALLS[token] <= failures:
            raise RuntimeError(f"gateway down ({token} run {CALLS[token]})")
        return f"done after {CALLS[token]}"

    return flaky_task


def make_due(job_id: str) -> None:
    Job.objects.filter(pk=job_id).update(run_at=timezone.now() - timedelta(seconds=1))


def test_enqueue_writes_a_queued_job_that_the_worker_runs():
    job_id = enqueue("tasks.echo", {"城市": "示例市"})
    queued = get_task_result(job_id)
    assert queued is not None
    assert (queued.status, queued.done, queued.attempts, queued.backend) == (
        "queued", False, 0, "database")
    assert run_pending(isolated=False) == 1
    done = get_task_result(job_id)
    assert done is not None and done.ok and done.done
    assert done.result["value"] == {"城市": "示例市"}
    assert done.attempts == 1 and done.finished_at is not None


def test_enqueue_accepts_the_task_object_and_a_countdown():
    from yiwang.core.tasks.tasks import echo

    job_id = enqueue(echo, 1, countdown=timedelta(minutes=5))
    assert run_pending(isolated=False) == 0  # not due yet
    job = Job.objects.get(pk=job_id)
    assert timedelta(minutes=4) < job.run_at - timezone.now() <= timedelta(minutes=5)


def test_enqueue_rejects_bad_arguments_at_the_call_site():
    with pytest.raises(TypeError, match=r"tasks\.echo argument 0: datetime"):
        enqueue("tasks.echo", timezone.now())
    with pytest.raises(TypeError, match=r"tasks\.echo argument 'delay': Decimal"):
        enqueue("tasks.echo", delay=Decimal(1))
    with pytest.raises(TypeError, match=r"tasks\.echo.*too many positional"):
        enqueue("tasks.echo", 1, 2, 3)
    with pytest.raises(LookupError):
        enqueue("tasks.nope")
    with pytest.raises(ValueError, match="negative"):
        enqueue("tasks.echo", countdown=-1)
    assert not Job.objects.exists()


def test_job_written_in_a_rolled_back_transaction_never_existed():
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        job_id = enqueue("tasks.echo", "lost")
        assert Job.objects.filter(pk=job_id).exists()  # visible inside the transaction
        raise Abort
    assert not Job.objects.filter(pk=job_id).exists()
    assert run_pending(isolated=False) == 0


def test_job_keeps_the_request_id_and_runs_under_it():
    seen: list[str] = []

    @task(name="testing.context")
    def remember() -> None:
        seen.append(context.current().request_id)

    token = context.begin("req-abc123", "10.0.0.1")
    try:
        job_id = enqueue("testing.context")
    finally:
        context.end(token)
    run_pending(isolated=False)
    assert Job.objects.get(pk=job_id).request_id == "req-abc123"
    assert seen == ["req-abc123"]


def test_failures_are_retried_with_backoff_then_succeed(flaky):
    job_id = enqueue(flaky, "a", 1)
    before = timezone.now()
    run_pending(isolated=False)
    job = Job.objects.get(pk=job_id)
    assert job.status == "queued" and job.attempts == 1
    assert "gateway down (a run 1)" in job.error
    # First retry waits between half and all of BACKOFF_BASE seconds.
    wait = (job.run_at - before).total_seconds()
    assert jobs.BACKOFF_BASE / 2 - 0.5 <= wait <= jobs.BACKOFF_BASE + 0.5
    assert run_pending(isolated=False) == 0  # not due again yet
    make_due(job_id)
    run_pending(isolated=False)
    result = get_task_result(job_id)
    assert result is not None
    assert (result.status, result.attempts, result.result) == ("succeeded", 2, "done after 2")
    assert result.error == ""


def test_a_job_that_keeps_failing_ends_dead_after_its_retries(flaky):
    job_id = enqueue(flaky, "b", 99)  # max_retries=2: three attempts
    for _ in range(3):
        make_due(job_id)
        run_pending(isolated=False)
    job = Job.objects.get(pk=job_id)
    assert (job.status, job.attempts, CALLS["b"]) == ("dead", 3, 3)
    assert "gateway down (b run 3)" in job.error
    make_due(job_id)
    assert run_pending(isolated=False) == 0  # the dead letter stays put


def test_permanent_failure_is_not_retried():
    @task(name="testing.reject", max_retries=5)
    def reject(case_id: int) -> None:
        raise PermanentFailure(f"case {case_id} was withdrawn")

    job_id = enqueue(reject, 7)
    run_pending(isolated=False)
    job = Job.objects.get(pk=job_id)
    assert (job.status, job.attempts) == ("failed", 1)
    assert "case 7 was withdrawn" in job.error


def test_a_result_that_is_not_json_fails_the_job():
    @task(name="testing.bad_result")
    def bad_result() -> object:
        return {"when": timezone.now()}

    job_id = enqueue(bad_result)
    run_pending(isolated=False)
    job = Job.objects.get(pk=job_id)
    assert job.status == "failed" and "result of testing.bad_result" in job.error


def test_errors_are_masked_in_the_job_record():
    @task(name="testing.leaky", max_retries=0)
    def leaky() -> None:
        raise ValueError("no match for 110101199003074258")

    job_id = enqueue(leaky)
    run_pending(isolated=False)
    assert "110101199003074258" not in Job.objects.get(pk=job_id).error


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    for attempt, ceiling in [(1, 10), (2, 20), (3, 40), (4, 80)]:
        delays = [jobs.backoff(attempt) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len({round(d, 3) for d in delays}) > 50  # jittered, not a constant
    assert all(jobs.BACKOFF_CAP / 2 <= jobs.backoff(30) <= jobs.BACKOFF_CAP for _ in range(50))


def test_an_inline_run_is_stopped_at_its_time_limit():
    @task(name="testing.slow", time_limit=1, max_retries=0)
    def slow() -> None:
        time.sleep(10)

    job_id = enqueue(slow)
    started = time.monotonic()
    run_pending(isolated=False)
    assert time.monotonic() - started < 5
    job = Job.objects.get(pk=job_id)
    assert job.status == "dead" and "TimeLimitExceeded" in job.error


def test_a_job_whose_worker_died_is_taken_over_after_the_lease(flaky):
    job_id = enqueue(flaky, "again", 0)
    claim = jobs.claim_next("host-a:1")
    assert claim is not None and claim.attempt == 1
    # Worker A dies. While its lease runs, nobody else may take the job.
    assert jobs.claim_next("host-b:2") is None
    Job.objects.filter(pk=job_id).update(locked_until=timezone.now() - timedelta(seconds=1))
    worker_b = DatabaseWorker(isolated=False, worker_id="host-b:2")
    assert worker_b.run_pending() == 1
    job = Job.objects.get(pk=job_id)
    assert (job.status, job.attempts, job.locked_by) == ("succeeded", 2, "host-b:2")
    assert CALLS["again"] == 1  # A never ran it here; B did
    # A's late outcome is dropped: the attempt is no longer its own.
    assert jobs.record(claim, jobs.Outcome(ok=False, error="late")) is None
    assert Job.objects.get(pk=job_id).status == "succeeded"


def test_a_lost_last_attempt_makes_the_job_dead():
    job_id = enqueue("tasks.echo", "x")  # max_retries=0: one attempt
    assert jobs.claim_next("host-a:1") is not None
    Job.objects.filter(pk=job_id).update(locked_until=timezone.now() - timedelta(seconds=1))
    run_pending(isolated=False)
    job = Job.objects.get(pk=job_id)
    assert job.status == "dead" and "lost" in job.error


def test_two_claimers_never_get_the_same_job():
    ids = {enqueue("tasks.echo", i) for i in range(3)}
    claims = [jobs.claim_next(f"w{i}") for i in range(4)]
    taken = [str(c.id) for c in claims if c is not None]
    assert sorted(taken) == sorted(ids)
    assert claims[3] is None


def test_queues_separate_work():
    @task(name="testing.report", queue="reports")
    def report() -> str:
        return "ok"

    report_id = enqueue(report)
    echo_id = enqueue("tasks.echo")
    assert service.run_pending(queues=["default"], isolated=False) == 1
    assert get_task_result(echo_id).ok  # type: ignore[union-attr]
    assert get_task_result(report_id).status == "queued"  # type: ignore[union-attr]
    assert service.run_pending(queues=["reports"], isolated=False) == 1


def _named(job_ids, name):  # type: ignore[no-untyped-def]
    """The jobs among ``job_ids`` of task ``name`` (other apps' periodic tasks fire too)."""
    return [i for i in job_ids if Job.objects.filter(pk=i, name=name).exists()]


def test_a_period_fires_once_however_many_workers_look():
    @task(name="testing.tick")
    def tick() -> None: ...

    from yiwang.core.tasks.registry import _PERIODIC, Periodic

    _PERIODIC["testing.tick"] = Periodic(task=tick, schedule=Schedule(every=timedelta(minutes=5)))
    now = timezone.now()
    periodic.sync_schedules(now)
    row = PeriodicSchedule.objects.get(name="testing.tick")
    assert row.next_run_at == now  # intervals fire once when first declared
    # Two workers read the same due schedule; only one wins the conditional UPDATE.
    assert periodic.claim_period("testing.tick", row.next_run_at, now) is not None
    assert periodic.claim_period("testing.tick", row.next_run_at, now) is None
    # Through fire_due: the period now due is fired by the first worker only.
    later = now + timedelta(minutes=5, seconds=1)
    first = _named(periodic.fire_due("database", later), "testing.tick")
    second = _named(periodic.fire_due("database", later), "testing.tick")
    assert len(first) == 1 and second == []
    assert Job.objects.filter(name="testing.tick").count() == 1
    row.refresh_from_db()
    assert row.next_run_at == now + timedelta(minutes=10)
    assert row.last_job_id == first[0]


def test_a_period_is_skipped_while_the_previous_run_is_pending():
    @task(name="testing.slowtick")
    def slowtick() -> None: ...

    from yiwang.core.tasks.registry import _PERIODIC, Periodic

    _PERIODIC["testing.slowtick"] = Periodic(task=slowtick,
                                             schedule=Schedule(every=timedelta(seconds=10)))
    now = timezone.now()
    periodic.sync_schedules(now)
    name = "testing.slowtick"
    assert len(_named(periodic.fire_due("database", now), name)) == 1
    assert _named(periodic.fire_due("database", now + timedelta(seconds=11)), name) == []
    assert Job.objects.filter(name=name).count() == 1
    run_pending(isolated=False)
    assert len(_named(periodic.fire_due("database", now + timedelta(seconds=21)), name)) == 1


def test_a_changed_schedule_is_reset():
    now = timezone.now()
    PeriodicSchedule.objects.create(name="tasks.prune_jobs", schedule="every 60s",
                                    next_run_at=now + timedelta(days=30))
    periodic.sync_schedules(now)
    row = PeriodicSchedule.objects.get(name="tasks.prune_jobs")
    assert row.schedule == "daily at 03:30 Asia/Shanghai"
    assert now < row.next_run_at <= now + timedelta(days=1)


def test_prune_jobs_keeps_a_week_of_history():
    now = timezone.now()
    old = Job.objects.create(name="tasks.echo", status="succeeded",
                             finished_at=now - timedelta(days=8))
    recent = Job.objects.create(name="tasks.echo", status="dead",
                                finished_at=now - timedelta(days=6))
    waiting = Job.objects.create(name="tasks.echo", created_at=now - timedelta(days=30))
    from yiwang.core.tasks.tasks import prune_jobs

    assert prune_jobs()["jobs"] == 1
    assert set(Job.objects.values_list("pk", flat=True)) == {recent.pk, waiting.pk}
    assert not Job.objects.filter(pk=old.pk).exists()


def test_worker_status_follows_heartbeats():
    status = service.worker_status()
    assert not status.alive and status.describe() == "database: no worker seen"
    service.heartbeat("host-a:1", backend="database", jobs_done=3)
    enqueue("tasks.echo")
    status = service.worker_status()
    assert status.alive and status.workers == 1 and status.waiting == 1
    assert "1 worker(s) alive" in status.describe()
    # Silent for longer than the window: gone.
    WorkerHeartbeat.objects.update(last_seen=timezone.now() - timedelta(minutes=2))
    status = service.worker_status()
    assert not status.alive and "no heartbeat for 120s" in status.describe()
    # A worker that said goodbye is not alive, however recent.
    service.heartbeat("host-a:1", backend="database", stopped=True)
    assert not service.worker_status().alive
    # Heartbeats of the other backend do not count.
    service.heartbeat("host-c:9", backend="celery")
    assert not service.worker_status().alive


def test_readiness_reports_the_worker():
    from yiwang.core.health.service import readiness

    assert readiness()["worker"]["ok"] is False
    service.heartbeat(backend="database")
    assert readiness()["worker"]["ok"] is True


def test_list_recent_newest_first_and_filtered():
    first = enqueue("tasks.echo", 1)
    second = enqueue("tasks.echo", 2)
    Job.objects.filter(pk=first).update(created_at=timezone.now() - timedelta(minutes=1))
    assert [r.id for r in service.list_recent()] == [second, first]
    assert service.list_recent(status="succeeded") == []
    assert [r.id for r in service.list_recent(limit=1)] == [second]
    assert get_task_result("not-a-uuid") is None


def test_celery_backend_sends_only_after_commit(settings, monkeypatch,
                                                django_capture_on_commit_callbacks):
    settings.YIWANG_TASKS_BACKEND = "celery"
    sent: list[tuple[str, str]] = []
    import yiwang.core.tasks.celery_app as celery_app

    monkeypatch.setattr(celery_app, "send", lambda job_id, name, queue: sent.append(
        (str(job_id), name)))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job_id = enqueue("tasks.echo", "hi")
        assert sent == []  # nothing leaves before the commit
    assert len(callbacks) == 1
    assert sent == [(job_id, "tasks.echo")]
    job = Job.objects.get(pk=job_id)
    assert job.backend == "celery" and job.dispatched_at is not None
    # Delayed jobs are left to the dispatcher, which sends them when due.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        later = enqueue("tasks.echo", "later", countdown=60)
    assert callbacks == [] and Job.objects.get(pk=later).dispatched_at is None


def test_celery_send_failure_leaves_the_job_for_the_dispatcher(
        settings, monkeypatch, django_capture_on_commit_callbacks):
    settings.YIWANG_TASKS_BACKEND = "celery"
    import yiwang.core.tasks.celery_app as celery_app

    def broker_down(*args: object) -> None:
        raise ConnectionError("redis is down")

    monkeypatch.setattr(celery_app, "send", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        job_id = enqueue("tasks.echo", "hi")
    assert Job.objects.get(pk=job_id).dispatched_at is None
    sent: list[str] = []
    monkeypatch.setattr(celery_app, "send", lambda job_id, name, queue: sent.append(
        str(job_id)))
    assert celery_app.dispatch_due() == 1 and sent == [job_id]
    assert celery_app.dispatch_due() == 0  # sent once


def test_celery_job_whose_message_was_lost_is_sent_again(
        settings, monkeypatch, django_capture_on_commit_callbacks):
    settings.YIWANG_TASKS_BACKEND = "celery"
    import yiwang.core.tasks.celery_app as celery_app

    sent: list[str] = []
    monkeypatch.setattr(celery_app, "send", lambda job_id, name, queue: sent.append(
        str(job_id)))
    # The process dies between the commit and the send: the job is marked sent, nothing went.
    with django_capture_on_commit_callbacks(execute=False):
        job_id = enqueue("tasks.echo", "hi")
    t0 = Job.objects.get(pk=job_id).dispatched_at
    assert t0 is not None
    assert celery_app.dispatch_due(now=t0 + timedelta(minutes=4)) == 0  # may still be queued
    assert celery_app.dispatch_due(now=t0 + timedelta(minutes=5, seconds=1)) == 1
    assert sent == [job_id]
    assert celery_app.dispatch_due(now=t0 + timedelta(minutes=9)) == 0  # sent once
    # No worker for a while; then the second message is lost too. The next send waits as
    # long as the job had waited (a backlog is not flooded with a duplicate of every
    # waiting job every five minutes).
    assert celery_app.dispatch_due(now=t0 + timedelta(minutes=30)) == 1  # waited 30 min
    assert celery_app.dispatch_due(now=t0 + timedelta(minutes=40)) == 0
    assert celery_app.dispatch_due(now=t0 + timedelta(minutes=59)) == 0
    assert celery_app.dispatch_due(now=t0 + timedelta(minutes=60, seconds=1)) == 1
    assert sent == [job_id, job_id, job_id]
    # Both messages arrive in the end: the job runs once, the duplicate is dropped.
    assert celery_app.run.run("tasks.echo", [], {}, job_id) == job_id
    assert celery_app.run.run("tasks.echo", [], {}, job_id) is None
    job = Job.objects.get(pk=job_id)
    assert job.status == "succeeded" and job.attempts == 1
    assert celery_app.dispatch_due(now=t0 + timedelta(hours=3)) == 0


def test_redelivery_waits_at_most_an_hour_between_sends(settings, monkeypatch):
    import yiwang.core.tasks.celery_app as celery_app

    sent: list[str] = []
    monkeypatch.setattr(celery_app, "send", lambda job_id, name, queue: sent.append(
        str(job_id)))
    now = timezone.now()
    job = Job.objects.create(name="tasks.echo", backend="celery", run_at=now - timedelta(days=1),
                             dispatched_at=now - celery_app.REDELIVER_MAX + timedelta(seconds=5))
    assert celery_app.dispatch_due(now=now) == 0
    assert celery_app.dispatch_due(now=now + timedelta(seconds=6)) == 1
    assert sent == [str(job.pk)]


def test_celery_rollback_sends_nothing(settings, monkeypatch,
                                       django_capture_on_commit_callbacks):
    settings.YIWANG_TASKS_BACKEND = "celery"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        try:
            with transaction.atomic():
                enqueue("tasks.echo", "x")
                raise RuntimeError
        except RuntimeError:
            pass
    assert callbacks == []
    assert not Job.objects.exists()


def test_both_backends_share_the_time_limit_and_the_claim_rule(monkeypatch):
    import yiwang.core.tasks.celery_app as celery_app

    # The message's limits come from the same place as the lease of the claim.
    published: list[dict[str, object]] = []
    monkeypatch.setattr(celery_app.run, "apply_async", lambda **kw: published.append(kw))
    monkeypatch.setattr(jobs, "time_limit_of", lambda name: 42)
    celery_app.send(uuid.uuid4(), "tasks.echo", "default")
    assert published[0]["soft_time_limit"] == 42
    assert published[0]["time_limit"] == 42 + celery_app.HARD_LIMIT_MARGIN
    # Claiming by id (Celery) uses the rule claim_next uses, only without the due date.
    job = Job.objects.create(name="tasks.echo", backend="celery",
                             run_at=timezone.now() + timedelta(hours=1))
    assert jobs.claim_next("w", backend="celery") is None
    rule = jobs._claimable
    monkeypatch.setattr(jobs, "_claimable", lambda now, due_only=True: rule(now) & Q(pk=None))
    assert jobs.claim_by_id(job.pk, "w") is None  # a stricter rule applies to both paths
    monkeypatch.setattr(jobs, "_claimable", rule)
    claim = jobs.claim_by_id(job.pk, "w")
    assert claim is not None and claim.time_limit == 42  # and the lease follows the limit


def test_the_facade_exports_what_apps_declare_tasks_with():
    from yiwang.core.tasks import registry

    assert service.task is registry.task
    assert service.periodic is registry.periodic
    assert service.PermanentFailure is registry.PermanentFailure
    assert {"task", "periodic", "PermanentFailure"} <= set(service.__all__)


def test_the_celery_task_runs_a_job_once():
    import yiwang.core.tasks.celery_app as celery_app

    job = Job.objects.create(name="tasks.echo", args=["hello"], backend="celery",
                             dispatched_at=timezone.now())
    assert celery_app.run.run("tasks.echo", [], {}, str(job.pk)) == str(job.pk)
    job.refresh_from_db()
    assert job.status == "succeeded" and job.result["value"] == "hello"
    # A duplicate message is dropped: the job is done.
    assert celery_app.run.run("tasks.echo", [], {}, str(job.pk)) is None
    job.refresh_from_db()
    assert job.attempts == 1
