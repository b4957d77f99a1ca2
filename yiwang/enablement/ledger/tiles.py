"""C2SP tlog-tiles over the database: tile paths, reading tiles, and integrating new leaves.

Tiles have height 8 (256 hashes). Level-0 tiles hold leaf hashes; each hash of a level-l
tile (l > 0) is the Merkle root of a *full* tile of level l-1. Only full tiles are stored
(``Tile`` rows, with their root); a partial tile is read on demand from the ``Entry`` rows
(level 0) or from the roots of the full tiles one level down (at most 255 small rows).

Any perfect, aligned subtree of height h lies inside one tile of level h // 8, so
:class:`TileReader` answers ``subtree(start, height)`` with one tile read (cached per
reader) and the Merkle algorithms of :mod:`merkle` build roots and proofs from those:
O(log n) reads for any proof, whatever the size of the log.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection

from yiwang.enablement.ledger import merkle
from yiwang.enablement.ledger.models import Entry, Tile

HEIGHT = 8
WIDTH = 1 << HEIGHT  # 256
HASH = merkle.HASH_SIZE
MAX_LEVEL = 63


class TilePathError(ValueError):
    """A tile path that does not follow tlog-tiles (400), with the reason."""


@dataclass(frozen=True)
class TileAddress:
    level: int | None  # None: an entry bundle
    index: int
    width: int | None  # None: a full tile

    @property
    def path(self) -> str:
        kind = "entries" if self.level is None else str(self.level)
        suffix = f".p/{self.width}" if self.width is not None else ""
        return f"tile/{kind}/{encode_index(self.index)}{suffix}"


def encode_index(n: int) -> str:
    """1234067 -> ``x001/x234/067`` (zero-padded groups of three, all but the last x-ed)."""
    groups = [f"{n % 1000:03d}"]
    n //= 1000
    while n:
        groups.append(f"x{n % 1000:03d}")
        n //= 1000
    return "/".join(reversed(groups))


_SMALL_DECIMAL = re.compile(r"0|[1-9][0-9]{0,2}")
_GROUP = re.compile(r"x?[0-9]{3}")


def parse_tile_path(rest: str) -> TileAddress:
    """Parse the part after ``<prefix>/tile/``: ``<L>/<N>[.p/<W>]`` or ``entries/<N>[.p/<W>]``."""
    parts = rest.split("/")
    if len(parts) < 2 or len(rest) > 200:
        raise TilePathError("expected tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]")
    kind, parts = parts[0], parts[1:]
    level: int | None
    if kind == "entries":
        level = None
    elif _SMALL_DECIMAL.fullmatch(kind) and int(kind) <= MAX_LEVEL:
        level = int(kind)
    else:
        raise TilePathError("the level must be a decimal number from 0 to 63 "
                            "without leading zeroes")
    width = None
    if len(parts) >= 2 and parts[-2].endswith(".p"):
        w = parts[-1]
        if not _SMALL_DECIMAL.fullmatch(w) or not 1 <= int(w) <= 255:
            raise TilePathError("the width of a partial tile must be from 1 to 255 "
                                "without leading zeroes")
        width = int(w)
        parts = [*parts[:-2], parts[-2][:-2]]
    if not parts or any(not _GROUP.fullmatch(p) for p in parts):
        raise TilePathError("the tile index must be groups of three digits, x001/x234/067")
    if any(p.startswith("x") for p in parts[-1:]) or any(not p.startswith("x")
                                                       for p in parts[:-1]):
        raise TilePathError("all groups of the tile index but the last start with x")
    index = int("".join(p.lstrip("x") for p in parts))
    if encode_index(index) != "/".join(parts):
        raise TilePathError("the tile index has leading zero groups")
    return TileAddress(level, index, width)


def tile_count(size: int, level: int) -> tuple[int, int]:
    """(full tiles, width of the partial tile or 0) at ``level`` for a tree of ``size``."""
    span = WIDTH ** level
    return size // (span * WIDTH), (size // span) % WIDTH


# Tiles never change once written (a partial tile of width W neither: the log only grows),
# so a process-wide cache keeps their node levels, keyed by (log id, level, index, width).
# Only what was read outside a transaction is kept: inside one, rows this transaction
# wrote might still roll back. 512 tiles of 511 nodes each take about 17 MB.
_CACHE: OrderedDict[tuple[int, int, int, int], list[list[bytes]]] = OrderedDict()
_CACHE_LOCK = threading.Lock()
CACHE_TILES = 512


def _cached(key: tuple[int, int, int, int]) -> list[list[bytes]] | None:
    with _CACHE_LOCK:
        found = _CACHE.get(key)
        if found is not None:
            _CACHE.move_to_end(key)
        return found


def _remember(key: tuple[int, int, int, int], levels: list[list[bytes]]) -> None:
    if connection.in_atomic_block:
        return
    with _CACHE_LOCK:
        _CACHE[key] = levels
        while len(_CACHE) > CACHE_TILES:
            _CACHE.popitem(last=False)


def clear_cache() -> None:
    with _CACHE_LOCK:
        _CACHE.clear()


def split_hashes(blob: bytes) -> tuple[bytes, ...]:
    blob = bytes(blob)  # a memoryview from some database drivers
    return tuple([blob[i:i + HASH] for i in range(0, len(blob), HASH)])


def node_levels(hasher: merkle.Hasher, hashes: Sequence[bytes]) -> list[list[bytes]]:
    """levels[h][i]: the hash of the perfect subtree over hashes[i*2**h : (i+1)*2**h]
    (only the complete ones: a partial tile has fewer nodes at each height).

    A tile read from the database costs its 255 inner hashes; for SHA-256 they are
    computed inline (a third of the time through :meth:`Hasher.hash_children`), which is
    most of the CPU an inclusion proof takes when its tiles are not cached."""
    levels = [list(hashes)]
    if hasher.algorithm == "sha256":
        sha256, node = hashlib.sha256, merkle.NODE_PREFIX
        while len(levels[-1]) > 1:
            below = levels[-1]
            levels.append([sha256(node + below[i] + below[i + 1]).digest()
                           for i in range(0, len(below) - 1, 2)])
        return levels
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append([hasher.hash_children(below[i], below[i + 1])
                       for i in range(0, len(below) - 1, 2)])
    return levels


def _rows(sql: str, params: list[int]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# Constant SQL (no interpolation); "index" is quoted, being an SQL keyword.
_FULL_TILE = 'SELECT hashes FROM ledger_tile WHERE log_id = %s AND level = %s AND "index" = %s'
_LEAVES = ('SELECT leaf_hash FROM ledger_entry WHERE log_id = %s AND "index" >= %s '
           'AND "index" < %s ORDER BY "index"')
_ROOTS = ('SELECT root FROM ledger_tile WHERE log_id = %s AND level = %s AND "index" >= %s '
          'AND "index" < %s ORDER BY "index"')


class TileReader:
    """Reads tiles of one log at one tree size and answers subtree hashes from them.

    ``log`` is anything with ``pk`` and ``hash_algorithm`` (a ``Log`` row will do). Reads
    are plain SQL: a proof is a handful of indexed single-row reads, and the ORM's
    per-query overhead would be most of its cost.
    """

    def __init__(self, log: Any, size: int) -> None:
        self.log_pk = int(log.pk)
        self.size = size
        self.hasher = merkle.hasher_for(log.hash_algorithm)
        self._tiles: dict[tuple[int, int], list[list[bytes]]] = {}

    def tile(self, level: int, index: int) -> tuple[bytes, ...]:
        """The hashes of tile ``index`` at ``level`` as of this tree size (a partial tile
        is shorter than 256); empty if the tile does not exist yet."""
        return tuple(self._levels(level, index)[0])

    def _levels(self, level: int, index: int) -> list[list[bytes]]:
        key = (level, index)
        found = self._tiles.get(key)
        if found is not None:
            return found
        full, width = tile_count(self.size, level)
        if index < full:
            found = self._full(level, index)
        elif index == full and width:
            cache_key = (self.log_pk, level, index, width)
            found = _cached(cache_key)
            if found is None:
                found = node_levels(self.hasher, self._partial(level, index, width))
                _remember(cache_key, found)
        else:
            found = [[]]
        self._tiles[key] = found
        return found

    def _full(self, level: int, index: int) -> list[list[bytes]]:
        cache_key = (self.log_pk, level, index, WIDTH)
        found = _cached(cache_key)
        if found is None:
            rows = _rows(_FULL_TILE, [self.log_pk, level, index])
            if not rows:
                raise merkle.ProofError("tile missing",
                                        f"full tile {level}/{index} is not stored")
            found = node_levels(self.hasher, split_hashes(bytes(rows[0][0])))
            _remember(cache_key, found)
        return found

    def _partial(self, level: int, index: int, width: int) -> list[bytes]:
        start = index * WIDTH
        if level == 0:
            rows = _rows(_LEAVES, [self.log_pk, start, start + width])
        else:
            rows = _rows(_ROOTS, [self.log_pk, level - 1, start, start + width])
        hashes = [bytes(r[0]) for r in rows]
        if len(hashes) != width:
            raise merkle.ProofError("tile missing", f"partial tile {level}/{index} is "
                                                    f"incomplete ({len(hashes)}/{width})")
        return hashes

    def leaf(self, index: int) -> bytes:
        """The leaf hash of entry ``index`` (from its level-0 tile)."""
        return self.subtree(index, 0)

    def subtree(self, start: int, height: int) -> bytes:
        """Hash of the perfect subtree over leaves [start, start + 2**height)."""
        level, within = divmod(height, HEIGHT)
        first = start >> (HEIGHT * level)
        tile_index, offset = divmod(first, WIDTH)
        levels = self._levels(level, tile_index)
        try:
            return levels[within][offset >> within]
        except IndexError:
            raise merkle.ProofError(
                "index out of range",
                f"subtree at {start} of height {height} is not in the tree") from None

    def root(self) -> bytes:
        return merkle.range_hash(self.hasher, self.subtree, 0, self.size)

    def inclusion_proof(self, index: int) -> list[bytes]:
        return merkle.inclusion_path(self.hasher, self.subtree, index, self.size)

    def consistency_proof(self, old: int) -> list[bytes]:
        return merkle.consistency_path(self.hasher, self.subtree, old, self.size)


def integrate(log: Any, old_size: int, new_size: int, new_leaves: Sequence[bytes]) -> None:
    """Store every tile that became full when the log grew from ``old_size`` to
    ``new_size`` (``new_leaves`` are the leaf hashes of the entries just added). ``log``:
    anything with ``pk`` and ``hash_algorithm``."""
    hasher = merkle.hasher_for(log.hash_algorithm)
    level = 0
    # hashes of this level that were just produced, keyed by their index at this level
    produced: dict[int, bytes] = {old_size + i: h for i, h in enumerate(new_leaves)}
    old_count, new_count = old_size, new_size  # number of hashes at this level
    while new_count // WIDTH > old_count // WIDTH:
        next_produced: dict[int, bytes] = {}
        rows = []
        for t in range(old_count // WIDTH, new_count // WIDTH):
            start = t * WIDTH
            missing = [i for i in range(start, start + WIDTH) if i not in produced]
            known: dict[int, bytes] = {}
            if missing:
                known = _read_level(log, level, missing[0], missing[-1] + 1)
            hashes = [produced[i] if i in produced else known[i]
                      for i in range(start, start + WIDTH)]
            root = merkle.root_of(hasher, hashes)
            rows.append(Tile(log_id=log.pk, level=level, index=t, hashes=b"".join(hashes),
                             root=root))
            next_produced[t] = root
        Tile.objects.bulk_create(rows, batch_size=200)
        produced = next_produced
        old_count, new_count = old_count // WIDTH, new_count // WIDTH
        level += 1


def _read_level(log: Any, level: int, start: int, end: int) -> dict[int, bytes]:
    rows: Any
    if level == 0:
        rows = (Entry.objects.filter(log_id=log.pk, index__gte=start, index__lt=end)
                .values_list("index", "leaf_hash"))
    else:
        rows = (Tile.objects.filter(log_id=log.pk, level=level - 1, index__gte=start,
                                    index__lt=end)
                .values_list("index", "root"))
    return {i: bytes(h) for i, h in rows}
