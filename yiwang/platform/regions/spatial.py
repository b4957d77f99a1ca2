"""An in-process point-in-polygon index for grids (网格定位).

Tie rule: a point belongs to the grid with the **smallest code** among those whose closed
polygon (interior and boundary) contains it. Points on an edge or vertex shared by several
grids therefore resolve to exactly one of them, the same one every time; points in a hole
belong to no grid unless another grid fills the hole.

Two implementations answer the same question:

- :class:`BucketIndex` (the default): a uniform grid of buckets over the extent. Each
  bucket lists its candidate polygons sorted by code; a bucket lying wholly inside the
  interior of its first candidate answers without any geometric test. Others test the
  candidates with ``shapely.intersects_xy`` on prepared polygons.
- :class:`TreeIndex`: a shapely ``STRtree`` queried with an ``intersects`` predicate.

``benchmarks/point_in_grid_synthetic.py`` (at the root of the repository) measures their speed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Generic, TypeVar

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

T = TypeVar("T")

# Cells are tested shrunk/grown by this many degrees (~1 mm) so that float rounding in the
# bucket arithmetic can never put a point in a cell whose shortcut does not hold for it.
_EPSILON = 1e-8


class BucketIndex(Generic[T]):
    """Uniform bucket index; ``entries`` are (code, geometry, payload)."""

    def __init__(self, entries: Sequence[tuple[str, BaseGeometry, T]],
                 buckets_per_entry: float = 8.0) -> None:
        ordered = sorted(entries, key=lambda e: e[0])
        self.size = len(ordered)
        self._codes = [e[0] for e in ordered]
        self._geoms = [e[1] for e in ordered]
        self._payloads = [e[2] for e in ordered]
        self._buckets: dict[int, tuple[int, ...]] = {}
        self._owner: dict[int, int] = {}
        if not ordered:
            self._x0 = self._y0 = 0.0
            self._dx = self._dy = 1.0
            self._nx = self._ny = 0
            return
        for geom in self._geoms:
            shapely.prepare(geom)
        bounds = shapely.bounds(np.array(self._geoms, dtype=object))
        x0, y0 = float(bounds[:, 0].min()), float(bounds[:, 1].min())
        x1, y1 = float(bounds[:, 2].max()), float(bounds[:, 3].max())
        width, height = max(x1 - x0, 1e-9), max(y1 - y0, 1e-9)
        cells = max(1.0, buckets_per_entry * self.size)
        # Square-ish buckets: nx / ny follows the extent's aspect ratio.
        nx = max(1, round(math.sqrt(cells * width / height)))
        ny = max(1, round(cells / nx))
        self._x0, self._y0, self._x1, self._y1 = x0, y0, x1, y1
        self._nx, self._ny = nx, ny
        self._dx, self._dy = width / nx, height / ny
        members: dict[int, list[int]] = {}
        for i, (bx0, by0, bx1, by1) in enumerate(bounds):
            ix0, iy0 = self._cell(float(bx0), float(by0))
            ix1, iy1 = self._cell(float(bx1), float(by1))
            for ix in range(ix0, ix1 + 1):
                for iy in range(iy0, iy1 + 1):
                    members.setdefault(iy * nx + ix, []).append(i)
        for key, indexes in members.items():
            ix, iy = key % nx, key // nx
            cell = shapely.box(x0 + ix * self._dx - _EPSILON, y0 + iy * self._dy - _EPSILON,
                               x0 + (ix + 1) * self._dx + _EPSILON,
                               y0 + (iy + 1) * self._dy + _EPSILON)
            hits = [i for i in indexes if self._geoms[i].intersects(cell)]
            if not hits:
                continue
            # hits are in code order: the first one owns the cell if it covers it entirely
            # (then no point of the cell can belong to a grid with a smaller code).
            if self._geoms[hits[0]].contains_properly(cell):
                self._owner[key] = hits[0]
            else:
                self._buckets[key] = tuple(hits)

    def _cell(self, lon: float, lat: float) -> tuple[int, int]:
        ix = min(max(int((lon - self._x0) / self._dx), 0), self._nx - 1)
        iy = min(max(int((lat - self._y0) / self._dy), 0), self._ny - 1)
        return ix, iy

    def position(self, lon: float, lat: float) -> int | None:
        """Position (in code order) of the grid containing the point, or None."""
        if not (self._x0 <= lon <= self._x1 and self._y0 <= lat <= self._y1) or not self.size:
            return None
        ix = int((lon - self._x0) / self._dx)
        iy = int((lat - self._y0) / self._dy)
        if ix >= self._nx:
            ix = self._nx - 1
        if iy >= self._ny:
            iy = self._ny - 1
        key = iy * self._nx + ix
        owner = self._owner.get(key)
        if owner is not None:
            return owner
        for i in self._buckets.get(key, ()):
            if shapely.intersects_xy(self._geoms[i], lon, lat):
                return i
        return None

    def lookup(self, lon: float, lat: float) -> T | None:
        """The payload of the grid containing the point, or None."""
        i = self.position(lon, lat)
        return None if i is None else self._payloads[i]

    def code_at(self, lon: float, lat: float) -> str | None:
        """The code of the grid containing the point, or None."""
        i = self.position(lon, lat)
        return None if i is None else self._codes[i]


class TreeIndex(Generic[T]):
    """STRtree index; same interface and tie rule as :class:`BucketIndex`."""

    def __init__(self, entries: Sequence[tuple[str, BaseGeometry, T]]) -> None:
        ordered = sorted(entries, key=lambda e: e[0])
        self.size = len(ordered)
        self._codes = [e[0] for e in ordered]
        self._payloads = [e[2] for e in ordered]
        self._tree = shapely.STRtree([e[1] for e in ordered])

    def position(self, lon: float, lat: float) -> int | None:
        """Position (in code order) of the grid containing the point, or None."""
        hits = self._tree.query(shapely.Point(lon, lat), predicate="intersects")
        return int(hits.min()) if len(hits) else None  # positions follow code order

    def lookup(self, lon: float, lat: float) -> T | None:
        """The payload of the grid containing the point, or None."""
        i = self.position(lon, lat)
        return None if i is None else self._payloads[i]

    def code_at(self, lon: float, lat: float) -> str | None:
        """The code of the grid containing the point, or None."""
        i = self.position(lon, lat)
        return None if i is None else self._codes[i]
