"""What the assistant knows: passages published by the modules (a guide's sections, its
FAQs, a bundle), their vectors computed when they change, and a per-process matrix of all
of them, reloaded when any passage changed (checked at most every few seconds)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from django.db import transaction
from django.db.models import Count, Max

from yiwang.support.assistant.encoder import encoder
from yiwang.support.assistant.models import Passage

CHECK_SECONDS = 5.0
_sources: dict[str, Callable[[], Iterable[PassageInput]]] = {}


@dataclass(frozen=True)
class PassageInput:
    source: str  # the search document key of what it belongs to ("service:<code>")
    section: str
    title: str
    text: str
    url: str

    @property
    def key(self) -> str:
        return f"{self.source}#{self.section}"[:200]


def _embedding_text(item: PassageInput) -> str:
    return f"{item.title} {item.section}:{item.text[:400]}"


def replace_passages(source: str, items: Iterable[PassageInput]) -> int:
    """Make ``items`` the passages of ``source`` (none: it is withdrawn)."""
    items = [i for i in items if i.text.strip()]
    if not items:  # withdrawn: no need of the encoder (loading it takes a second)
        Passage.objects.filter(source=source).delete()
        return 0
    engine = encoder()
    vectors = engine.encode([_embedding_text(i) for i in items])
    with transaction.atomic():
        Passage.objects.filter(source=source).delete()
        Passage.objects.bulk_create([
            Passage(key=item.key, source=item.source, title=item.title[:300],
                    section=item.section[:64], text=item.text, url=item.url[:300],
                    encoder=engine.name,
                    vector=(vectors[n].astype(np.float16).tobytes()
                            if vectors is not None and engine.dimension else b""))
            for n, item in enumerate(items)])
    return len(items)


def register_source(name: str, passages: Callable[[], Iterable[PassageInput]]) -> None:
    _sources[name] = passages


def rebuild() -> int:
    """Recompute every passage of every registered source (after changing the encoder)."""
    count = 0
    for passages in _sources.values():
        by_source: dict[str, list[PassageInput]] = {}
        for item in passages():
            by_source.setdefault(item.source, []).append(item)
        kinds = {s.split(":", 1)[0] for s in by_source}
        stale = Passage.objects.exclude(source__in=list(by_source))
        for kind in kinds:
            stale.filter(source__startswith=f"{kind}:").delete()
        for source, items in by_source.items():
            count += replace_passages(source, items)
    return count


@dataclass
class Matrix:
    ids: list[int]
    sources: list[str]
    vectors: np.ndarray  # (n, dim) float32
    stamp: tuple[int, object]


_matrix: Matrix | None = None
_checked = 0.0
_lock = threading.Lock()


def matrix() -> Matrix:
    """All passages' vectors of the current encoder, reloaded after a change."""
    global _matrix, _checked
    now = time.monotonic()
    if _matrix is not None and now - _checked < CHECK_SECONDS:
        return _matrix
    with _lock:
        name = encoder().name
        stamp_row = Passage.objects.filter(encoder=name).aggregate(n=Count("id"),
                                                                    at=Max("updated_at"))
        stamp = (stamp_row["n"], stamp_row["at"])
        if _matrix is None or _matrix.stamp != stamp:
            rows = list(Passage.objects.filter(encoder=name).values_list("id", "source",
                                                                         "vector"))
            dim = encoder().dimension
            vectors = (np.vstack([np.frombuffer(v, dtype=np.float16) for *_r, v in rows])
                       .astype(np.float32) if rows and dim else np.zeros((len(rows), dim),
                                                                        dtype=np.float32))
            _matrix = Matrix(ids=[r[0] for r in rows], sources=[r[1] for r in rows],
                             vectors=vectors, stamp=stamp)
        _checked = now
    return _matrix


def forget() -> None:
    """Drop this process's matrix (tests)."""
    global _matrix
    _matrix = None
