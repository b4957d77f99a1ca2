"""Database: embedded SQLite (WAL, busy timeout) by default, PostgreSQL from DATABASE_URL."""

from __future__ import annotations

from typing import Any

import dj_database_url

from yiwang.conf.env import ConfigError, env
from yiwang.conf.includes.base import DATA_DIR

DATABASE_URL = env(
    "DATABASE_URL", None, group="Database", cast=str,
    show_default="sqlite:///$YIWANG_DATA_DIR/yiwang.sqlite3",
    doc="Database to use: `postgres://user:pass@host:5432/name` for PostgreSQL; unset for "
        "the embedded SQLite file.",
)
SQLITE_BUSY_TIMEOUT = env("YIWANG_SQLITE_TIMEOUT", 20, group="Database",
                          doc="Seconds SQLite waits for a lock before giving up.")


def sqlite_database(path: str) -> dict[str, Any]:
    return {
        # Django's SQLite backend with write transactions queued (yiwang/core/sqlite)
        "ENGINE": "yiwang.core.sqlite",
        "NAME": path,
        # Keep each thread's connection between requests: opening one and running the
        # pragmas below costs close to a millisecond, a large share of a token request.
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            "timeout": SQLITE_BUSY_TIMEOUT,
            # IMMEDIATE: writers take the lock at BEGIN, so concurrent writers queue on the
            # busy timeout instead of failing with "database is locked" mid-transaction.
            "transaction_mode": "IMMEDIATE",
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                f"PRAGMA foreign_keys=ON; PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT * 1000};"
            ),
        },
    }


def parse_database_url(url: str) -> dict[str, Any]:
    """Parse DATABASE_URL, or raise ConfigError saying what is wrong with it."""
    if "://" not in url:
        raise ConfigError("DATABASE_URL", f"not a URL ({url!r}); expected postgres://…")
    scheme = url.split("://", 1)[0]
    if scheme not in {"postgres", "postgresql", "pgsql", "sqlite"}:
        raise ConfigError(
            "DATABASE_URL", f"unsupported database {scheme!r}; use postgres:// or sqlite://"
        )
    try:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except Exception as exc:  # dj_database_url raises bare ValueErrors and more
        raise ConfigError("DATABASE_URL", f"cannot be parsed: {exc}") from None
    if config["ENGINE"].endswith("sqlite3"):
        return sqlite_database(config["NAME"])
    if not config.get("NAME"):
        raise ConfigError("DATABASE_URL", "names no database (add /dbname at the end)")
    return dict(config)


if DATABASE_URL:
    DATABASES = {"default": parse_database_url(DATABASE_URL)}
else:
    DATABASES = {"default": sqlite_database(str(DATA_DIR / "yiwang.sqlite3"))}
