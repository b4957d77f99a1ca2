"""``yiwang serve``: both zones on a production-grade server (gunicorn), plus the background
processes.

One supervisor process starts gunicorn with one listener per served zone
(``YIWANG_ZONE``) and the background processes: the worker (``yiwang worker``), the MQTT
bridge (``yiwang perception-mqtt``) when ``YIWANG_MQTT_URL`` names a broker, and video
inspection (``yiwang perception-video``) when ``YIWANG_VIDEO_READER`` is on. It forwards
SIGTERM/SIGINT to them, restarts a background process that dies (with back-off up to 30 s),
and stops everything if the web server dies.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from yiwang.platform.zones.service import Zone, base_url, listeners


@dataclass
class Background:
    """A background process the supervisor keeps running."""

    name: str
    command: list[str]
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    restart_at: float | None = field(default=None)

    def start(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(self.command, env=env)  # noqa: S603 - our own interpreter
        self.restart_at = None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def background_processes(*, worker: bool = True) -> list[Background]:
    """The background processes this instance runs, from its settings."""
    python = [sys.executable, "-m", "yiwang"]
    wanted = []
    if worker:
        wanted.append(Background("worker", [*python, "worker"]))
    if settings.YIWANG_MQTT_URL:
        wanted.append(Background("MQTT bridge", [*python, "perception-mqtt"]))
    if settings.YIWANG_VIDEO_READER:
        wanted.append(Background("video inspection", [*python, "perception-video", "--wait"]))
    return wanted


class Command(BaseCommand):
    help = ("Serve the public and internal zones with gunicorn, and run the background worker "
            "(and the MQTT bridge and video inspection when configured).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-worker", action="store_true",
                            help="Do not start the background worker (run it elsewhere).")
        parser.add_argument("--workers", type=int, default=settings.YIWANG_WEB_WORKERS)
        parser.add_argument("--threads", type=int, default=settings.YIWANG_WEB_THREADS)

    def handle(self, *args: Any, **options: Any) -> None:
        self._refuse_unmigrated()
        call_command("collectstatic", interactive=False, verbosity=0)
        run_dir = Path(settings.DATA_DIR) / "run"
        metrics_dir = run_dir / "prometheus"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}

        binds = listeners()
        web_cmd = [
            sys.executable, "-m", "gunicorn", "yiwang.wsgi:application",
            "--worker-class", "gthread",
            "--workers", str(options["workers"]), "--threads", str(options["threads"]),
            "--graceful-timeout", "20", "--timeout", "60", "--keep-alive", "5",
            "--max-requests", "5000", "--max-requests-jitter", "500",
            "--forwarded-allow-ips", os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
            "--log-level", "warning", "--error-logfile", "-",
        ]
        for _zone, host, port in binds:
            web_cmd += ["--bind", f"{host}:{port}"]

        web = subprocess.Popen(web_cmd, env=env)  # noqa: S603 - our own interpreter and args
        children = background_processes(worker=not options["no_worker"])
        for child in children:
            child.start(env)
        stopping = False

        def stop(signum: int, _frame: Any) -> None:
            nonlocal stopping
            stopping = True
            for process in (web, *(c.process for c in children)):
                if process and process.poll() is None:
                    process.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        if self._wait_for_listeners(web, binds):
            self._announce(binds, children)
        while not stopping:
            time.sleep(0.5)
            if web.poll() is not None:
                for child in children:
                    if child.running():
                        child.process.terminate()  # type: ignore[union-attr]
                raise CommandError(f"the web server stopped (exit code {web.returncode})")
            for child in children:
                self._keep_running(child, env, lambda: stopping)
        for process in (web, *(c.process for c in children)):
            if process:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()

    def _keep_running(self, child: Background, env: dict[str, str],
                      stopping: Any) -> None:
        """Restart a background process that exited, after a back-off (2, 4 … 30 s)."""
        if child.running() or stopping():
            return
        now = time.monotonic()
        if child.restart_at is None:
            child.restarts += 1
            delay = min(30, 2 ** min(child.restarts, 5))
            code = child.process.returncode if child.process else None
            self.stderr.write(f"{child.name} exited ({code}); restarting in {delay}s")
            child.restart_at = now + delay
        elif now >= child.restart_at:
            child.start(env)

    def _wait_for_listeners(self, web: subprocess.Popen[bytes],
                            binds: list[tuple[Zone, str, int]]) -> bool:
        """Wait until every listener accepts connections (or the web server gives up)."""
        deadline = time.monotonic() + 60
        pending = list(binds)
        while pending and time.monotonic() < deadline and web.poll() is None:
            _zone, host, port = pending[0]
            try:
                with socket.create_connection((host, port), timeout=1):
                    pending.pop(0)
            except OSError:
                time.sleep(0.2)
        return not pending

    def _refuse_unmigrated(self) -> None:
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            raise CommandError("the database is not up to date: run `yiwang migrate` first")

    def _announce(self, binds: list[tuple[Zone, str, int]], children: list[Background]
                  ) -> None:
        names = {Zone.PUBLIC: "门户 portal (政务外网 public zone)",
                 Zone.INTERNAL: "工作台 workbench (政务内网 internal zone)"}
        self.stdout.write(self.style.SUCCESS("yiwang is serving:"))
        for zone, host, port in binds:
            self.stdout.write(f"  {names[zone]}: {base_url(zone)}  (listening on {host}:{port})")
        started = [c.name for c in children]
        self.stdout.write("  background worker: " + ("running" if "worker" in started
                                                     else "not started"))
        for child in children:
            if child.name != "worker":
                self.stdout.write(f"  {child.name}: running")
        self.stdout.write("Press Ctrl+C to stop.")
