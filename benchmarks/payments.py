"""Payment figure of issue 7: bank notifications handled per second, with idempotency (goal
>= 500/s).

A fresh database (SQLite in a temporary directory, or PostgreSQL with ``--database-url``)
gets ``--orders`` fee orders, each paid at the simulated bank, whose SM2-signed notifications
are made up front. Then ``--clients`` concurrent connections post every notification twice
(the second time it is a replay, as gateways resend until answered) to
``POST /api/v1/payments/notify/local`` on the public listener, served as ``yiwang serve``
serves it (gunicorn, the default workers and threads). Each notification is verified,
checked against the order and applied in one transaction with its idempotency record, the
order settled, the payment appended to the ledger and its receipt job queued.

Afterwards the database must hold exactly one settled payment per order, one ledger entry
per order and one notification row per notification, received twice.

    .venv/bin/python benchmarks/payments.py [--orders 3000] [--clients 8] [--database-url …]
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._server import Server, free_port, percentile, setup_django  # noqa: E402

GOAL_PER_SECOND = 500.0


def prepare(n: int) -> list[tuple[bytes, str]]:
    from django.conf import settings

    from yiwang.platform.orgs import service as orgs
    from yiwang.platform.regions.testing import CITY, make_chain
    from yiwang.support.payments import service as payments

    settings.YIWANG_PAY_LOCAL_FAILURE_RATE = 0.0
    make_chain(geometry=False)
    orgs.create_department("scjg", "示例市市场监督管理局", region_code=CITY)
    bank = payments.local_bank()
    notifications = []
    started = time.perf_counter()
    for k in range(n):
        order = payments.create_order(title="企业档案查询复印费", amount_fen=2000 + k % 7,
                                      department_code="scjg", region_code="339900000000",
                                      source="benchmark", payer_name=f"缴款人{k}")
        url = payments.start_online_payment(order, "local")
        txn = payments.confirm_local_payment(url.strip("/").split("/")[-1], rng=lambda: 1.0)
        notifications.append(bank.notification(txn))
        if (k + 1) % 1000 == 0:
            print(f"  {k + 1:,} orders paid at the bank ({time.perf_counter() - started:.0f} s)",
                  flush=True)
    return notifications


def client_loop(port: int, items: list[tuple[bytes, str]], out: list[float],
                errors: list[str]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for body, signature in items:
        started = time.perf_counter()
        for _attempt in range(2):
            try:
                conn.request("POST", "/api/v1/payments/notify/local", body=body, headers={
                    "Content-Type": "application/json", "X-Pay-Signature": signature,
                    "Host": f"127.0.0.1:{port}"})
                response = conn.getresponse()
                answer = response.read()
                break
            except (http.client.HTTPException, OSError):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        else:
            errors.append("connection failed")
            continue
        out.append((time.perf_counter() - started) * 1000)
        if response.status != 200 or answer != b"success":
            errors.append(f"{response.status} {answer[:100]!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="yiwang-payments-") as data_dir:
        setup_django(data_dir, args.database_url)
        from django.conf import settings
        from django.db import connection

        print(f"preparing {args.orders:,} orders paid at the simulated bank …", flush=True)
        notifications = prepare(args.orders)
        # each notification twice: the original and a replay, shuffled across clients
        deliveries = notifications + notifications
        random.Random(7).shuffle(deliveries)
        vendor = connection.vendor
        connection.close()
        port = free_port()
        server = Server(zone="public", ports={"public": port}, data_dir=data_dir,
                        database_url=args.database_url, workers=settings.YIWANG_WEB_WORKERS,
                        threads=settings.YIWANG_WEB_THREADS)
        try:
            latencies: list[float] = []
            errors: list[str] = []
            shares = [deliveries[i::args.clients] for i in range(args.clients)]
            threads = [threading.Thread(target=client_loop, args=(port, share, latencies,
                                                                  errors))
                       for share in shares]
            wall, cpu = server.drive(threads)
        finally:
            server.stop()
        from yiwang.enablement.ledger import service as ledger
        from yiwang.support.payments import service as payments

        paid = payments.Order.objects.filter(state="paid").count()
        settled, start = 0, 0
        while True:
            chunk = ledger.entries("main", start)
            if not chunk:
                break
            settled += sum(1 for e in chunk if e.entry_type == "payment.settled")
            start += len(chunk)
        rows = payments.Notification.objects.count()
    if errors:
        print(f"{len(errors)} failed deliveries, e.g. {errors[0]}")
    rate = len(latencies) / wall
    print(f"bank notifications, {args.orders:,} orders, each notification sent twice "
          f"({len(deliveries):,} deliveries), {args.clients} clients, {vendor}, "
          f"{os.cpu_count()} cores")
    print(f"  {rate:,.0f} notifications/s handled (goal >= {GOAL_PER_SECOND:.0f}/s: ratio "
          f"{rate / GOAL_PER_SECOND:.2f}); p50 {statistics.median(latencies):.1f} ms, "
          f"p99 {percentile(latencies, 99):.1f} ms; server CPU "
          f"{cpu / max(1, len(latencies)) * 1000:.2f} ms per notification")
    print(f"  afterwards: {paid:,} orders paid, {settled:,} ledger entries, {rows:,} "
          f"notifications recorded")
    if paid != args.orders or settled != args.orders or rows != args.orders:
        raise SystemExit("idempotency broken: the counts above must all equal the orders")


if __name__ == "__main__":
    main()
