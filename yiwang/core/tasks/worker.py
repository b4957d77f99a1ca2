"""The embedded worker (内置工作进程): polls the job table, runs each job in a child process.

Each job runs in a forked child so that its time limit can really be enforced: a task stuck
in a C call, a socket or an endless loop is killed at the limit, which a signal raised in
the worker's own thread cannot guarantee. The worker process itself only claims, waits,
records and sends heartbeats, so it never dies with a task.

Stopping: the first SIGTERM/SIGINT lets the current job finish and then exits; a second one
kills the running child and hands its job back to the queue.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from multiprocessing.connection import Connection, wait
from types import FrameType
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections

from yiwang.core.tasks import heartbeats, jobs, periodic
from yiwang.core.tasks.jobs import Claim, Outcome
from yiwang.core.tasks.models import Job

logger = logging.getLogger("yiwang.tasks")

BACKEND = Job.Backend.DATABASE
HOUSEKEEPING_INTERVAL = 1.0  # seconds between looks at periodic jobs and lost leases


class TimeLimitExceeded(Exception):
    """Raised inside an in-process run that outlived its time limit."""


def _start_method() -> str:
    # fork: the child inherits the loaded apps and registry, so a job starts in milliseconds.
    return "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"


def _child(claim: Claim, writer: Connection) -> None:
    """Body of the child process: run the job and send the outcome back as JSON."""
    # The parent decides when to stop; a Ctrl-C or SIGTERM sent to the whole process group
    # must not kill the job the parent is waiting to finish.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    import django
    from django.apps import apps

    if not apps.ready:  # spawn start method
        django.setup()
    try:
        outcome = jobs.execute(claim)
        writer.send_bytes(json.dumps(asdict(outcome)).encode())
    finally:
        writer.close()
        connections.close_all()


class ProcessRunner:
    """Runs a job in a child process and kills it at the time limit."""

    def run(self, claim: Claim, *, on_wait: Callable[[], None],
            abort: Callable[[], bool]) -> Outcome | None:
        """The outcome of the run, or ``None`` if ``abort()`` asked to stop it."""
        for conn in connections.all(initialized_only=True):
            if conn.in_atomic_block:
                raise RuntimeError(
                    "jobs run in child processes cannot start inside a transaction; "
                    "use run_pending(isolated=False) in tests that hold one"
                )
        connections.close_all()  # a forked child must open its own database connections
        ctx: Any = multiprocessing.get_context(_start_method())
        reader, writer = ctx.Pipe(duplex=False)
        child = ctx.Process(target=_child, args=(claim, writer), name=f"yiwang-job-{claim.id}")
        child.start()
        writer.close()
        deadline = time.monotonic() + claim.time_limit
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return Outcome(ok=False, error=(
                        f"TimeLimitExceeded: stopped after the time limit of {claim.time_limit}s"
                    ))
                if abort():
                    return None
                ready = wait([reader, child.sentinel], timeout=min(remaining, 1.0))
                if reader in ready:
                    try:
                        return Outcome(**json.loads(reader.recv_bytes()))
                    except EOFError:
                        pass  # the child died before it could answer
                if reader in ready or child.sentinel in ready:
                    child.join(5)
                    return Outcome(ok=False, error=(
                        f"the process running the job exited with code {child.exitcode} "
                        "without reporting an outcome"
                    ))
                on_wait()
        finally:
            reader.close()
            if child.is_alive():
                child.kill()
            child.join(5)


class InlineRunner:
    """Runs a job in this process (tests, debugging). The time limit is a SIGALRM timer,
    which only works in the main thread and cannot interrupt a blocking C call."""

    def run(self, claim: Claim, *, on_wait: Callable[[], None],
            abort: Callable[[], bool]) -> Outcome | None:
        """The outcome of the run."""
        with _alarm(claim.time_limit):
            return jobs.execute(claim)


@contextmanager
def _alarm(seconds: int) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum: int, frame: FrameType | None) -> None:
        raise TimeLimitExceeded(f"stopped after the time limit of {seconds}s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class DatabaseWorker:
    """The loop behind ``yiwang worker`` with the database backend."""

    def __init__(self, *, queues: list[str] | None = None, poll: float | None = None,
                 isolated: bool = True, worker_id: str | None = None) -> None:
        self.worker_id = worker_id or heartbeats.identity()
        self.queues = queues or None
        self.poll = float(settings.YIWANG_WORKER_POLL if poll is None else poll)
        self.runner: ProcessRunner | InlineRunner = ProcessRunner() if isolated else InlineRunner()
        self.jobs_done = 0
        self.stopping = False
        self.aborting = False
        self._last_beat = 0.0
        self._last_housekeeping = 0.0

    def housekeeping(self, force: bool = False) -> None:
        """Fire due periodic jobs and give up on jobs whose worker was lost."""
        if not force and time.monotonic() - self._last_housekeeping < HOUSEKEEPING_INTERVAL:
            return
        self._last_housekeeping = time.monotonic()
        periodic.fire_due(BACKEND)
        buried = jobs.bury_lost(BACKEND)
        if buried:
            logger.warning("%s job(s) dead: their worker was lost on the last attempt", buried)

    def beat(self, force: bool = False, *, stopped: bool = False, started: bool = False) -> None:
        if not force and time.monotonic() - self._last_beat < heartbeats.HEARTBEAT_INTERVAL:
            return
        self._last_beat = time.monotonic()
        heartbeats.beat(self.worker_id, backend=BACKEND, jobs_done=self.jobs_done,
                        stopped=stopped, started=started)

    def run_pending(self, limit: int = 100) -> int:
        """Run up to ``limit`` due jobs, one after another; return how many ran."""
        self.housekeeping(force=True)
        done = 0
        while done < limit and not self.stopping:
            claim = jobs.claim_next(self.worker_id, queues=self.queues)
            if claim is None:
                break
            self._run(claim)
            done += 1
            self.beat()
        return done

    def _run(self, claim: Claim) -> None:
        extra = {"job_id": str(claim.id), "task": claim.name, "attempt": claim.attempt}
        logger.info("job %s (%s) attempt %s started", claim.id, claim.name, claim.attempt,
                    extra=extra)
        started = time.monotonic()
        outcome = self.runner.run(claim, on_wait=self.beat, abort=lambda: self.aborting)
        if outcome is None:
            jobs.release(claim)
            logger.warning("job %s (%s) interrupted and handed back to the queue",
                           claim.id, claim.name, extra=extra)
            return
        jobs.record(claim, outcome)
        self.jobs_done += 1
        logger.info("job %s (%s) took %.0f ms", claim.id, claim.name,
                    (time.monotonic() - started) * 1000,
                    extra={**extra, "duration_ms": round((time.monotonic() - started) * 1000)})

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.stopping:
            self.aborting = True
            logger.warning("second stop signal: interrupting the current job")
        else:
            self.stopping = True
            logger.info("stop signal %s: finishing the current job, then exiting", signum)

    def serve(self, once: bool = False) -> None:
        """Run until stopped by SIGTERM/SIGINT; with ``once``, until nothing is due."""
        handlers: dict[signal.Signals, Any] = {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                handlers[signum] = signal.signal(signum, self._on_signal)
        logger.info("worker %s started (backend database, queues %s, poll %ss)",
                    self.worker_id, ",".join(self.queues or ["*"]), self.poll,
                    extra={"worker_id": self.worker_id, "backend": BACKEND})
        outage = 0  # consecutive database errors
        try:
            periodic.sync_schedules()
            self.beat(force=True, started=True)
            while not self.stopping:
                try:
                    ran = self.run_pending()
                    self.beat()
                except DatabaseError:
                    if once:
                        raise
                    # A database restart or failover: keep the process, wait, reconnect.
                    # Claimed jobs are safe: their lease expires and they run again.
                    outage += 1
                    logger.exception("database error in the worker loop (%s in a row)", outage)
                    connections.close_all()
                    self._sleep(min(30.0, self.poll * 2 ** outage))
                    continue
                outage = 0
                if ran:
                    continue
                if once:
                    break
                self._sleep(self.poll)
        finally:
            try:
                self.beat(force=True, stopped=True)
            except DatabaseError:
                logger.warning("could not record that worker %s stopped", self.worker_id)
            for signum, handler in handlers.items():
                signal.signal(signum, handler)
            logger.info("worker %s stopped after %s job(s)", self.worker_id, self.jobs_done,
                        extra={"worker_id": self.worker_id, "jobs_done": self.jobs_done})

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self.stopping and (left := end - time.monotonic()) > 0:
            time.sleep(min(left, 0.2))
