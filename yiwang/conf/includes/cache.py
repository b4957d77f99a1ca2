"""Cache and sessions: local memory and the database by default, Redis from REDIS_URL."""

from __future__ import annotations

from yiwang.conf.env import ConfigError, env

REDIS_URL = env(
    "REDIS_URL", None, group="Cache and background work", cast=str,
    doc="Redis for cache, sessions and the Celery broker, e.g. `redis://127.0.0.1:6379/0`. "
        "Unset: local-memory cache, database sessions and the embedded worker.",
)
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ConfigError("REDIS_URL", f"not a Redis URL ({REDIS_URL!r}); expected redis://host:port/db")

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": REDIS_URL, "KEY_PREFIX": "yiwang"}}
    SESSION_ENGINE = "django.contrib.sessions.backends.cache"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                          "LOCATION": "yiwang"}}
    # Django's database store, its per-request read prepared once per process
    SESSION_ENGINE = "yiwang.support.identity.session_store"

YIWANG_PAGE_CACHE_SECONDS = env(
    "YIWANG_PAGE_CACHE_SECONDS", 30, group="Cache and background work",
    doc="Seconds a public portal page is reused for visitors who are not signed in "
        "(0 turns it off). Counts and lists on those pages may lag by this much.",
)
