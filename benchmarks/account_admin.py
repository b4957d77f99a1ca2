"""Account administration (账户管理) at a million accounts: p50/p99 of the list's queries.

    .venv/bin/python benchmarks/account_admin.py [--accounts 1000000] [--baseline 10000]
                                                 [--runs 300] [--rounds 3] [--rebuild]

Builds two throwaway SQLite databases under var/bench/account_admin/ (kept between runs and
reused while they hold the right number of accounts; --rebuild makes them again): one with
``--accounts`` accounts and one with ``--baseline`` accounts. Accounts are bulk-inserted with
one precomputed password hash and their real blind indexes and encrypted phone and ID
numbers, in the proportions of a city: 96% citizens, 4% officials; 35% real-name verified
(L2); 1% deactivated; user names of pinyin syllables and digits.

Each query goes through ``identity.service.search_accounts`` — the function the workbench
list calls, masking included (50 rows per page, each phone decrypted and masked) — and is
timed ``--runs`` times after a warm-up, in ``--rounds`` rounds alternating the databases.
Printed: p50 and p99 in ms on each database (medians over the rounds) and the ratio
large/small: near 1.0 means the query does not grow with the table.
Goal (issue 3): "admin screens that stay fast at a million accounts".
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "var" / "bench" / "account_admin"
SYLLABLES = ["zhang", "wang", "li", "zhao", "chen", "liu", "yang", "huang", "zhou", "wu",
             "xu", "sun", "ma", "zhu", "hu", "guo", "he", "lin", "luo", "gao", "xiao", "qin"]
GIVEN = ["wei", "fang", "na", "min", "jing", "lei", "qiang", "jun", "yang", "yong", "yan",
         "jie", "tao", "ming", "chao", "xia", "ping", "gang", "hua", "xin"]
SURNAMES = "张王李赵陈刘杨黄周吴徐孙马朱胡郭何林罗高肖秦"
PAGE = 50


def setup_django(data_dir: Path) -> None:
    """Point yiwang at a data folder of its own (its SQLite file and generated keys)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    os.environ.update(YIWANG_ENV="demo", YIWANG_DATA_DIR=str(data_dir),
                      YIWANG_LOG_LEVEL="WARNING", DJANGO_SETTINGS_MODULE="yiwang.conf.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False  # no query log growing over a million inserts


def account_count(path: Path) -> int:
    if not path.exists():
        return -1
    try:
        with sqlite3.connect(path) as db:
            return int(db.execute("SELECT count(*) FROM identity_user").fetchone()[0])
    except sqlite3.Error:
        return -1


def build(n: int, seed: int = 3) -> None:
    """Migrate a fresh database and insert ``n`` accounts in large transactions."""
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection, transaction

    from yiwang.core.crypto.service import blind_index
    from yiwang.core.identifiers.service import generate_id_number
    from yiwang.support.identity.models import User

    call_command("migrate", verbosity=0, interactive=False)
    rng = random.Random(seed)
    password = make_password("bench-password-not-used")  # one hash for every account
    phone_field = User._meta.get_field("phone")
    id_field = User._meta.get_field("id_number")
    real_name_field = User._meta.get_field("real_name")
    start = datetime(2020, 1, 1, tzinfo=UTC)
    columns = ("password", "is_superuser", "username", "first_name", "last_name", "email",
               "is_staff", "is_active", "date_joined", "account_type", "display_name", "phone",
               "phone_index", "phone_verified_at", "real_name", "id_number", "id_number_index",
               "verified_at", "verified_by", "level")
    sql = (f"INSERT INTO identity_user ({', '.join(columns)}) "  # noqa: S608 - fixed names
           f"VALUES ({', '.join(['%s'] * len(columns))})")
    started = time.perf_counter()
    batch: list[tuple[object, ...]] = []
    for i in range(n):
        username = f"{rng.choice(SYLLABLES)}{rng.choice(GIVEN)}{i:07d}"
        official = rng.random() < 0.04
        verified = official or rng.random() < 0.35
        joined = start + timedelta(seconds=i * 60)
        name = rng.choice(SURNAMES) + rng.choice("伟芳娜敏静磊强军洋勇艳杰涛明超")
        phone = f"1{rng.choice('3456789')}{i:09d}"
        id_number = id_token = id_index = real_name = ""
        if verified:
            # Unique by construction: a birth date and a sequence code per account.
            birth = date(1950, 1, 1) + timedelta(days=i // 998)
            sequence = i % 998 + 1
            id_number = generate_id_number("110101", birth, "male" if sequence % 2 else "female",
                                           sequence=sequence)
            id_token = id_field.get_prep_value(id_number)
            id_index = blind_index(id_number, "identity.id_number")
            real_name = real_name_field.get_prep_value(name)
        batch.append((
            password, False, username, "", "", "", official, rng.random() >= 0.01,
            joined.isoformat(), "official" if official else "citizen", name,
            phone_field.get_prep_value(phone), blind_index(phone, "identity.phone"),
            joined.isoformat(), real_name, id_token, id_index,
            joined.isoformat() if verified else None, "registry" if verified else "",
            2 if verified else 1,
        ))
        if len(batch) == 20_000:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(sql, batch)
            batch.clear()
            print(f"\r  {i + 1:>9,} accounts ({time.perf_counter() - started:.0f} s)", end="",
                  flush=True)
    if batch:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, batch)
    with connection.cursor() as cursor:  # fold the write-ahead log into the database file
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    print(f"\r  {n:>9,} accounts in {time.perf_counter() - started:.0f} s")


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    for _ in range(min(10, runs)):
        fn()
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def measure(runs: int) -> dict[str, tuple[float, float]]:
    """Time each query of the list on the database Django is connected to."""
    from django.core.cache import cache
    from django.db import connection

    from yiwang.support.identity import service as identity
    from yiwang.support.identity.models import User

    ids = list(User.objects.order_by("id").values_list("id", flat=True)[:1])
    last = User.objects.order_by("-id").values_list("id", flat=True).first()
    assert ids and last
    first_id = ids[0]
    n = last - first_id + 1
    deep_after = first_id + n // 100  # a page near the very end of the list (oldest accounts)
    middle = first_id + n // 2
    sample = User.objects.filter(pk=middle).only("phone").get()
    phone = sample.phone
    popular = "zhang"  # about 1 in 22 user names
    rare = User.objects.filter(pk=middle).values_list("username", flat=True).get()[:-1]

    queries: dict[str, Callable[[], object]] = {
        "first page (newest 50)": lambda: identity.search_accounts(limit=PAGE),
        "deep keyset page (oldest 1%)": lambda: identity.search_accounts(
            after_id=deep_after, limit=PAGE),
        "next page after the middle": lambda: identity.search_accounts(
            after_id=middle, limit=PAGE),
        "previous page (before_id)": lambda: identity.search_accounts(
            before_id=middle, limit=PAGE),
        f"prefix '{popular}' (~4.5%)": lambda: identity.search_accounts(q=popular, limit=PAGE),
        "prefix, deep page": lambda: identity.search_accounts(
            q=popular, after_username=f"{popular}wei0{n // 2:06d}", limit=PAGE),
        "prefix matching <= 10": lambda: identity.search_accounts(q=rare, limit=PAGE),
        "exact phone (blind index)": lambda: identity.search_accounts(q=phone, limit=PAGE),
        "filter: officials (4%)": lambda: identity.search_accounts(
            account_type="official", limit=PAGE),
        "filter: L2, middle": lambda: identity.search_accounts(
            level=2, after_id=middle, limit=PAGE),
        "filter: deactivated (1%)": lambda: identity.search_accounts(active=False, limit=PAGE),
    }
    results = {name: timed(fn, runs) for name, fn in queries.items()}
    # Filters show a cached count; refreshing it (every few minutes) costs this much once.
    def recount() -> None:
        cache.clear()
        identity.approximate_total()
    results["count refresh (cached 5 min)"] = timed(recount, max(5, runs // 20))

    # For contrast only: the OFFSET paging the list does not use.
    def offset_page() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, username, phone FROM identity_user ORDER BY id DESC "
                           "LIMIT 50 OFFSET %s", [n // 2])
            cursor.fetchall()
    results["(contrast) OFFSET n/2, not used"] = timed(offset_page, max(5, runs // 20))
    return results


def run_on(count: int, runs: int, rebuild: bool, tag: str) -> dict[str, tuple[float, float]]:
    """Build (if needed) and measure one database, in a child process of its own: Django
    binds to one data folder per process."""
    import json
    import subprocess

    out = subprocess.run(
        [sys.executable, __file__, "--child", str(count), "--runs", str(runs),
         *(["--rebuild"] if rebuild else []), "--tag", tag],
        check=True, capture_output=True, text=True, cwd=ROOT)
    sys.stderr.write(out.stderr)
    return {k: tuple(v) for k, v in json.loads(out.stdout.splitlines()[-1]).items()}


def child(count: int, runs: int, rebuild: bool, tag: str) -> None:
    import json

    data_dir = BENCH_DIR / tag
    db = data_dir / "yiwang.sqlite3"
    if rebuild or account_count(db) != count:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        setup_django(data_dir)
        sys.stderr.write(f"building {count:,} accounts in {db.relative_to(ROOT)}\n")
        real_stdout, sys.stdout = sys.stdout, sys.stderr
        try:
            build(count)
        finally:
            sys.stdout = real_stdout
    else:
        setup_django(data_dir)
    print(json.dumps(measure(runs)))


def combine(rounds: list[dict[str, tuple[float, float]]]) -> dict[str, tuple[float, float]]:
    """Per query, the median over the rounds of p50 and of p99."""
    return {name: (statistics.median(r[name][0] for r in rounds),
                   statistics.median(r[name][1] for r in rounds)) for name in rounds[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--baseline", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--tag", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.runs, args.rebuild, args.tag)
        return
    # Rounds alternate the two databases, and each figure is the median over the rounds,
    # so that a busy moment of the machine does not tilt one side of the ratio.
    smalls, larges = [], []
    for n in range(args.rounds):
        rebuild = args.rebuild and n == 0
        smalls.append(run_on(args.baseline, args.runs, rebuild, f"n{args.baseline}"))
        larges.append(run_on(args.accounts, args.runs, rebuild, f"n{args.accounts}"))
    small, large = combine(smalls), combine(larges)
    print(f"SQLite, {args.rounds} rounds x {args.runs} runs per query (fewer for the last two),"
          " through identity.service.search_accounts, 50 rows per page, masking included")
    head = f"{'query':<34}{f'{args.baseline:,} p50':>12}{'p99':>8}" \
           f"{f'{args.accounts:,} p50':>15}{'p99':>8}{'ratio p50':>11}"
    print(head)
    print("-" * len(head))
    for name, (p50, p99) in large.items():
        b50, b99 = small[name]
        print(f"{name:<34}{b50:>12.2f}{b99:>8.2f}{p50:>15.2f}{p99:>8.2f}{p50 / b50:>10.2f}x")
    print(f"ms; ratio = p50 at {args.accounts:,} / p50 at {args.baseline:,} accounts "
          "(1.00x: does not grow with the table)")


if __name__ == "__main__":
    main()
