from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from yiwang.core.context import bind_zone
from yiwang.platform.zones.service import URLCONFS, session_cookie_name, zone_for_port, zone_of


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


class ZoneSessionCookieMiddleware:
    """Give each zone its own session cookie (``yiwang_public`` / ``yiwang_internal``).

    Browsers share cookies between ports of one host, so without this the workbench and the
    portal served on ports 8001 and 8000 of the same host would share one session. Runs just
    before Django's session middleware: the zone's cookie is presented to it under
    ``SESSION_COOKIE_NAME`` and the cookie it sets is renamed back on the way out. (Test
    clients that set ``SESSION_COOKIE_NAME`` themselves still work: it is used when the
    zone's own cookie is absent; yiwang never sends a cookie by that name to a browser.)
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        generic = settings.SESSION_COOKIE_NAME
        own = session_cookie_name(zone_of(request))
        if own in request.COOKIES:
            request.COOKIES[generic] = request.COOKIES.pop(own)
        response = self.get_response(request)
        if generic in response.cookies:
            morsel = response.cookies.pop(generic)
            response.cookies[own] = morsel.value
            for attribute in ("expires", "max-age", "path", "domain", "secure", "httponly",
                              "samesite"):
                if morsel[attribute]:
                    response.cookies[own][attribute] = morsel[attribute]
        return response
