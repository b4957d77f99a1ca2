"""Officials' inbox figure of issue 5: the inbox list (``GET /api/v1/applications/inbox`` on
the internal listener) with 1,000,000 applications and 16 concurrent users; p50 and p99.
Goal p99 < 100 ms (Open Zaak reports a median of 240 ms at 16 users on 1,000,000 cases).

A fresh database — SQLite (WAL, as yiwang runs it) in a temporary directory, or an empty
PostgreSQL database with ``--database-url`` — is filled with bulk inserts: ``--applications``
applications over 20 departments (85 % decided, 12 % in review, 3 % waiting for a
correction), each with its task row, due times spread over ±30 days; then ANALYZE. 16
officials (spread over the departments) sign in; the server runs as ``yiwang serve`` does
(gunicorn, gthread) on the internal listener; 16 client threads, one per official, each with
its own keep-alive connection, ask for their inbox (first pages, sometimes "claimed by me",
sometimes a receipt-number prefix) ``--requests`` times.

    .venv/bin/python benchmarks/inbox.py [--applications 1000000] [--requests 100]
        [--database-url postgres://…/yiwang_bench]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._server import (  # noqa: E402
    Server,
    Session,
    free_port,
    percentile,
    session_keys,
    setup_django,
)

GOAL_P99_MS = 100.0
BASELINE_MEDIAN_MS = 240.0  # Open Zaak, 16 users, 1,000,000 cases
DEPARTMENTS = 20
BATCH = 20_000


def prepare_people(clients: int) -> tuple[Any, list[Any]]:
    from django.contrib.auth import get_user_model

    from yiwang.core.identifiers.service import generate_credit_code
    from yiwang.industry.applications.testing import grant_handling
    from yiwang.platform.orgs import service as orgs
    from yiwang.platform.regions import testing as regions_testing
    from yiwang.support.identity import service as identity

    rng = random.Random(5)
    regions_testing.make_chain(geometry=False)
    for d in range(DEPARTMENTS):
        orgs.create_department(f"d{d:02d}", f"示例市第{d + 1}局", region_code=regions_testing.CITY,
                               credit_code=generate_credit_code("339900", rng=rng))
    citizen = get_user_model().objects.create_user(username="bench.citizen",
                                                   password="bench-" * 4)
    officials = []
    for i in range(clients):
        user = identity.create_official(f"bench.{i}", f"办理员{i}", password="bench-" * 4)
        orgs.add_member(user, department_code=f"d{i % DEPARTMENTS:02d}")
        grant_handling(user)
        officials.append(user)
    return citizen, officials


def fill(n: int, citizen: Any, officials: list[Any]) -> float:
    """Bulk-insert ``n`` applications and their tasks; seconds taken."""
    from django.db import connection, transaction
    from django.utils import timezone

    from yiwang.core.crypto.service import encrypt_personal

    ops = connection.ops
    started = time.perf_counter()
    rng = random.Random(11)
    now = timezone.now()
    data = encrypt_personal('{"purpose": "job"}', "applications.application.data_text")
    empty = {name: encrypt_personal("", f"applications.application.{name}")
             for name in ("outcome_reason", "workflow_text")}
    claimers = {o.pk: o for o in officials}
    by_department = {f"d{i % DEPARTMENTS:02d}": o.pk for i, o in enumerate(officials)}
    app_sql = (
        "INSERT INTO applications_application (id, number, region_code, matter_code, "
        "matter_name, version_pk, bundle_code, applicant_id, acting_for, applicant_masked, "
        "data_text, state, department_code, time_limit_days, submitted_at, accepted_at, due_at, "
        "pauses, warned, overdue, decided_at, outcome_reason, workflow_text, fee_fen, "
        "fee_items, row_version, licence_identifier, created_at, updated_at) VALUES "
        "(%s, %s, %s, %s, %s, %s, '', %s, '', %s, %s, %s, %s, 5, %s, %s, %s, '[]', %s, %s, "
        "%s, %s, %s, 0, '[]', 1, '', %s, %s)")
    task_sql = (
        "INSERT INTO applications_task (application_id, wf_task_id, spec, name, "
        "department_code, position_code, countersign_group, state, claimed_by_id, due_at, "
        "number, matter_code, matter_name, applicant_masked, outcome, done_by_id, done_at, "
        "created_at) VALUES (%s, %s, 'review', '受理审查', %s, '', '', %s, %s, %s, %s, %s, %s, "
        "%s, %s, %s, %s, %s)")
    surnames = "王李张刘陈杨黄赵吴周"
    for start in range(0, n, BATCH):
        apps, tasks = [], []
        for i in range(start, min(n, start + BATCH)):
            pk = i + 1
            dept = f"d{i % DEPARTMENTS:02d}"
            submitted = now - timedelta(days=rng.uniform(0, 365))
            due = now + timedelta(days=rng.uniform(-30, 30))
            roll = rng.random()
            if roll < 0.85:
                state, task_state, decided = "approved", "done", submitted + timedelta(days=3)
            elif roll < 0.97:
                state, task_state, decided = "in_review", "open", None
            else:
                state, task_state, decided = "correction", "waiting", None
            number = f"YW-339900-{submitted:%Y%m%d}-{pk:07d}"
            matter = f"339900-{dept}-{i % 7:04d}"
            masked = surnames[i % 10] + "*" + "明"
            claimed = by_department.get(dept) if task_state != "done" and roll < 0.05 else None
            at = ops.adapt_datetimefield_value(submitted)
            apps.append((pk, number, "339900000000", matter, "示例事项", 1, citizen.pk, masked,
                         data, state, dept, at, at, ops.adapt_datetimefield_value(due),
                         False, False,
                         ops.adapt_datetimefield_value(decided) if decided else None,
                         empty["outcome_reason"], empty["workflow_text"], at, at))
            done_by = by_department.get(dept) if task_state == "done" else None
            tasks.append((pk, f"t{pk}", dept, task_state, claimed,
                          ops.adapt_datetimefield_value(due), number, matter, "示例事项", masked,
                          "approve" if task_state == "done" else "", done_by,
                          ops.adapt_datetimefield_value(decided) if decided else None, at))
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(app_sql, apps)
            cursor.executemany(task_sql, tasks)
        done = min(n, start + BATCH)
        if done % 200_000 == 0 or done == n:
            print(f"  {done:,} applications ({time.perf_counter() - started:.0f} s)", flush=True)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT setval(pg_get_serial_sequence('applications_application', "
                           "'id'), (SELECT max(id) FROM applications_application))")
        cursor.execute("ANALYZE")
    del claimers
    return time.perf_counter() - started


def client_loop(port: int, cookie: str, requests: int, seed: int, out: list[float],
                errors: list[str], think: float = 0.0) -> None:
    rng = random.Random(seed)
    session = Session(port, "internal", cookie)
    for i in range(requests):
        roll = rng.random()
        if roll < 0.70:
            path = f"/api/v1/applications/inbox?page={rng.randint(1, 3)}"
        elif roll < 0.85:
            path = "/api/v1/applications/inbox?state=mine"
        elif roll < 0.95:
            path = "/api/v1/applications/inbox?state=waiting"
        else:
            path = f"/api/v1/applications/inbox?q=YW-339900-2026{rng.randint(1, 11):02d}"
        started = time.perf_counter()
        status, body = session.request("GET", path)
        elapsed = (time.perf_counter() - started) * 1000
        if status != 200:
            errors.append(f"{status} {body[:200]!r}")
            continue
        if i >= 3:  # warm-up
            out.append(elapsed)
        if think:
            time.sleep(rng.uniform(0, 2 * think))  # a person reading the list


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=100, help="per client")
    parser.add_argument("--think", type=float, default=0.0,
                        help="mean seconds a user waits between requests (0: back to back)")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--workers", type=int, default=0,
                        help="gunicorn workers (default: YIWANG_WEB_WORKERS)")
    parser.add_argument("--threads", type=int, default=0,
                        help="threads per worker (default: YIWANG_WEB_THREADS)")
    parser.add_argument("--keep", default="",
                        help="a data directory to fill once and reuse (SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="yiwang-inbox-") as scratch:
        data_dir = args.keep or scratch
        Path(data_dir).mkdir(parents=True, exist_ok=True)
        reuse = bool(args.keep) and (Path(data_dir) / "filled").exists()
        setup_django(data_dir, args.database_url)
        from django.contrib.auth import get_user_model
        from django.db import connection

        seconds = 0.0
        if reuse:
            officials = list(get_user_model().objects.filter(username__startswith="bench.")
                             .exclude(username="bench.citizen").order_by("id"))
        else:
            citizen, officials = prepare_people(args.clients)
            print(f"filling {args.applications:,} applications on {connection.vendor} …",
                  flush=True)
            seconds = fill(args.applications, citizen, officials)
            if args.keep:
                (Path(data_dir) / "filled").write_text(str(args.applications))
        cookies = session_keys(officials)
        connection.close()
        from django.conf import settings

        args.workers = args.workers or settings.YIWANG_WEB_WORKERS
        args.threads = args.threads or settings.YIWANG_WEB_THREADS
        load = os.getloadavg()[0]  # other work on the machine, before the server starts
        port = free_port()
        server = Server(zone="internal", ports={"internal": port}, data_dir=data_dir,
                        database_url=args.database_url, workers=args.workers,
                        threads=args.threads)
        try:
            latencies: list[float] = []
            errors: list[str] = []
            threads = [threading.Thread(target=client_loop,
                                        args=(port, cookies[i], args.requests, i, latencies,
                                              errors, args.think))
                       for i in range(args.clients)]
            wall, cpu = server.drive(threads)
        finally:
            server.stop()
    if errors:
        print(f"{len(errors)} failed requests, e.g. {errors[0]}")
    if not latencies:
        raise SystemExit("no successful requests")
    p50, p99 = statistics.median(latencies), percentile(latencies, 99)
    print(f"inbox, {args.applications:,} applications ({int(args.applications * 0.12):,} open "
          f"tasks over {DEPARTMENTS} departments), {args.clients} concurrent users, "
          f"{len(latencies)} requests, think time {args.think:g} s, {connection.vendor}, "
          f"{os.cpu_count()} cores "
          f"(fill: {seconds:.0f} s)")
    print(f"  p50 {p50:.1f} ms (Open Zaak median {BASELINE_MEDIAN_MS:.0f} ms: "
          f"{BASELINE_MEDIAN_MS / p50:.1f}x faster)")
    print(f"  p99 {p99:.1f} ms (goal < {GOAL_P99_MS:.0f} ms: ratio {p99 / GOAL_P99_MS:.2f})")
    print(f"  throughput {len(latencies) / wall:.0f} requests/s; server CPU "
          f"{cpu / (args.clients * args.requests) * 1000:.1f} ms per request "
          f"(gunicorn {args.workers} workers x {args.threads} threads)")
    # Latencies depend on what else the machine runs; CPU per request does not.
    print(f"  load average before the run {load:.1f} on {os.cpu_count()} cores (near or "
          f"above the core count, other work shares the cores: the latencies are not the "
          f"server's alone)")


if __name__ == "__main__":
    main()
