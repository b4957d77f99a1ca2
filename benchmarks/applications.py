"""Application lifecycle figure of issue 5: full lifecycles through the HTTP API, applications
per second on 2 cores. Goal >= 50/s.

A fresh database (SQLite in WAL mode in a temporary directory, or an empty PostgreSQL
database with ``--database-url``); a published matter of 公安局 with a form (text, ID number,
choice, a photo material), a two-step approval flow and — with ``--licence`` — a licence
(无犯罪记录证明, sealed PDF) issued on approval. The server runs as ``yiwang serve`` does
(gunicorn, gthread, both listeners); ``--clients`` threads (citizens and officials, each
with its own keep-alive connections) run ``--count`` lifecycles of seven requests each:

  citizen (public API): create draft → upload material (PNG, sniffed, re-encoded,
  encrypted) → submit (re-validated, receipt number, workflow started);
  official (internal API): claim → approve step 1 → approve step 2 (decision, ledger entry,
  licence with ``--licence``).

    .venv/bin/python benchmarks/applications.py [--count 1000] [--clients 8] [--licence]
        [--database-url postgres://…/yiwang_bench]
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOAL = 50.0
MATTER = "339900-gaj-bench"
FORM: dict[str, Any] = {"version": 1, "components": [
    {"type": "text", "key": "name", "label": "姓名", "label_en": "Name", "required": True},
    {"type": "id_number", "key": "id_number", "label": "公民身份号码", "label_en": "ID number",
     "required": True},
    {"type": "choice", "key": "purpose", "label": "用途", "label_en": "Purpose",
     "required": True, "options": [{"value": "job", "label": "入职", "label_en": "Job"},
                                   {"value": "other", "label": "其他", "label_en": "Other"}]},
    {"type": "file", "key": "photo", "label": "照片", "label_en": "Photo", "required": True,
     "material": "photo", "accept": ["image/png", "image/jpeg"]},
]}
FLOW: dict[str, Any] = {"version": 1, "steps": [
    {"kind": "task", "id": "review", "name": "受理审查", "department": "$matter",
     "position": None, "days": 2},
    {"kind": "task", "id": "decide", "name": "审批决定", "department": "$matter",
     "position": None, "days": 3},
]}
LICENCE = {"type": "no_criminal_record", "map": {
    "purpose": {"cat": ["入职"]}, "period": {"cat": ["近五年"]},
    "statement": {"cat": ["经查询,未发现有犯罪记录。"]}}}


def setup_django(data_dir: str, database_url: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "yiwang.conf.settings"
    os.environ["YIWANG_ENV"] = "test"
    os.environ["YIWANG_DATA_DIR"] = data_dir
    os.environ["YIWANG_LOG_FORMAT"] = "text"
    os.environ["YIWANG_LOG_LEVEL"] = "ERROR"
    os.environ["YIWANG_LICENCES_SEAL_LEVEL"] = "B-B"
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def prepare(clients: int, licence: bool) -> tuple[list[Any], list[Any]]:
    import random
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from yiwang.core.crypto.service import blind_index
    from yiwang.core.identifiers.service import (
        generate_credit_code,
        generate_synthetic_id_number,
    )
    from yiwang.industry.applications.testing import grant_handling
    from yiwang.industry.services import service as catalogue
    from yiwang.platform.orgs import service as orgs
    from yiwang.platform.regions import testing as regions_testing
    from yiwang.support.identity import service as identity
    from yiwang.support.licences import service as licences
    from yiwang.support.seals import service as seals

    rng = random.Random(7)
    regions_testing.make_chain(geometry=False)
    orgs.create_department("gaj", "示例市公安局", region_code=regions_testing.CITY,
                           credit_code=generate_credit_code("339900", rng=rng))
    licences.authorise_issuers()
    officials = []
    for i in range(max(1, clients // 2)):
        user = identity.create_official(f"gaj.bench{i}", f"办理员{i}", password="bench-" * 4)
        orgs.add_member(user, department_code="gaj")
        grant_handling(user)
        officials.append(user)
    seal = seals.create_seal(department_code="gaj", name="证照专用章", kind="licence",
                             custodians=[officials[0]], actor=officials[0])
    seals.grant_standing_authorisation(seal, custodian=officials[0], purpose="licence:*",
                                       standing_until=timezone.now() + timedelta(days=1))
    citizens = []
    for i in range(clients):
        user = get_user_model().objects.create_user(username=f"bench.citizen{i}",
                                                    password="bench-" * 4)
        number = generate_synthetic_id_number(rng, "339901")
        user.account_type = "citizen"
        user.real_name = user.display_name = f"市民{i}"
        user.id_number = number
        user.id_number_index = blind_index(number, "identity.id_number")
        user.level = 2
        user.verified_at = timezone.now()
        user.save()
        from yiwang.platform.registry import service as registry

        registry.register_person(registry.PersonRow(name=user.real_name, id_number=number,
                                                    region_code=regions_testing.COMMUNITY))
        citizens.append(user)
    matter = catalogue.create_matter(code=MATTER, name="无犯罪记录证明(测试)",
                                     department_code="gaj", audience="person",
                                     promised_days=5, statutory_days=20)
    draft = catalogue.create_draft(matter)
    catalogue.save_draft(draft, form=FORM, flow_spec=FLOW, licence=LICENCE if licence else {})
    catalogue.publish_version(draft)
    return citizens, officials


def cookies(users: list[Any]) -> list[str]:
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


def start_server(public: int, internal: int, data_dir: str,
                 database_url: str) -> subprocess.Popen[bytes]:
    from django.conf import settings

    env = {**os.environ, "YIWANG_ZONE": "all", "YIWANG_PUBLIC_PORT": str(public),
           "YIWANG_INTERNAL_PORT": str(internal), "YIWANG_DATA_DIR": data_dir,
           "YIWANG_LOG_LEVEL": "WARNING"}
    if database_url:
        env["DATABASE_URL"] = database_url
    cmd = [sys.executable, "-m", "gunicorn", "yiwang.wsgi:application",
           "--worker-class", "gthread", "--workers", str(settings.YIWANG_WEB_WORKERS),
           "--threads", str(settings.YIWANG_WEB_THREADS), "--keep-alive", "5",
           "--timeout", "60",
           "--bind", f"127.0.0.1:{public}", "--bind", f"127.0.0.1:{internal}",
           "--log-level", "warning"]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", internal, timeout=2)
            conn.request("GET", "/api/v1/ping")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("the server did not start")


def png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (120, 160), (210, 220, 235)).save(buffer, format="PNG")
    return buffer.getvalue()


class Session:
    """One person's keep-alive connection with their session and a CSRF token."""

    def __init__(self, port: int, zone: str, session_key: str) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        token = secrets.token_hex(16)  # 32 characters of [a-zA-Z0-9], as Django expects
        self.headers = {"Cookie": f"yiwang_{zone}={session_key}; csrftoken={token}",
                        "X-CSRFToken": token, "Host": f"127.0.0.1:{port}"}

    def call(self, method: str, path: str, body: Any = None, *,
             files: dict[str, tuple[str, bytes]] | None = None) -> Any:
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
        data = response.read()
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: {response.status} {data[:300]!r}")
        return json.loads(data) if data else None


def lifecycle(citizen: Session, official: Session, user: Any, image: bytes) -> float:
    base = "/api/v1/applications"
    started = time.perf_counter()
    draft = citizen.call("POST", f"{base}/drafts", {"matter_code": MATTER, "data": {
        "name": user.real_name, "id_number": user.id_number, "purpose": "job"}})
    citizen.call("POST", f"{base}/{draft['id']}/materials", {"key": "photo"},
                 files={"file": ("photo.png", image)})
    app = citizen.call("POST", f"{base}/{draft['id']}/submit", {})
    version = app["row_version"]
    task = app["tasks"][0]["id"]
    official.call("POST", f"{base}/tasks/{task}/claim", {"expected_version": version})
    app = official.call("POST", f"{base}/tasks/{task}/decide",
                        {"outcome": "approve", "expected_version": version + 1})
    task = app["tasks"][0]["id"]
    app = official.call("POST", f"{base}/tasks/{task}/decide",
                        {"outcome": "approve", "expected_version": app["row_version"]})
    if app["state"] != "approved":
        raise RuntimeError(f"application {app['id']} ended {app['state']}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--licence", action="store_true",
                        help="approval issues a sealed licence (无犯罪记录证明)")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="yiwang-apps-") as data_dir:
        setup_django(data_dir, args.database_url)
        from django.db import connection

        citizens, officials = prepare(args.clients, args.licence)
        citizen_keys, official_keys = cookies(citizens), cookies(officials)
        vendor = connection.vendor
        connection.close()
        public, internal = free_port(), free_port()
        server = start_server(public, internal, data_dir, args.database_url)
        image = png()
        durations: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        remaining = [args.count]

        def worker(i: int) -> None:
            citizen = Session(public, "public", citizen_keys[i])
            official = Session(internal, "internal", official_keys[i % len(officials)])
            while True:
                with lock:
                    if remaining[0] <= 0:
                        return
                    remaining[0] -= 1
                try:
                    took = lifecycle(citizen, official, citizens[i], image)
                    with lock:
                        durations.append(took)
                except Exception as exc:  # report, keep going
                    with lock:
                        errors.append(str(exc))

        try:
            for i in range(args.clients):  # warm-up: one lifecycle each, not counted
                lifecycle(Session(public, "public", citizen_keys[i]),
                          Session(internal, "internal", official_keys[i % len(officials)]),
                          citizens[i], image)
            threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.clients)]
            started = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - started
        finally:
            server.terminate()
            server.wait(30)
    if errors:
        print(f"{len(errors)} lifecycles failed, e.g. {errors[0]}")
    rate = len(durations) / wall
    print(f"application lifecycles through the HTTP API: {len(durations)} in {wall:.1f} s, "
          f"{args.clients} clients, {vendor}, licence issued: {args.licence}, "
          f"{os.cpu_count()} cores")
    print(f"  {rate:.1f} applications/s (goal >= {GOAL:.0f}/s: ratio {rate / GOAL:.2f}); "
          f"{rate * 7:.0f} requests/s")
    if durations:
        print(f"  one lifecycle (7 requests): median {statistics.median(durations) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
