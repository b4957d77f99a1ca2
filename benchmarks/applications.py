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
import io
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._server import Server, Session, free_port, session_keys, setup_django  # noqa: E402

GOAL = 50.0
PER_CITIZEN = 20
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


def prepare(clients: int, licence: bool, n_citizens: int = 0
            ) -> tuple[list[Any], list[Any]]:
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
    for i in range(n_citizens or clients):
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


def png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (120, 160), (210, 220, 235)).save(buffer, format="PNG")
    return buffer.getvalue()


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
    parser.add_argument("--workers", type=int, default=0,
                        help="gunicorn workers (default: YIWANG_WEB_WORKERS)")
    parser.add_argument("--threads", type=int, default=0,
                        help="threads per worker (default: YIWANG_WEB_THREADS)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="yiwang-apps-") as data_dir:
        setup_django(data_dir, args.database_url, YIWANG_LICENCES_SEAL_LEVEL="B-B")
        from django.conf import settings
        from django.db import connection

        # a person may store 30 uploads in ten minutes (YIWANG_UPLOADS_PER_10_MINUTES): at most
        # PER_CITIZEN lifecycles per citizen in turn, twice as many citizens as that needs
        # (a fast client may take more than its share of the count)
        n_citizens = max(args.clients, -(-2 * (args.count + args.clients) // PER_CITIZEN))
        citizens, officials = prepare(args.clients, args.licence, n_citizens)
        citizen_keys, official_keys = session_keys(citizens), session_keys(officials)
        vendor = connection.vendor
        connection.close()
        public, internal = free_port(), free_port()
        workers = args.workers or settings.YIWANG_WEB_WORKERS
        threads = args.threads or settings.YIWANG_WEB_THREADS
        server = Server(zone="all", ports={"public": public, "internal": internal},
                        data_dir=data_dir, database_url=args.database_url,
                        workers=workers, threads=threads)
        image = png()
        durations: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        remaining = [args.count]

        def worker(i: int) -> None:
            mine = [(Session(public, "public", citizen_keys[j]), citizens[j])
                    for j in range(i, len(citizens), args.clients)]
            official = Session(internal, "internal", official_keys[i % len(officials)])
            done = 0
            while True:
                with lock:
                    if remaining[0] <= 0:
                        return
                    remaining[0] -= 1
                citizen, user = mine[(done // PER_CITIZEN) % len(mine)]
                done += 1
                try:
                    took = lifecycle(citizen, official, user, image)
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
            clients = [threading.Thread(target=worker, args=(i,)) for i in range(args.clients)]
            client_cpu = time.process_time()
            wall, cpu = server.drive(clients)
            client_cpu = time.process_time() - client_cpu
        finally:
            server.stop()
    if errors:
        print(f"{len(errors)} lifecycles failed, e.g. {errors[0]}")
    rate = len(durations) / wall
    print(f"application lifecycles through the HTTP API: {len(durations)} in {wall:.1f} s, "
          f"{args.clients} clients, {vendor}, licence issued: {args.licence}, "
          f"{os.cpu_count()} cores, gunicorn {workers} workers x {threads} threads")
    print(f"  {rate:.1f} applications/s (goal >= {GOAL:.0f}/s: ratio {rate / GOAL:.2f}); "
          f"{rate * 7:.0f} requests/s")
    if durations:
        per = cpu / len(durations) * 1000
        print(f"  server CPU {per:.0f} ms per lifecycle ({per / 7:.1f} ms per request); "
              f"at 100 % of {os.cpu_count()} cores that is at most "
              f"{(os.cpu_count() or 1) * 1000 / per:.0f} applications/s")
        print(f"  the clients (this process, on the same cores) used "
              f"{client_cpu / len(durations) * 1000:.1f} ms of CPU per lifecycle")
        print(f"  one lifecycle (7 requests): median {statistics.median(durations) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
