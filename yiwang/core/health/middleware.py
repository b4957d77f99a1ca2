from __future__ import annotations

import ipaddress
import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse

from yiwang.core import context, metrics

access_log = logging.getLogger("yiwang.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(entries: list[str]) -> tuple[Network, ...]:
    """``YIWANG_TRUSTED_PROXIES`` parsed: addresses or CIDR ranges."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"YIWANG_TRUSTED_PROXIES: {entry!r} is neither an address nor a CIDR range"
            ) from None
    return tuple(networks)


def _within(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped:  # ::ffff:10.0.0.1 from a dual-stack socket
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)


def client_address(remote: str, forwarded_for: str, networks: tuple[Network, ...]) -> str:
    """The client's address: ``remote`` (the peer of the connection), unless that is a
    trusted proxy — then the right-most address of ``X-Forwarded-For`` that is not itself a
    trusted proxy. Entries left of it are whatever the client wrote and are never believed;
    a malformed entry ends the walk at the last good hop."""
    if not forwarded_for or not _within(remote, networks):
        return remote
    client = remote
    for hop in reversed(forwarded_for.split(",")):
        hop = hop.strip()
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break
        client = hop
        if not _within(hop, networks):
            break
    return client


class RequestContextMiddleware:
    """Resolve the client's address behind trusted proxies, give each request an id (kept
    from a trusted proxy's X-Request-ID when well-formed), bind both for logs, audit and
    rate limits, echo the id in the response, and count the request.

    Behind a reverse proxy every connection comes from the proxy: without this, the
    per-address throttles and budgets would be one budget for the whole site. When the
    peer is in ``YIWANG_TRUSTED_PROXIES`` (addresses or CIDR ranges), ``REMOTE_ADDR`` is
    replaced by the address :func:`client_address` takes from ``X-Forwarded-For`` (the
    proxy's own address is kept in ``YIWANG_PROXY_ADDR``); from anyone else the header is
    ignored, so a client cannot choose its address."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.trusted_proxies = trusted_networks(list(settings.YIWANG_TRUSTED_PROXIES))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        remote = request.META.get("REMOTE_ADDR", "")
        trusted = bool(self.trusted_proxies) and _within(remote, self.trusted_proxies)
        if trusted:
            client = client_address(remote, request.META.get("HTTP_X_FORWARDED_FOR", ""),
                                    self.trusted_proxies)
            if client != remote:
                request.META["YIWANG_PROXY_ADDR"] = remote
                request.META["REMOTE_ADDR"] = client
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
