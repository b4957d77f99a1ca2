"""What the HTTP benchmarks share: Django set up on a fresh data directory, signed-in sessions,
the server started as ``yiwang serve`` starts it (gunicorn, gthread), a keep-alive client
with CSRF, and the server's CPU time (to report CPU per request, which — unlike requests per
second — does not depend on what else the machine is doing).
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def setup_django(data_dir: str, database_url: str, **extra_env: str) -> None:
    """Settings for a benchmark on ``data_dir`` (SQLite there, or ``database_url``), migrated."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "yiwang.conf.settings"
    os.environ["YIWANG_ENV"] = "test"
    os.environ["YIWANG_DATA_DIR"] = data_dir
    os.environ["YIWANG_LOG_FORMAT"] = "text"
    os.environ["YIWANG_LOG_LEVEL"] = "ERROR"
    os.environ.update(extra_env)
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    # the static files a real install collects (WhiteNoise warns on every worker without them)
    (Path(data_dir) / "static").mkdir(parents=True, exist_ok=True)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def session_keys(users: list[Any]) -> list[str]:
    """A signed-in session (through the identity provider's sign-in) for each user."""
    from django.conf import settings
    from django.test import Client

    from yiwang.support.identity.testing import sign_in_client

    out = []
    for user in users:
        client = Client()
        sign_in_client(client, user)
        out.append(client.cookies[settings.SESSION_COOKIE_NAME].value)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """gunicorn (gthread) serving ``zone`` ("public", "internal" or "all") on ``ports``
    (``{"public": port, "internal": port}``); the first internal (else public) port answers
    the readiness probe ``/api/v1/ping``."""

    def __init__(self, *, zone: str, ports: dict[str, int], data_dir: str, database_url: str,
                 workers: int, threads: int) -> None:
        env = {**os.environ, "YIWANG_ZONE": zone, "YIWANG_DATA_DIR": data_dir,
               "YIWANG_LOG_LEVEL": "WARNING"}
        for name, port in ports.items():
            env[f"YIWANG_{name.upper()}_PORT"] = str(port)
        if database_url:
            env["DATABASE_URL"] = database_url
        binds = [arg for port in ports.values() for arg in ("--bind", f"127.0.0.1:{port}")]
        cmd = [sys.executable, "-m", "gunicorn", "yiwang.wsgi:application",
               "--worker-class", "gthread", "--workers", str(workers),
               "--threads", str(threads), "--keep-alive", "5", "--timeout", "60",
               *binds, "--log-level", "warning"]
        self.proc = subprocess.Popen(cmd, env=env, cwd=ROOT)
        probe = ports.get("internal") or ports["public"]
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", probe, timeout=2)
                conn.request("GET", "/api/v1/ping")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.3)
        self.proc.kill()
        raise SystemExit("the server did not start")

    def cpu_seconds(self) -> float:
        """User + system CPU seconds used so far by the server's processes (Linux /proc)."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in [self.proc.pid, *_children(self.proc.pid)]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # a worker that just exited
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        return total

    def drive(self, threads: list[threading.Thread]) -> tuple[float, float]:
        """Start the client ``threads``, wait for them all; the wall-clock seconds they took
        and the CPU seconds the server used meanwhile."""
        cpu = self.cpu_seconds()
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.perf_counter() - started, self.cpu_seconds() - cpu

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


class Session:
    """One person's keep-alive connection with their session cookie and a CSRF token."""

    def __init__(self, port: int, zone: str, session_key: str) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        token = secrets.token_hex(16)  # 32 characters of [a-zA-Z0-9], as Django expects
        self.headers = {"Cookie": f"yiwang_{zone}={session_key}; csrftoken={token}",
                        "X-CSRFToken": token, "Host": f"127.0.0.1:{port}"}

    def request(self, method: str, path: str, body: Any = None, *,
                files: dict[str, tuple[str, bytes]] | None = None) -> tuple[int, bytes]:
        """Send one request; the status and body (reconnecting once if the server closed
        the kept-alive connection)."""
        headers = dict(self.headers)
        payload: bytes | None = None
        if files is not None:
            boundary = "yiwangbench" + secrets.token_hex(8)
            parts = []
            for key, value in (body or {}).items():
                parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"'
                             f"\r\n\r\n{value}\r\n".encode())
            for key, (name, content) in files.items():
                parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"; '
                             f'filename="{name}"\r\nContent-Type: image/png\r\n\r\n'.encode()
                             + content + b"\r\n")
            payload = b"".join(parts) + f"--{boundary}--\r\n".encode()
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        elif body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=payload, headers=headers)
            response = self.conn.getresponse()
        except (ConnectionError, http.client.HTTPException):
            # The server closed the kept-alive connection (a worker recycled): reconnect.
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.conn.request(method, path, body=payload, headers=headers)
            response = self.conn.getresponse()
        return response.status, response.read()

    def call(self, method: str, path: str, body: Any = None, *,
             files: dict[str, tuple[str, bytes]] | None = None) -> Any:
        """Send one request; its JSON answer, or RuntimeError unless 2xx."""
        status, data = self.request(method, path, body, files=files)
        if status >= 300:
            raise RuntimeError(f"{method} {path}: {status} {data[:300]!r}")
        return json.loads(data) if data else None


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]
