"""The spatial kernel: the in-process point-in-grid index."""

from __future__ import annotations

from yiwang.conf.env import env

YIWANG_GRID_INDEX = env(
    "YIWANG_GRID_INDEX", True, group="Regions and grids",
    doc="Answer point-in-grid questions from an in-process index (fast); off: query the "
        "database each time.",
)
YIWANG_GRID_INDEX_RECHECK = env(
    "YIWANG_GRID_INDEX_RECHECK", 2.0, group="Regions and grids",
    doc="Seconds between checks whether another process changed the grids.",
)
