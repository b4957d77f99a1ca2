"""The per-process grid index behind ``service.grid_at`` and its invalidation.

Each process keeps one :class:`~yiwang.platform.regions.spatial.BucketIndex` of all grids,
shared by its threads. Every change to grids (a save or delete through the ORM — signals —
or a bulk load) writes a new random token to the ``GridIndexVersion`` row. Outside
transactions a thread compares the shared index's token with the database's at most every
``YIWANG_GRID_INDEX_RECHECK`` seconds (default 2), and at once after a commit of this
process changed grids. Inside a transaction (atomic block) it compares them on every lookup:
the transaction sees its own changes, and a rolled-back change must leave no trace.

Only what is committed is shared. A thread whose open transaction changed grids answers
from an index of its own (thread-local, rebuilt when the token changes), so other threads —
gunicorn's gthread workers — never see its uncommitted grids, before or after a rollback.
Setting ``YIWANG_GRID_INDEX = False`` makes ``grid_at`` query the database instead
(bounding-box prefilter + exact test).
"""

from __future__ import annotations

import math
import threading
import time
import uuid

import shapely
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from shapely.geometry import shape

from yiwang.platform.regions.models import Grid, GridIndexVersion
from yiwang.platform.regions.spatial import BucketIndex

KEY = "grids"

_Snapshot = tuple[str, BucketIndex[Grid]]  # (token, index of the grids with that token)


class _Shared:
    """The process's index of committed grids, used by every thread."""

    def __init__(self) -> None:
        self.snapshot: _Snapshot | None = None
        self.checked_at = -math.inf  # time.monotonic() before the last token read that matched
        self.invalidated_at = -math.inf  # a commit changed grids: check the token again


class _Local(threading.local):
    """This thread's view while its transaction holds grid changes others cannot see."""

    def __init__(self) -> None:
        self.uncommitted = False  # the open transaction (or one that rolled back) wrote grids
        self.snapshot: _Snapshot | None = None


_shared = _Shared()
_local = _Local()
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
    if connection.in_atomic_block:
        _local.uncommitted = True
    # After the commit (at once in autocommit mode) every thread checks the token on its
    # next lookup; a rollback discards this and leaves the shared index as it was.
    transaction.on_commit(_committed)


def _committed() -> None:
    _shared.invalidated_at = time.monotonic()
    _local.uncommitted = False
    _local.snapshot = None


def _build() -> BucketIndex[Grid]:
    entries = []
    for grid in Grid.objects.order_by("code"):
        geom = shape(grid.geometry)
        # The shapely geometry is what the index needs; dropping the GeoJSON makes the
        # field deferred (reloaded from the database if a caller reads it).
        del grid.__dict__["geometry"]
        entries.append((grid.code, geom, grid))
    return BucketIndex(entries)


def _share(token: str) -> BucketIndex[Grid]:
    """The shared index for ``token`` (committed), rebuilt if it is for another token."""
    with _lock:
        snapshot = _shared.snapshot
        if snapshot is None or snapshot[0] != token:
            snapshot = (token, _build())
            _shared.snapshot = snapshot
        return snapshot[1]


def current() -> BucketIndex[Grid]:
    """The grid index this thread should use now, rebuilt if grids changed since."""
    if connection.in_atomic_block:
        return _in_transaction()
    if _local.uncommitted:  # this thread's transaction is over: it was rolled back
        _local.uncommitted = False
        _local.snapshot = None
    started = time.monotonic()
    snapshot = _shared.snapshot
    if (snapshot is not None and _shared.checked_at > _shared.invalidated_at
            and started - _shared.checked_at < _recheck_seconds()):
        return snapshot[1]
    index = _share(_db_token())  # read before building: a change after this triggers a rebuild
    # The time before the read, so that a commit during the read still forces a new check.
    _shared.checked_at = max(_shared.checked_at, started)
    return index


def _in_transaction() -> BucketIndex[Grid]:
    token = _db_token()
    snapshot = _shared.snapshot
    if snapshot is not None and snapshot[0] == token:
        return snapshot[1]
    if not _local.uncommitted:
        # This transaction changed no grids: it sees committed ones, which may be shared
        # (other threads still check the token on their own schedule).
        return _share(token)
    own = _local.snapshot
    if own is None or own[0] != token:
        own = (token, _build())
        _local.snapshot = own
    return own[1]


def reset() -> None:
    """Forget the index (tests; after raw SQL changes to grids)."""
    with _lock:
        _shared.snapshot = None
        _shared.checked_at = -math.inf
        _shared.invalidated_at = -math.inf
    _local.uncommitted = False
    _local.snapshot = None


def lookup_db(lon: float, lat: float) -> Grid | None:
    """The database fallback: bounding boxes from indexed columns, then the exact test."""
    candidates = Grid.objects.filter(
        min_lon__lte=lon, max_lon__gte=lon, min_lat__lte=lat, max_lat__gte=lat
    ).order_by("code")
    for grid in candidates:
        if shapely.intersects_xy(shape(grid.geometry), lon, lat):
            return grid
    return None
