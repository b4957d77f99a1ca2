"""Start-up checks: the process stops with one line naming the variable and the problem."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.db.utils import Error as DatabaseError

from yiwang.conf.env import ConfigError


def check_database() -> None:
    try:
        connection.ensure_connection()
    except DatabaseError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        variable = "DATABASE_URL" if settings.DATABASE_URL else "YIWANG_DATA_DIR"
        raise ConfigError(variable, f"cannot connect to the database ({first})") from None


def check_redis() -> None:
    if not settings.REDIS_URL:
        return
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=3).ping()
    except (redis.RedisError, OSError) as exc:
        raise ConfigError("REDIS_URL", f"Redis is unreachable ({exc})") from None


def check_data_keys() -> None:
    """The keys for personal data load and a value round-trips (ConfigError names the key
    variable when they are malformed)."""
    from yiwang.core.crypto.service import CryptoError, self_check

    try:
        self_check()
    except CryptoError as exc:
        raise ConfigError("YIWANG_DATA_KEYS", f"personal data encryption fails ({exc})") from None


def check_dependencies() -> None:
    """Check the data keys, the database and Redis; raise ConfigError naming the first
    that is wrong."""
    check_data_keys()
    check_database()
    check_redis()
