"""Point-in-grid lookups per second on one core, bucket index vs STRtree.

    .venv/bin/python benchmarks/point_in_grid_synthetic.py [--grids 400] [--points 200000]

Two synthetic cities of ``--grids`` grids over a 0.2° x 0.2° area: a square tiling, and a
Voronoi tessellation (irregular polygons sharing edges, closer to real grids). Points are
uniform over the area plus a 5% margin, so some fall outside every grid.
Goal (issue "Shared kernel"): >= 20,000 lookups/s on ~400 grids.
"""

from __future__ import annotations

import argparse
import math
import random
import time
from collections.abc import Callable

import shapely
from shapely.geometry.base import BaseGeometry

from yiwang.platform.regions.spatial import BucketIndex, TreeIndex

X0, Y0, SIZE = 120.0, 30.0, 0.2


def square_tiling(n: int) -> list[tuple[str, BaseGeometry, int]]:
    side = max(1, round(math.sqrt(n)))
    step = SIZE / side
    return [(f"{i:015d}", shapely.box(X0 + c * step, Y0 + r * step, X0 + (c + 1) * step,
                                      Y0 + (r + 1) * step), i)
            for i, (r, c) in enumerate((r, c) for r in range(side) for c in range(side))]


def voronoi_tiling(n: int, seed: int = 7) -> list[tuple[str, BaseGeometry, int]]:
    rng = random.Random(seed)
    seeds = shapely.MultiPoint([(X0 + rng.random() * SIZE, Y0 + rng.random() * SIZE)
                                for _ in range(n)])
    frame = shapely.box(X0, Y0, X0 + SIZE, Y0 + SIZE)
    cells = shapely.voronoi_polygons(seeds, extend_to=frame).geoms
    return [(f"{i:015d}", cell.intersection(frame), i) for i, cell in enumerate(cells)]


def rate(lookup: Callable[[float, float], object], points: list[tuple[float, float]]) -> float:
    start = time.perf_counter()
    for lon, lat in points:
        lookup(lon, lat)
    return len(points) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, default=400)
    parser.add_argument("--points", type=int, default=200_000)
    args = parser.parse_args()
    rng = random.Random(1)
    margin = SIZE * 0.05
    points = [(X0 - margin + rng.random() * (SIZE + 2 * margin),
               Y0 - margin + rng.random() * (SIZE + 2 * margin)) for _ in range(args.points)]
    for name, tiling in (("square", square_tiling), ("voronoi", voronoi_tiling)):
        entries = tiling(args.grids)
        vertices = sum(len(shapely.get_coordinates(g)) for _, g, _ in entries)
        started = time.perf_counter()
        bucket = BucketIndex(entries)
        build_bucket = time.perf_counter() - started
        started = time.perf_counter()
        tree = TreeIndex(entries)
        build_tree = time.perf_counter() - started
        sample = points[:20_000]
        mismatches = sum(bucket.code_at(x, y) != tree.code_at(x, y) for x, y in sample)
        bucket_rate = rate(bucket.lookup, points)
        tree_rate = rate(tree.lookup, points)
        print(f"{name:8} {len(entries)} grids, {vertices} vertices")
        print(f"  bucket index : {bucket_rate:>10,.0f} lookups/s "
              f"(build {build_bucket * 1000:.0f} ms)")
        print(f"  STRtree      : {tree_rate:>10,.0f} lookups/s "
              f"(build {build_tree * 1000:.0f} ms)")
        print(f"  ratio to goal 20,000/s: bucket {bucket_rate / 20_000:.1f}x, "
              f"STRtree {tree_rate / 20_000:.1f}x; disagreements on 20,000 points: {mismatches}")


if __name__ == "__main__":
    main()
