"""``yiwang serve``: both zones on a production-grade server (gunicorn), plus the worker.

One supervisor process starts gunicorn with one listener per served zone
(``YIWANG_ZONE``) and the background worker (``yiwang worker``), forwards SIGTERM/SIGINT to
them, restarts the worker if it dies, and stops everything if the web server dies.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from yiwang.platform.zones.service import Zone, base_url, listeners


class Command(BaseCommand):
    help = "Serve the public and internal zones with gunicorn, and run the background worker."

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
        worker_cmd = [sys.executable, "-m", "yiwang", "worker"]

        web = subprocess.Popen(web_cmd, env=env)  # noqa: S603 - our own interpreter and args
        worker = None if options["no_worker"] else subprocess.Popen(worker_cmd, env=env)  # noqa: S603
        stopping = False

        def stop(signum: int, _frame: Any) -> None:
            nonlocal stopping
            stopping = True
            for child in (web, worker):
                if child and child.poll() is None:
                    child.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        if self._wait_for_listeners(web, binds):
            self._announce(binds, worker is not None)
        restarts = 0
        while not stopping:
            time.sleep(0.5)
            if web.poll() is not None:
                if worker and worker.poll() is None:
                    worker.terminate()
                raise CommandError(f"the web server stopped (exit code {web.returncode})")
            if worker and worker.poll() is not None and not stopping:
                restarts += 1
                delay = min(30, 2 ** min(restarts, 5))
                self.stderr.write(f"worker exited ({worker.returncode}); restarting in {delay}s")
                restart_at = time.monotonic() + delay
                while not stopping and time.monotonic() < restart_at:
                    time.sleep(0.2)
                if not stopping:
                    worker = subprocess.Popen(worker_cmd, env=env)  # noqa: S603
        for child in (web, worker):
            if child:
                try:
                    child.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    child.kill()

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

    def _announce(self, binds: list[tuple[Zone, str, int]], with_worker: bool) -> None:
        names = {Zone.PUBLIC: "门户 portal (政务外网 public zone)",
                 Zone.INTERNAL: "工作台 workbench (政务内网 internal zone)"}
        self.stdout.write(self.style.SUCCESS("yiwang is serving:"))
        for zone, host, port in binds:
            self.stdout.write(f"  {names[zone]}: {base_url(zone)}  (listening on {host}:{port})")
        self.stdout.write("  background worker: " + ("running" if with_worker else "not started"))
        self.stdout.write("Press Ctrl+C to stop.")
