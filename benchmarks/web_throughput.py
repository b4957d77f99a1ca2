"""Requests/s and p99 latency of the portal home and /healthz, beside a bare Django "hello".

All three are served the same way (gunicorn, gthread, the same workers and threads as
`yiwang serve`) and loaded with wrk at 32 connections for 30 s each (override with
--duration). Run after `make demo` has loaded the city (uses YIWANG_DATA_DIR, default ./var).

    .venv/bin/python benchmarks/web_throughput.py [--duration 30]

Goal (issue 2): each yiwang figure >= 0.5 x the bare hello view.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(
    app: str, port: int, env: dict[str, str], workers: int, threads: int
) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--worker-class",
        "gthread",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
            return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit(f"{app} did not start on port {port}")


def wrk(url: str, duration: int) -> tuple[float, float]:
    """(requests per second, p99 latency in ms)."""
    out = subprocess.run(
        ["wrk", "-t2", "-c32", f"-d{duration}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise SystemExit(f"{url}: {non2xx.group(1)} error responses — fix before measuring")
    return rps, p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")

    base_env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    base_env.setdefault("YIWANG_ENV", "demo")
    base_env["YIWANG_LOG_LEVEL"] = "WARNING"
    hello_port, public_port = free_port(), free_port()
    yiwang_env = {**base_env, "YIWANG_ZONE": "public", "YIWANG_PUBLIC_PORT": str(public_port)}

    def measure_hello() -> tuple[float, float]:
        hello = start_gunicorn("benchmarks.hello.wsgi:application", hello_port, base_env,
                               args.workers, args.threads)
        try:
            return wrk(f"http://127.0.0.1:{hello_port}/", args.duration)
        finally:
            hello.terminate()
            hello.wait()

    # The baseline is measured before and after yiwang and averaged, so that a machine
    # warming up (or busy with something else) at one end does not tilt the ratio.
    before = measure_hello()
    results = {}
    web = start_gunicorn("yiwang.wsgi:application", public_port, yiwang_env,
                         args.workers, args.threads)
    try:
        results["portal home /"] = wrk(f"http://127.0.0.1:{public_port}/", args.duration)
        results["/healthz"] = wrk(f"http://127.0.0.1:{public_port}/healthz", args.duration)
        uncached = {**yiwang_env, "YIWANG_PAGE_CACHE_SECONDS": "0"}
    finally:
        web.terminate()
        web.wait()
    web = start_gunicorn("yiwang.wsgi:application", public_port, uncached,
                         args.workers, args.threads)
    try:
        results["portal home, no page cache"] = wrk(f"http://127.0.0.1:{public_port}/",
                                                    args.duration)
    finally:
        web.terminate()
        web.wait()
    after = measure_hello()
    results = {"bare Django hello": ((before[0] + after[0]) / 2, max(before[1], after[1])),
               **results}
    print(f"bare hello before/after: {before[0]:.0f} / {after[0]:.0f} req/s")

    base_rps, _base_p99 = results["bare Django hello"]
    print(
        f"\n32 connections, {args.duration} s each, gunicorn gthread "
        f"{args.workers} workers x {args.threads} threads, {os.cpu_count()} cores"
    )
    print(f"{'endpoint':<30}{'req/s':>10}{'p99 ms':>10}{'ratio':>8}")
    for name, (rps, p99) in results.items():
        print(f"{name:<30}{rps:>10.0f}{p99:>10.1f}{rps / base_rps:>8.2f}")
    print("goal: ratio >= 0.5 for the portal home and /healthz")


if __name__ == "__main__":
    main()
