"""Demo load time from empty: migrate a new database, then `yiwang demo`, timed separately.

    .venv/bin/python benchmarks/demo_load.py [--runs 3]

Each run uses a fresh temporary data folder (SQLite). Goal (issue 2): the demo load < 60 s.
A second `yiwang demo` on the loaded city (the idempotent re-run) is timed too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "yiwang", *args], env=env, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    migrate, load, reload = [], [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as data_dir:
            env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
            env.update(YIWANG_ENV="demo", YIWANG_DATA_DIR=data_dir)
            migrate.append(timed(["migrate", "--noinput"], env))
            load.append(timed(["demo"], env))
            reload.append(timed(["demo"], env))
    med = statistics.median
    print(f"{args.runs} runs, SQLite, fresh data folder each (median seconds, wall clock,"
          " including interpreter start-up)")
    print(f"{'step':<32}{'seconds':>9}{'of goal':>9}")
    print(f"{'migrate (empty database)':<32}{med(migrate):>9.1f}{'':>9}")
    print(f"{'yiwang demo (from empty)':<32}{med(load):>9.1f}{med(load) / 60:>9.2f}")
    print(f"{'yiwang demo (again, idempotent)':<32}{med(reload):>9.1f}{med(reload) / 60:>9.2f}")
    print("goal: demo load < 60 s (ratio < 1.00)")


if __name__ == "__main__":
    main()
