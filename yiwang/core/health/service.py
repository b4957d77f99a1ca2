"""Public facade of the health app: readiness of the dependencies, and the WSGI application
that serves pages and the stateless protocol endpoints (see handlers.py)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from django.core.cache import cache
from django.db import connection

from yiwang.core.health.handlers import Application
from yiwang.core.health.preflight import check_dependencies
from yiwang.core.tasks.service import worker_status

__all__ = ["Application", "check_dependencies", "readiness"]


def _timed(check: Any) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        detail = check()
        ok = True
    except Exception as exc:  # a readiness probe reports, it never raises
        ok, detail = False, f"{type(exc).__name__}: {exc}"
    result = {"ok": ok, "ms": round((time.perf_counter() - started) * 1000, 1)}
    if detail:
        result["detail"] = detail
    return result


def _database() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return None


def _cache() -> str | None:
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, "1", 5)
    if cache.get(key) != "1":
        raise RuntimeError("cache did not return what was stored")
    cache.delete(key)
    return None


def _worker() -> str:
    status = worker_status()
    if not status.alive:
        raise RuntimeError(status.describe())
    return status.describe()


def readiness() -> dict[str, dict[str, Any]]:
    """Each dependency's verdict: ``{"database": {"ok": True, "ms": 0.4}, ...}``."""
    return {"database": _timed(_database), "cache": _timed(_cache), "worker": _timed(_worker)}
