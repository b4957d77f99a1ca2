from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from yiwang.core.context import bind_zone
from yiwang.platform.zones.service import URLCONFS, zone_for_port


class ZoneMiddleware:
    """Route each request with the URL configuration of its zone only.

    The public zone's URL configuration does not contain the workbench, the admin or the
    metrics at all, so an internal path asked on the public listener is an ordinary 404.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        zone = zone_for_port(request.META.get("SERVER_PORT"))
        request.zone = zone  # type: ignore[attr-defined]
        request.urlconf = URLCONFS[zone]  # type: ignore[attr-defined]
        bind_zone(zone.value)
        return self.get_response(request)
