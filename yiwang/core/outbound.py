"""A small, safe HTTP GET for server-side fetches of addresses that come from data (a status
list URL in a presented credential, say), shared by any app that needs one.

The rule is the one of ``yiwang.support.identity.oidc.outbound`` (which keeps its own
fuller copy for the OIDC provider), reduced to a GET:

* only ``http``/``https``, no user name or password in the URL, no redirects (a 3xx is a
  failure), no proxies from the environment;
* the name is resolved once and every address checked: cloud metadata services
  (169.254.169.254, 100.100.100.200, fd00:ec2::254 …) are always refused; loopback,
  link-local, unspecified, multicast, reserved and carrier-grade NAT (100.64.0.0/10)
  addresses unless the caller's ``allow`` list (CIDRs and host names) permits them; public
  and private networks are allowed;
* the connection goes to a checked address (no second lookup, so no DNS rebinding); TLS
  verifies the certificate against the host name;
* the body is limited to ``max_bytes`` and the whole call (connect, TLS, headers, body) to
  ``deadline`` seconds: a timer shuts the socket down when it passes.

:class:`OutboundRefused` means the address may not be called; :class:`OutboundFailed` that
the call did not give a usable answer (network, status, size, deadline).
"""

from __future__ import annotations

import http.client
import ipaddress
import os
import socket
import ssl
import threading
import time
from collections.abc import Iterable
from contextlib import suppress
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA: frozenset[IPAddress] = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "169.254.170.23", "169.254.0.23",
    "100.100.100.200", "192.0.0.192", "fd00:ec2::254", "fd00:ec2::23"))
_SHARED = ipaddress.ip_network("100.64.0.0/10")
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
_CHUNK = 8192
# IPv6 prefixes carrying an IPv4 address in their last 32 bits (NAT64, IPv4-compatible).
_EMBEDDING = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"),
              ipaddress.ip_network("::/96"))


class OutboundRefused(Exception):
    """The address may not be called; ``reason`` is a short code (``scheme``, ``loopback``,
    ``metadata`` …)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class OutboundFailed(Exception):
    """No usable answer; ``reason``: ``resolve``, ``connect``, ``network``, ``status``,
    ``redirect``, ``too_large`` or ``deadline``."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def origin(url: str) -> str:
    """``scheme://host:port`` of an http(s) ``url`` (lower case, default port spelt out, no
    trailing dot), '' for anything else: two spellings of one server compare equal."""
    try:
        parts = urlsplit(url)
        port = parts.port or {"https": 443, "http": 80}.get(parts.scheme.lower(), 0)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    return f"{parts.scheme.lower()}://{parts.hostname.lower().rstrip('.')}:{port}"


def _plain(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def refusal(address: IPAddress, *, host: str = "", allow: Iterable[str] = ()) -> str:
    """Why ``address`` (which ``host`` names) may not be called, or '' when it may."""
    address = _plain(address)
    if address in METADATA:
        return "metadata"
    if isinstance(address, ipaddress.IPv6Address):
        embedded = [address.sixtofour]
        if any(address in net for net in _EMBEDDING):
            embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if any(v4 is not None and v4 in METADATA for v4 in embedded):
            return "metadata"
    entries = [str(e).strip().lower() for e in allow if str(e).strip()]
    if host and host.lower().rstrip(".") in entries:
        return ""
    for entry in entries:
        try:
            network = ipaddress.ip_network(entry.strip("[]"), strict=False)
        except ValueError:
            continue
        if network.version == address.version and address in network:
            return ""
    if address.version == 4 and address in _SHARED:
        return "shared"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link_local"
    if address.is_unspecified or (address.version == 4 and address in _THIS_NETWORK):
        return "unspecified"
    if address.is_multicast:
        return "multicast"
    if address.is_reserved:
        return "reserved"
    return ""


def _addresses(host: str, port: int) -> list[IPAddress]:
    try:
        return [_plain(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return [ipaddress.ip_address("127.0.0.1")]
    found: list[IPAddress] = []
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise OutboundFailed("resolve", f"{host}: {exc}") from None
    for *_rest, sockaddr in infos:
        address = _plain(ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0]))
        if address not in found:
            found.append(address)
    if not found:
        raise OutboundFailed("resolve", host)
    return found


def fetch(url: str, *, max_bytes: int, allow: Iterable[str] = (), timeout: float = 5.0,
          deadline: float = 10.0, accept: str = "application/json") -> bytes:
    """GET ``url`` under the rule above and return the body of a 200 answer."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise OutboundRefused("bad_url", url[:200]) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboundRefused("scheme", url[:200])
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise OutboundRefused("userinfo", url[:200])
    host = parts.hostname.rstrip(".")
    allowed = list(allow)
    addresses = _addresses(host, port)
    for address in addresses:
        reason = refusal(address, host=host, allow=allowed)
        if reason:
            raise OutboundRefused(reason, f"{host} ({address})")
    end = time.monotonic() + deadline
    sock: socket.socket | None = None
    for address in addresses:
        remaining = end - time.monotonic()
        if remaining <= 0:
            break
        try:
            sock = socket.create_connection((str(address), port), timeout=min(timeout, remaining))
            break
        except OSError:
            continue
    if sock is None:
        raise OutboundFailed("connect", f"{host}:{port}")
    lock = threading.Lock()
    state: dict[str, object] = {"sock": sock, "closed": False, "expired": False}

    def expire() -> None:
        with lock:
            if not state["closed"]:
                state["expired"] = True
                with suppress(OSError):
                    state["sock"].shutdown(socket.SHUT_RDWR)  # type: ignore[attr-defined]

    timer = threading.Timer(max(end - time.monotonic(), 0.0), expire)
    timer.daemon = True
    timer.start()
    try:
        if parts.scheme == "https":
            cafile = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE")
            context = ssl.create_default_context(cafile=cafile or None)
            with lock:
                sock = context.wrap_socket(sock, server_hostname=host)
                state["sock"] = sock
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
        connection.sock = sock
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("GET", path, headers={"Accept": accept,
                                                 "User-Agent": "yiwang-outbound/1"})
        response = connection.getresponse()
        if 300 <= response.status < 400:
            raise OutboundFailed("redirect", str(response.status))
        if response.status != 200:
            raise OutboundFailed("status", str(response.status))
        declared = response.getheader("Content-Length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise OutboundFailed("too_large", declared)
        body = bytearray()
        while True:
            chunk = response.read(_CHUNK)
            if not chunk:
                break
            body += chunk
            if len(body) > max_bytes:
                raise OutboundFailed("too_large", str(len(body)))
            if time.monotonic() >= end:
                raise OutboundFailed("deadline", url[:200])
        if state["expired"]:
            raise OutboundFailed("deadline", url[:200])
        return bytes(body)
    except (OSError, http.client.HTTPException) as exc:
        if state["expired"]:
            raise OutboundFailed("deadline", url[:200]) from None
        raise OutboundFailed("network", f"{url[:200]}: {exc}") from None
    finally:
        timer.cancel()
        with lock:
            state["closed"] = True
        sock.close()
