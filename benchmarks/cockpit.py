"""Cockpit figure of issue 6: ``GET /api/v1/cockpit/summary`` p50 and p99 with 1,000,000
cases (goal p99 < 200 ms).

A fresh database — SQLite (WAL, as yiwang runs it) in a temporary directory, or PostgreSQL
with ``--database-url`` — gets the demo city's geography (4 districts, 12 streets, 40
communities, 400 grids) and the standard category table, then ``--cases`` cases spread over
the last 365 days with bulk inserts (sources, categories and places weighted as city
reports are: street order and litter most, some grids far busier than others; 92 % closed,
of those 88 % on time; the rest open, some overdue); the statistics are rebuilt from them
(``city.stats.rebuild``). Leaders with the cockpit permission — one at the city level, one
per district — open the cockpit of their own level or one below, for 7, 30, 90 or 365
days, from ``--clients`` concurrent connections against the server as ``yiwang serve``
runs it (gunicorn, the default workers and threads, internal listener).

    .venv/bin/python benchmarks/cockpit.py [--cases 1000000] [--clients 8] [--requests 60]
        [--keep /tmp/cockpit1m] [--database-url …]
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

GOAL_P99_MS = 200.0
BATCH = 20_000
SOURCES = [("citizen", 40), ("inspector", 30), ("hotline", 15), ("iot", 8), ("ai", 5),
           ("open311", 2)]


def prepare(clients: int) -> tuple[list[Any], dict[str, Any]]:
    from django.contrib.auth.models import Permission

    from yiwang.demo import loader
    from yiwang.industry.city import service as city
    from yiwang.platform.orgs import service as orgs
    from yiwang.platform.regions import service as regions
    from yiwang.support.identity import service as identity

    loader.load_geography(lambda label, total: (lambda n: None))
    city.load_categories()
    city_code = regions.list_regions(level="city").first().code
    districts = [r.code for r in regions.list_regions(level="district")]
    orgs.create_department("bench-centre", "指挥中心", region_code=city_code)
    for i, code in enumerate(districts):
        orgs.create_department(f"bench-d{i}", f"区指挥中心{i}", region_code=code)
    permission = Permission.objects.get(content_type__app_label="city", codename="view_cockpit")
    leaders = []
    for i in range(clients):
        department = "bench-centre" if i % 3 == 0 else f"bench-d{i % len(districts)}"
        user = identity.create_official(f"bench.leader{i}", f"领导{i}", password="y" * 20)
        orgs.add_member(user, department_code=department)
        user.user_permissions.add(permission)
        leaders.append(user)
    scopes = {"city": city_code, "districts": districts,
              "streets": [r.code for r in regions.list_regions(level="street")]}
    return leaders, scopes


def fill(n: int) -> float:
    from django.db import connection, transaction
    from django.utils import timezone

    from yiwang.industry.city import stats
    from yiwang.industry.city.models import CaseCategory
    from yiwang.platform.regions import service as regions

    rng = random.Random(6)
    grids = list(regions.all_grids().values_list("code", "community_id", "street_code",
                                                "district_code", "min_lon", "min_lat"))
    weights = [rng.paretovariate(1.2) for _ in grids]  # a few busy grids, many quiet ones
    minors = list(CaseCategory.objects.filter(parent__isnull=False).values_list("pk", "code"))
    category_weights = [8 if "street_order" in code or "litter" in code else 1
                        for _pk, code in minors]
    departments = ["cgj", "swj", "jtj", "ylj", "zjj"]
    now = timezone.now()
    started = time.perf_counter()
    columns = ["number", "title", "description", "category_id", "source", "state", "lon", "lat",
               "address", "grid_code", "community_code", "street_code", "district_code",
               "reporter_name", "reporter_phone", "external_ref", "attributes",
               "department_code", "reported_at", "filed_at", "dispatched_at", "due_at",
               "handled_at", "closed_at", "overdue_at", "closed_on_time", "return_count",
               "rework_count", "extension_count", "duplicate_count", "outcome",
               "satisfaction", "evaluation", "reply", "row_version", "created_at",
               "updated_at"]
    sql = (f"INSERT INTO city_case ({', '.join(columns)}) "  # noqa: S608
           f"VALUES ({', '.join(['%s'] * len(columns))})")
    adapt = connection.ops.adapt_datetimefield_value
    done = 0
    while done < n:
        rows = []
        for i in range(done, min(n, done + BATCH)):
            grid, community, street, district, lon, lat = rng.choices(grids, weights)[0]
            category = rng.choices(minors, category_weights)[0][0]
            reported = now - timedelta(seconds=rng.uniform(0, 365 * 86400))
            filed = reported + timedelta(minutes=rng.uniform(5, 120))
            due = filed + timedelta(hours=rng.choice((2, 4, 24, 72)))
            roll = rng.random()
            state = "closed" if roll < 0.92 or reported < now - timedelta(days=30) else (
                "handling" if roll < 0.97 else "dispatched")
            handled = closed = overdue = None
            on_time = None
            if state == "closed":
                late = rng.random() > 0.88
                handled = due + timedelta(hours=6) if late else filed + (due - filed) * 0.6
                closed = handled + timedelta(hours=rng.uniform(0.5, 8))
                on_time = not late
                overdue = due if late else None
            elif due < now:
                overdue = due
            rows.append((
                f"B{district[:6]}{i:012d}", "城市问题", "", category,
                rng.choices([s for s, _w in SOURCES], [w for _s, w in SOURCES])[0], state,
                lon + 0.005, lat + 0.005, "", grid, community, street, district, "", "", "",
                "{}", rng.choice(departments), adapt(reported), adapt(filed), adapt(filed),
                adapt(due), adapt(handled), adapt(closed), adapt(overdue), on_time,
                0, int(rng.random() < 0.04), int(rng.random() < 0.03), 0, "",
                rng.choice((5, 5, 4, 4, 3)) if state == "closed" and rng.random() < 0.3
                else None, "", "", 1, adapt(reported), adapt(closed or filed)))
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, rows)
        done += len(rows)
        if done % 200_000 == 0 or done == n:
            print(f"  {done:,} cases ({time.perf_counter() - started:.0f} s)", flush=True)
    print("  rebuilding the statistics from the cases …", flush=True)
    written = stats.rebuild()
    print(f"  {written:,} statistics rows ({time.perf_counter() - started:.0f} s)", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def client_loop(port: int, cookie: str, regions_for: list[str], requests: int, seed: int,
                out: list[float], errors: list[str]) -> None:
    rng = random.Random(seed)
    session = Session(port, "internal", cookie)
    for i in range(requests):
        region = rng.choice(regions_for)
        days = rng.choice((7, 30, 30, 30, 90, 365))
        started = time.perf_counter()
        status, body = session.request("GET",
                                       f"/api/v1/cockpit/summary?region={region}&days={days}")
        elapsed = (time.perf_counter() - started) * 1000
        if status != 200:
            errors.append(f"{status} {body[:200]!r}")
            continue
        if i >= 2:
            out.append(elapsed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=60, help="per client")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--keep", default="", help="a data directory to fill once and reuse")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="yiwang-cockpit-") as scratch:
        data_dir = args.keep or scratch
        Path(data_dir).mkdir(parents=True, exist_ok=True)
        reuse = bool(args.keep) and (Path(data_dir) / "filled").exists()
        setup_django(data_dir, args.database_url)
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.db import connection

        from yiwang.platform.orgs import service as orgs
        from yiwang.platform.regions import service as regions

        seconds = 0.0
        if reuse:
            leaders = list(get_user_model().objects.filter(username__startswith="bench.leader")
                           .order_by("id"))[:args.clients]
        else:
            leaders, _scopes = prepare(args.clients)
            print(f"filling {args.cases:,} cases on {connection.vendor} …", flush=True)
            seconds = fill(args.cases)
            if args.keep:
                (Path(data_dir) / "filled").write_text(str(args.cases))
        # each leader opens their own level and the one below it
        targets = []
        for leader in leaders:
            top = orgs.departments_of(leader)[0].region_id
            targets.append([top] + [r.code for r in regions.children(top)])
        cookies = session_keys(leaders)
        vendor = connection.vendor
        connection.close()
        port = free_port()
        server = Server(zone="internal", ports={"internal": port}, data_dir=data_dir,
                        database_url=args.database_url, workers=settings.YIWANG_WEB_WORKERS,
                        threads=settings.YIWANG_WEB_THREADS)
        try:
            latencies: list[float] = []
            errors: list[str] = []
            threads = [threading.Thread(target=client_loop, args=(
                port, cookies[i], targets[i], args.requests, i, latencies, errors))
                for i in range(len(leaders))]
            wall, cpu = server.drive(threads)
        finally:
            server.stop()
    if errors:
        print(f"{len(errors)} failed requests, e.g. {errors[0]}")
    if not latencies:
        raise SystemExit("no successful requests")
    p50, p99 = statistics.median(latencies), percentile(latencies, 99)
    print(f"cockpit summary, {args.cases:,} cases, {len(leaders)} concurrent leaders (city and "
          f"district levels, 7–365 days), {len(latencies)} requests, {vendor}, "
          f"{os.cpu_count()} cores (fill: {seconds:.0f} s)")
    print(f"  p50 {p50:.1f} ms, p99 {p99:.1f} ms (goal p99 < {GOAL_P99_MS:.0f} ms: ratio "
          f"{GOAL_P99_MS / p99:.2f})")
    print(f"  throughput {len(latencies) / wall:.0f} requests/s; server CPU "
          f"{cpu / max(1, len(latencies)) * 1000:.1f} ms per request")


if __name__ == "__main__":
    main()
