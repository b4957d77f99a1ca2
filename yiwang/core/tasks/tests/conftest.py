"""Fixtures for the tasks tests: a clean registry, worker subprocesses, a Redis server."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from yiwang.core.tasks import registry

PROJECT_DIR = Path(__file__).resolve().parents[4]


@pytest.fixture(autouse=True)
def database_backend(settings: Any) -> None:
    """Tests use the embedded backend unless they say otherwise (even if REDIS_URL is set)."""
    settings.YIWANG_TASKS_BACKEND = "database"


@pytest.fixture
def temp_registry() -> Iterator[None]:
    """Tasks a test registers are forgotten after it."""
    tasks, periodic = dict(registry._TASKS), dict(registry._PERIODIC)
    yield
    registry._TASKS.clear()
    registry._TASKS.update(tasks)
    registry._PERIODIC.clear()
    registry._PERIODIC.update(periodic)


def wait_until(predicate: Callable[[], Any], timeout: float = 20.0, what: str = "") -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what or predicate}")
        time.sleep(0.1)


def subprocess_database_url() -> str:
    """DATABASE_URL naming the test database, for a worker started by a test."""
    from django.db import connection

    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(name).resolve()}"
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{name}"))


class WorkerProcess:
    """``python -m yiwang worker`` running as a child of the test."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._log_file = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "yiwang", "worker", *args], cwd=PROJECT_DIR, env=env,
            stdout=self._log_file, stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        self._log_file.flush()
        return self.log.read_text(errors="replace")

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, then the exit code (killing the process if it does not stop in time)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            pytest.fail(f"worker did not stop within {timeout}s:\n{self.output()}")
        finally:
            self._log_file.close()

    def wait(self, timeout: float = 20.0) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            pytest.fail(f"worker did not exit within {timeout}s:\n{self.output()}")


@pytest.fixture
def worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("REDIS_URL", None)
    env.update({
        "DATABASE_URL": subprocess_database_url(),
        "YIWANG_TASKS_BACKEND": "database",
        "YIWANG_WORKER_POLL": "1",
        "PYTHONUNBUFFERED": "1",
    })
    return env


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start worker subprocesses; any still running at the end of the test are killed."""
    started: list[WorkerProcess] = []

    def start(env: dict[str, str], *args: str) -> WorkerProcess:
        worker = WorkerProcess(list(args), env, tmp_path / f"worker-{len(started)}.log")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.proc.poll() is None:
            worker.proc.kill()
            worker.proc.wait(5)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _xdist_index() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0


def _with_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{db}"))


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis server for this test session.

    REDIS_URL from the environment if set (each xdist worker takes its own database number,
    so parallel workers never consume each other's messages); else a redis-server started
    on a free port in a temporary folder and killed afterwards; else the test is skipped —
    except on CI (CI=true), where a missing Redis is a failure.
    """
    import redis

    from_env = os.environ.get("REDIS_URL")
    if from_env:
        yield _with_db(from_env, 1 + _xdist_index() % 15)
        return
    binary = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if binary is None:
        message = "no Redis: set REDIS_URL or install redis-server"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    folder = tmp_path_factory.mktemp("redis")
    port = _free_port()
    log = (folder / "redis.log").open("wb")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
         "no", "--dir", str(folder), "--daemonize", "no"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
                break
            except redis.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"redis-server did not start: {(folder / 'redis.log').read_text()}")
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()
