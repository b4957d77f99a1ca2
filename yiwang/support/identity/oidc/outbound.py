"""Outbound calls from the provider to relying parties, and the rule for where they may go.

The provider calls addresses an administrator typed in: a relying party's back-channel
logout URI (from the worker) and its ``sector_identifier_uri`` (at registration). A mistyped
or malicious address must not turn the provider into a way to reach what only it can reach
(server-side request forgery). The rule:

* only ``http``/``https``, no user name or password in the URL, no redirects followed;
* never the instance metadata services of cloud platforms (:data:`METADATA`:
  169.254.169.254, Alibaba Cloud's 100.100.100.200, AWS's ``fd00:ec2::254`` …, also when
  embedded in an IPv6 address) — checked first, and ``YIWANG_OIDC_OUTBOUND_ALLOW`` cannot
  permit them, not even through an allowed host name: they hand out the server's cloud
  credentials, and no relying party lives there;
* by default never loopback, link-local (``169.254/16``, ``fe80::/10``), unspecified,
  multicast or reserved addresses (names like ``localhost`` included), nor the shared
  address space of carrier-grade NAT (``100.64.0.0/10``: not a network relying parties
  live on, and where some clouds put their own services);
* public and private addresses (10/8, 172.16/12, 192.168/16 …) are allowed: government
  relying parties legitimately live on private networks;
* ``YIWANG_OIDC_OUTBOUND_ALLOW`` (CIDRs and host names) permits more of the default
  refusals, e.g. loopback for tests and the demo, ``100.64.0.0/10`` where a relying party
  really is there, or a name of an internal service.

The rule is checked when the address is registered and again when it is called, after
resolving the name: every resolved address must pass, and the connection goes to an
address that was checked (a name that resolves differently a moment later — DNS
rebinding — is never asked again): to each in turn, in the resolver's order, until one
can be connected to. TLS still verifies the certificate against the host name.
Proxies from the environment are not used: through a proxy the checked address would not
be the one connected to.

Besides the timeout of each connect and read, a whole call (connecting, TLS, the response
headers and whatever body is read) ends after :data:`DEADLINE_SECONDS`: an address that
answers a byte at a time cannot hold a worker or an administrator's request for long.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

import requests
from django.conf import settings
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# "This network" (0/8) is not "unspecified" to ipaddress, but connecting to it reaches the
# host itself on Linux.
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
# What "localhost" and names under it always are (RFC 6761), whatever DNS says.
_LOOPBACK = ipaddress.ip_address("127.0.0.1")
# Carrier-grade NAT (RFC 6598): neither private nor global to ipaddress.
_SHARED = ipaddress.ip_network("100.64.0.0/10")
# IPv6 prefixes that carry an IPv4 address in their last 32 bits (NAT64, RFC 6052/8215;
# IPv4-compatible), through which an IPv4 metadata address could still be reached.
_EMBEDDING = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"),
              ipaddress.ip_network("::/96"))

#: Instance metadata services of cloud platforms: never called (see the module docstring).
METADATA: frozenset[IPAddress] = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254",  # AWS, Azure, Google Cloud, Huawei Cloud, OpenStack, …
    "169.254.170.2",    # AWS ECS task metadata and credentials
    "169.254.170.23",   # AWS EKS pod identity agent
    "169.254.0.23",     # Tencent Cloud
    "100.100.100.200",  # Alibaba Cloud
    "192.0.0.192",      # Oracle Cloud (older instances)
    "fd00:ec2::254",    # AWS over IPv6
    "fd00:ec2::23",     # AWS EKS pod identity agent over IPv6
))


#: The longest a whole outbound call may take, in seconds (see the module docstring).
DEADLINE_SECONDS = 10.0
#: Bodies are read in chunks this size, the deadline checked between them.
CHUNK_BYTES = 1024


class DeadlineExceeded(requests.Timeout):
    """The call took longer than :data:`DEADLINE_SECONDS` altogether (a network failure,
    like any other timeout)."""


class OutboundRefused(Exception):
    """The address may not be called. ``reason`` is a short code (``loopback``,
    ``link_local``, ``scheme`` …), ``message`` a Chinese sentence naming the reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Target:
    """A checked URL: its host name, port and the addresses it may be reached at."""

    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[IPAddress, ...]


def _allow_list() -> tuple[list[Network], set[str]]:
    networks: list[Network] = []
    names: set[str] = set()
    for entry in getattr(settings, "YIWANG_OIDC_OUTBOUND_ALLOW", []) or []:
        item = str(entry).strip().lower()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item.strip("[]"), strict=False))
        except ValueError:
            names.add(item.rstrip("."))
    return networks, names


def _literal(host: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_metadata(address: IPAddress) -> bool:
    if address in METADATA:
        return True
    if isinstance(address, ipaddress.IPv6Address):
        embedded = [address.ipv4_mapped, address.sixtofour]
        if any(address in net for net in _EMBEDDING):
            embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        return any(v4 is not None and v4 in METADATA for v4 in embedded)
    return False


def _forbidden(address: IPAddress) -> str:
    """Why ``address`` is refused by default ('' when it is not)."""
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


def _reason_text(reason: str) -> str:
    return {
        "loopback": _("本机回环地址"),
        "link_local": _("链路本地地址（含云平台元数据地址 169.254.169.254）"),
        "unspecified": _("未指定地址"),
        "multicast": _("组播地址"),
        "reserved": _("保留地址"),
        "shared": _("运营商级 NAT 共享地址（100.64.0.0/10）"),
    }.get(reason, reason)


def check_address(address: IPAddress, *, host: str, name_allowed: bool = False) -> None:
    """Refuse ``address`` (which ``host`` names or is) unless the rule allows it.

    A metadata address is always refused; the rest of the rule is skipped when ``host`` is
    a name ``YIWANG_OIDC_OUTBOUND_ALLOW`` lists (``name_allowed``)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if _is_metadata(address):
        raise OutboundRefused("metadata", _(
            "地址 %(host)s 指向云平台的实例元数据服务（%(address)s），"
            "平台从不向这类地址发出请求。")
            % {"host": host[:100], "address": address})
    if name_allowed:
        return
    networks, _names = _allow_list()
    if any(address.version == net.version and address in net for net in networks):
        return
    reason = _forbidden(address)
    if reason:
        raise OutboundRefused(reason, _(
            "地址 %(host)s 指向%(what)s（%(address)s），平台不向这类地址发出请求。"
            "如确需使用，请由运维人员将其加入 YIWANG_OIDC_OUTBOUND_ALLOW。")
            % {"host": host[:100], "what": _reason_text(reason), "address": address})


def parse(url: str) -> Target:
    """Check the form of ``url`` (scheme, host, no user info); addresses not resolved yet."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise OutboundRefused("bad_url", _("地址 %(url)s 无效。") % {"url": url[:200]}) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboundRefused("scheme", _("地址 %(url)s 无效：只能使用 http 或 https 的完整网址。")
                              % {"url": url[:200]})
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise OutboundRefused("userinfo", _("地址 %(url)s 不能包含用户名或密码。")
                              % {"url": url[:200]})
    host = parts.hostname.rstrip(".")
    literal = _literal(host)
    addresses: tuple[IPAddress, ...] = (literal,) if literal is not None else ()
    return Target(url=url, scheme=parts.scheme, host=host,
                  port=port or (443 if parts.scheme == "https" else 80), addresses=addresses)


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (raises :class:`OSError` when it does not)."""
    found: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM):
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    if not found:
        raise OSError(f"{host} has no address")
    return found


def _allowed_by_name(host: str) -> bool:
    return host.lower() in _allow_list()[1]


def _is_localhost_name(host: str) -> bool:
    # RFC 6761: "localhost" and names under it are always loopback, whatever DNS says.
    lowered = host.lower()
    return lowered == "localhost" or lowered.endswith(".localhost")


def _checked(url: str, *, unresolved_ok: bool) -> Target:
    """Parse ``url``, resolve its name and check every address (raises
    :class:`OutboundRefused`). A name that does not resolve is returned unchecked when
    ``unresolved_ok``, else raises :class:`OSError` (or :class:`OutboundRefused` when it is
    not a valid name at all)."""
    target = parse(url)
    name_allowed = _allowed_by_name(target.host)
    addresses = list(target.addresses)
    if not addresses:
        if _is_localhost_name(target.host):
            check_address(_LOOPBACK, host=target.host, name_allowed=name_allowed)
        try:
            addresses = resolve(target.host, target.port)
        except (OSError, UnicodeError) as exc:
            if unresolved_ok:
                return target
            if isinstance(exc, UnicodeError):
                raise OutboundRefused("bad_url", _("地址 %(url)s 无效。") % {"url": url[:200]}) \
                    from None
            raise
    for address in addresses:
        check_address(address, host=target.host, name_allowed=name_allowed)
    return Target(url=target.url, scheme=target.scheme, host=target.host, port=target.port,
                  addresses=tuple(addresses))


def check_registration(url: str) -> Target:
    """Check ``url`` as an address to register (raises :class:`OutboundRefused`).

    A literal address is checked as it is; a name is resolved and each of its addresses
    checked — a name that does not resolve yet is accepted (the relying party may not be
    deployed); it is checked again whenever it is called.
    """
    return _checked(url, unresolved_ok=True)


def pin(url: str) -> Target:
    """Check ``url`` for a call now: resolve it and check every address (raises
    :class:`OutboundRefused`, or :class:`OSError` when the name does not resolve — a
    network problem that may pass)."""
    return _checked(url, unresolved_ok=False)


class _Deadline:
    """The end of one outbound call: when it passes, a timer shuts the call's sockets down,
    which ends whatever connect, TLS handshake or read is waiting on them.

    It shuts down duplicates of the sockets (the same connection, its own descriptors,
    closed by :meth:`close`), so it never touches a descriptor the operating system may
    have handed to somebody else in the meantime."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self.expired = False
        self._lock = threading.Lock()
        self._closed = False
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(max(seconds, 0.0), self._expire)
        self._timer.daemon = True
        self._timer.start()

    def passed(self) -> bool:
        return self.expired or time.monotonic() >= self.at

    def watch(self, sock: socket.socket) -> socket.socket:
        """Shut ``sock`` down when the deadline passes; returns it."""
        with self._lock:
            if not self._closed:
                duplicate = sock.dup()
                self._sockets.append(duplicate)
                if self.expired:
                    self._shut(duplicate)
        return sock

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        # OSError: not connected (yet), or already closed by the other side.
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    def _expire(self) -> None:
        with self._lock:
            if self._closed:
                return
            self.expired = True
            for sock in self._sockets:
                self._shut(sock)

    def close(self) -> None:
        self._timer.cancel()
        with self._lock:
            self._closed = True
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()


def _watched_pools(deadline: _Deadline) -> dict[str, type[HTTPConnectionPool]]:
    """Connection pool classes whose connections put their sockets under ``deadline``."""

    class Connection(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            return deadline.watch(super()._new_conn())

    class TLSConnection(HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            return deadline.watch(super()._new_conn())

    class Pool(HTTPConnectionPool):
        ConnectionCls = Connection

    class TLSPool(HTTPSConnectionPool):
        ConnectionCls = TLSConnection

    return {"http": Pool, "https": TLSPool}


# The deadline of each response :func:`request` gave, for :func:`read_limited`.
_DEADLINES: weakref.WeakKeyDictionary[requests.Response, _Deadline] = \
    weakref.WeakKeyDictionary()


class _PinnedAdapter(HTTPAdapter):
    """Sends to the checked address in the URL while TLS (SNI and the certificate check)
    uses the relying party's host name; its connections are under ``deadline``."""

    def __init__(self, host: str, deadline: _Deadline) -> None:
        self._host = host
        self._deadline = deadline
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _watched_pools(self._deadline)

    def build_connection_pool_key_attributes(
            self, request: requests.PreparedRequest, verify: bool | str,
            cert: str | tuple[str, str] | None = None,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert)
        if host_params.get("scheme") == "https":
            pool_kwargs["server_hostname"] = self._host
        return host_params, pool_kwargs


def _verify() -> bool | str:
    # The environment's CA bundle (a government CA, typically) still applies.
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True


def _not_connected(exc: requests.RequestException) -> bool:
    """Whether ``exc`` says the connection was never made (nothing was sent)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, ConnectTimeoutError)  # NewConnectionError included


def _first_answer(session: requests.Session, method: str, target: Target, parts: SplitResult,
                  *, deadline: _Deadline, **kwargs: Any) -> requests.Response:
    """Send to each checked address of ``target`` in turn until one can be connected to:
    a name with several addresses (IPv6 and IPv4, several servers) still works while one
    of them is down. Once a connection is made, its answer — or failure — is final, so a
    request is never sent twice."""
    for index, address in enumerate(target.addresses):
        ip_host = f"[{address}]" if address.version == 6 else str(address)
        pinned = urlunsplit((parts.scheme, f"{ip_host}:{target.port}", parts.path or "/",
                             parts.query, ""))
        try:
            return session.request(method, pinned, allow_redirects=False, stream=True,
                                   verify=_verify(), **kwargs)
        except requests.RequestException as exc:
            last = index == len(target.addresses) - 1
            if last or not _not_connected(exc) or deadline.passed():
                raise
    raise OSError(f"{target.host} has no address")  # pin() never returns none


@contextmanager
def request(method: str, url: str, *, timeout: float, headers: dict[str, str] | None = None,
            data: dict[str, str] | None = None) -> Iterator[requests.Response]:
    """Make one request to ``url`` under the rule above; the response is streamed (read
    what you need) and closed when the block ends. Redirects are never followed.

    Raises :class:`OutboundRefused` when the address may not be called, or
    :class:`requests.RequestException` / :class:`OSError` for network failures —
    :class:`DeadlineExceeded` when the whole call, reading the body in the block included,
    took longer than :data:`DEADLINE_SECONDS`.
    """
    target = pin(url)
    parts = urlsplit(url)
    literal = _literal(target.host)
    if literal is not None:
        ascii_host = target.host
        host_header = f"[{target.host}]" if ":" in target.host else target.host
    else:
        ascii_host = host_header = target.host.encode("idna").decode("ascii")
    if parts.port is not None:
        host_header = f"{host_header}:{parts.port}"
    deadline = _Deadline(DEADLINE_SECONDS)
    session = requests.Session()
    session.trust_env = False
    session.mount(f"{target.scheme}://", _PinnedAdapter(ascii_host, deadline))
    try:
        response = _first_answer(session, method, target, parts, data=data,
                                 timeout=min(timeout, DEADLINE_SECONDS), deadline=deadline,
                                 headers={**(headers or {}), "Host": host_header})
        _DEADLINES[response] = deadline
        try:
            if deadline.expired:
                # Cut off while reading the headers: http.client takes the end of the
                # connection for the end of the headers, so this looks like an answer.
                raise DeadlineExceeded(f"{url[:200]}: no complete answer within "
                                       f"{DEADLINE_SECONDS} s")
            yield response
        finally:
            response.close()
    except (requests.RequestException, OSError) as exc:
        if deadline.expired and not isinstance(exc, DeadlineExceeded):
            raise DeadlineExceeded(f"{url[:200]}: took longer than {DEADLINE_SECONDS} s") \
                from exc
        raise
    finally:
        deadline.close()
        session.close()


def read_limited(response: requests.Response, limit: int) -> bytes:
    """The body of ``response``, or :class:`OutboundRefused` when it is over ``limit`` bytes."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise OutboundRefused("too_large", _("文档超过 %(limit)s 字节。") % {"limit": limit})
    deadline = _DEADLINES.get(response)
    body = bytearray()
    for chunk in response.iter_content(chunk_size=CHUNK_BYTES):
        body += chunk
        if len(body) > limit:
            raise OutboundRefused("too_large", _("文档超过 %(limit)s 字节。") % {"limit": limit})
        if deadline is not None and deadline.passed():
            raise DeadlineExceeded(f"reading took longer than {DEADLINE_SECONDS} s")
    return bytes(body)
