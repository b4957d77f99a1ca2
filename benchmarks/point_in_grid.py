"""Point-in-grid lookups per second over the demo city's grids, through the regions service.

    YIWANG_ENV=demo .venv/bin/python benchmarks/point_in_grid.py [--points 200000]

Uses the demo database (run `make demo` or `yiwang demo` first). Baseline: testing every
grid's polygon in turn with shapely (what one writes without an index). Goal (issue 2):
>= 20,000 lookups/s.
"""

from __future__ import annotations

import argparse
import os
import random
import time

import django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200_000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.conf.settings")
    os.environ.setdefault("YIWANG_ENV", "demo")
    django.setup()
    import shapely
    from shapely.geometry import shape

    from yiwang.demo.geography import CITY
    from yiwang.platform.regions import service as regions

    grids = list(regions.grids_in(CITY[0]))
    if len(grids) < 400:
        raise SystemExit("load the demo city first: yiwang demo")
    city = regions.get_region(CITY[0])
    rng = random.Random(1)
    points = [(rng.uniform(city.min_lon, city.max_lon), rng.uniform(city.min_lat, city.max_lat))
              for _ in range(args.points)]
    regions.grid_at(*points[0])  # build the index once, outside the timing

    started = time.perf_counter()
    found = sum(1 for lon, lat in points if regions.grid_at(lon, lat) is not None)
    indexed = args.points / (time.perf_counter() - started)

    polygons = [(g.code, shapely.prepared.prep(shape(g.geometry))) for g in grids]
    sample = points[: max(1, args.points // 20)]
    started = time.perf_counter()
    for lon, lat in sample:
        point = shapely.Point(lon, lat)
        next((code for code, poly in polygons if poly.covers(point)), None)
    naive = len(sample) / (time.perf_counter() - started)

    print(f"{len(grids)} grids, {args.points} random points in the city's bounding box "
          f"({found} inside a grid), one process")
    print(f"{'method':<36}{'lookups/s':>12}{'ratio':>8}")
    print(f"{'regions.grid_at (bucket index)':<36}{indexed:>12,.0f}{indexed / naive:>8.1f}")
    print(f"{'baseline: every polygon in turn':<36}{naive:>12,.0f}{1.0:>8.1f}")
    print(f"goal >= 20,000/s: {'met' if indexed >= 20_000 else 'NOT met'} "
          f"({indexed / 20_000:.1f}x the goal)")


if __name__ == "__main__":
    main()
