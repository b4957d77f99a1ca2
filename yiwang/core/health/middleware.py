from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from yiwang.core import context, metrics

access_log = logging.getLogger("yiwang.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestContextMiddleware:
    """Give each request an id (kept from a trusted proxy's X-Request-ID when well-formed),
    bind it for logs and audit, echo it in the response, and count the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.trusted_proxies = frozenset(settings.YIWANG_TRUSTED_PROXIES)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        trusted = request.META.get("REMOTE_ADDR", "") in self.trusted_proxies
        request_id = incoming if trusted and _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = context.begin(request_id, request.META.get("REMOTE_ADDR", ""))
        try:
            response = self.get_response(request)
        finally:
            zone = context.current().zone
            context.end(token)
        response["X-Request-ID"] = request_id
        elapsed = time.perf_counter() - started
        metrics.observe_request(request, response, zone, elapsed)
        if access_log.isEnabledFor(logging.INFO):
            access_log.info(
                "%s %s %s", request.method, request.path, response.status_code,
                extra={"method": request.method, "path": request.path,
                       "status": response.status_code, "ms": round(elapsed * 1000, 2),
                       "zone": zone, "request_id": request_id},
            )
        return response


class SecurityHeadersMiddleware:
    """Headers Django does not set itself: Content-Security-Policy and Permissions-Policy."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.csp = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.csp and not request.path.startswith("/api/v1/docs"):
            response.headers.setdefault("Content-Security-Policy", self.csp)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(self)"
        )
        return response


class RejectNulMiddleware:
    """Refuse a request whose query string or form body holds a NUL character (400).

    No text yiwang keeps may contain NUL (PostgreSQL refuses it outright), and no person
    types one: it only arrives in probes. Checking at the door gives one clear answer
    instead of a database error deep inside whichever view received it. Multipart bodies
    are left alone (uploaded files may hold any byte; their form fields are validated).
    """

    MESSAGE = "请求中含有无效字符（NUL）。 The request contains an invalid character (NUL)."

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        bad = "%00" in query or "\x00" in query
        if not bad and request.content_type == "application/x-www-form-urlencoded":
            body = request.body  # read and kept: the form parser reuses it
            bad = b"%00" in body or b"\x00" in body
        if bad:
            from yiwang.core.audit.service import record

            record("request.invalid_characters",
                   detail={"path": request.path[:200].replace("\x00", ""),
                           "method": request.method})
            return HttpResponse(self.MESSAGE, status=400,
                                content_type="text/plain; charset=utf-8")
        return self.get_response(request)
