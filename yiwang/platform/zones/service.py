"""Network zones (政务外网 / 政务内网): which zone a request belongs to.

A request's zone comes from the listener it arrived on (the socket's port, which a client
cannot forge through the Host header), or from ``YIWANG_ZONE`` when a process serves one
zone only. Anything not recognised as internal is public: the default denies.
"""

from __future__ import annotations

from enum import StrEnum

from django.conf import settings
from django.http import HttpRequest


class Zone(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"


URLCONFS = {Zone.PUBLIC: "yiwang.urls.public", Zone.INTERNAL: "yiwang.urls.internal"}


def served_zones() -> list[Zone]:
    """The zones this process serves, from ``YIWANG_ZONE``."""
    if settings.YIWANG_ZONE == "all":
        return [Zone.PUBLIC, Zone.INTERNAL]
    return [Zone(settings.YIWANG_ZONE)]


def zone_for_port(port: int | str | None) -> Zone:
    """The zone of a listener port, when one process serves both."""
    if settings.YIWANG_ZONE != "all":
        return Zone(settings.YIWANG_ZONE)
    try:
        if int(port or 0) == settings.YIWANG_INTERNAL_PORT:
            return Zone.INTERNAL
    except ValueError:
        pass
    return Zone.PUBLIC


def zone_of(request: HttpRequest) -> Zone:
    """The zone the request arrived in (set by the zone middleware)."""
    return getattr(request, "zone", None) or zone_for_port(request.META.get("SERVER_PORT"))


def session_cookie_name(zone: Zone) -> str:
    """The session cookie of a zone: each zone signs people in separately."""
    return f"yiwang_{zone.value}"


def listeners() -> list[tuple[Zone, str, int]]:
    """(zone, host, port) for each listener this process opens."""
    ports = {Zone.PUBLIC: settings.YIWANG_PUBLIC_PORT, Zone.INTERNAL: settings.YIWANG_INTERNAL_PORT}
    return [(z, settings.YIWANG_BIND, ports[z]) for z in served_zones()]


def base_url(zone: Zone) -> str:
    return settings.YIWANG_INTERNAL_URL if zone == Zone.INTERNAL else settings.YIWANG_PUBLIC_URL
