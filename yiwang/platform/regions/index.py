"""The per-process grid index behind ``service.grid_at`` and its invalidation.

Each process keeps one :class:`~yiwang.platform.regions.spatial.BucketIndex` of all grids.
Every change to grids (a save or delete through the ORM — signals — or a bulk load) writes a
new random token to the ``GridIndexVersion`` row. A process compares its index's token with
the database's at most every ``YIWANG_GRID_INDEX_RECHECK`` seconds (default 2), but on every
lookup made inside a transaction (atomic block) or after this process changed grids and
before it has seen the change committed: a rolled-back change must not survive in the
index, and a transaction sees its own changes. Setting ``YIWANG_GRID_INDEX = False``
makes ``grid_at`` query the database instead (bounding-box prefilter + exact test).
"""

from __future__ import annotations

import threading
import time
import uuid

import shapely
from django.conf import settings
from django.db import connection
from django.utils import timezone
from shapely.geometry import shape

from yiwang.platform.regions.models import Grid, GridIndexVersion
from yiwang.platform.regions.spatial import BucketIndex

KEY = "grids"


class _State:
    def __init__(self) -> None:
        self.index: BucketIndex[Grid] | None = None
        self.token: str | None = None
        self.checked_at = 0.0
        self.tentative = False


_state = _State()
_lock = threading.Lock()


def enabled() -> bool:
    return bool(getattr(settings, "YIWANG_GRID_INDEX", True))


def _recheck_seconds() -> float:
    return float(getattr(settings, "YIWANG_GRID_INDEX_RECHECK", 2.0))


def _db_token() -> str:
    token = GridIndexVersion.objects.filter(key=KEY).values_list("token", flat=True).first()
    return token or ""


def grids_changed() -> None:
    """Tell every process that grids changed (call inside the changing transaction)."""
    token = uuid.uuid4().hex
    now = timezone.now()
    # QuerySet writes: no signals, so the version row does not flood the audit log.
    if not GridIndexVersion.objects.filter(key=KEY).update(token=token, changed_at=now):
        GridIndexVersion.objects.bulk_create(
            [GridIndexVersion(key=KEY, token=token, changed_at=now)], ignore_conflicts=True
        )
        GridIndexVersion.objects.filter(key=KEY).update(token=token, changed_at=now)
    _state.tentative = True


def _build() -> BucketIndex[Grid]:
    entries = []
    for grid in Grid.objects.order_by("code"):
        geom = shape(grid.geometry)
        # The shapely geometry is what the index needs; dropping the GeoJSON makes the
        # field deferred (reloaded from the database if a caller reads it).
        del grid.__dict__["geometry"]
        entries.append((grid.code, geom, grid))
    return BucketIndex(entries)


def current() -> BucketIndex[Grid]:
    """This process's grid index, rebuilt if grids changed since it was built."""
    state = _state
    now = time.monotonic()
    # Inside a transaction the index may not match what this connection sees (its own
    # uncommitted changes, or a test's rolled-back ones): check the token every time there.
    if (state.index is not None and not state.tentative and not connection.in_atomic_block
            and now - state.checked_at < _recheck_seconds()):
        return state.index
    token = _db_token()  # read before building: a change after this triggers a rebuild
    with _lock:
        if state.index is None or token != state.token:
            state.index = _build()
            state.token = token
        state.checked_at = now
        if not connection.in_atomic_block:
            state.tentative = False  # what we read is committed
        return state.index


def reset() -> None:
    """Forget the index (tests; after raw SQL changes to grids)."""
    with _lock:
        _state.index = None
        _state.token = None
        _state.tentative = False


def lookup_db(lon: float, lat: float) -> Grid | None:
    """The database fallback: bounding boxes from indexed columns, then the exact test."""
    candidates = Grid.objects.filter(
        min_lon__lte=lon, max_lon__gte=lon, min_lat__lte=lat, max_lat__gte=lat
    ).order_by("code")
    for grid in candidates:
        if shapely.intersects_xy(shape(grid.geometry), lon, lat):
            return grid
    return None
