"""Per-client request budgets for public endpoints that cost CPU or write records.

A fixed one-minute window per (scope, client address), counted in the shared cache (Redis
in production, so every process of every listener shares the count)::

    from yiwang.core import ratelimit

    if ratelimit.exceeded("licences.verify", request, per_minute=settings.X):
        return HttpResponse(status=429)

The client address is the one the request-context middleware resolved (behind the proxies
of ``YIWANG_TRUSTED_PROXIES``, from X-Forwarded-For), falling back to ``REMOTE_ADDR``; IPv6
clients count by /64. A budget of 0 or less turns
the limit off. Guessable secrets (passwords, codes) are throttled elsewhere, with durable
counters (``support.identity.throttle``): this module only spreads load fairly.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.core.cache import cache

from yiwang.core import context

WINDOW_SECONDS = 60


def client_address(request: Any) -> str:
    """The address the request came from, as the edge middleware resolved it (behind
    trusted proxies, from X-Forwarded-For). An IPv6 client counts by its /64: one host
    usually holds a whole /64 and could otherwise take a fresh address per request."""
    address = context.current().address or request.META.get("REMOTE_ADDR", "") or "-"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6 and not ip.ipv4_mapped:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return address


def exceeded(scope: str, request: Any, *, per_minute: int) -> bool:
    """Count this request against the client's budget for ``scope``; ``True`` when over it."""
    return hit(f"{scope}:{client_address(request)}", limit=per_minute)


def hit(key: str, *, limit: int, window: int = WINDOW_SECONDS) -> bool:
    """Count one event under ``key``; ``True`` once more than ``limit`` fell in this window."""
    if limit <= 0:
        return False
    cache_key = f"ratelimit:{key}"
    cache.add(cache_key, 0, timeout=window)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # the window expired between add and incr
        cache.set(cache_key, 1, timeout=window)
        count = 1
    return count > limit


def retry_after() -> str:
    """A ``Retry-After`` header value for a 429 (the window's length, in seconds)."""
    return str(WINDOW_SECONDS)
