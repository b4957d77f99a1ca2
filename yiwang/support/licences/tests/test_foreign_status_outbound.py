"""The shared safe outbound GET (``yiwang.core.outbound``) the foreign status lists use."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from yiwang.core import outbound


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


@pytest.mark.parametrize(("address", "reason"), [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("169.254.10.1", "link_local"),
    ("0.0.0.0", "unspecified"),  # noqa: S104
    ("0.1.2.3", "unspecified"), ("224.0.0.1", "multicast"),
    ("100.64.1.1", "shared"), ("240.0.0.1", "reserved"), ("169.254.169.254", "metadata"),
    ("100.100.100.200", "metadata"), ("::ffff:169.254.169.254", "metadata"),
    ("fd00:ec2::254", "metadata"), ("64:ff9b::a9fe:a9fe", "metadata"),
    ("2002:a9fe:a9fe::1", "metadata"), ("::ffff:127.0.0.1", "loopback"),
    ("10.1.2.3", ""), ("192.168.1.1", ""), ("8.8.8.8", ""),
])
def test_the_default_rule(address: str, reason: str) -> None:
    assert outbound.refusal(_ip(address)) == reason


def test_the_allow_list_permits_more_but_never_metadata() -> None:
    allow = ["127.0.0.0/8", "169.254.0.0/16", "status.internal"]
    assert outbound.refusal(_ip("127.0.0.1"), allow=allow) == ""
    assert outbound.refusal(_ip("::1"), allow=allow) == "loopback"  # not listed
    assert outbound.refusal(_ip("169.254.169.254"), allow=allow) == "metadata"
    assert outbound.refusal(_ip("169.254.169.254"), host="status.internal",
                            allow=allow) == "metadata"
    assert outbound.refusal(_ip("100.64.0.5"), host="status.internal", allow=allow) == ""


@pytest.mark.parametrize("url", ["ftp://example.org/x", "file:///etc/passwd",
                                 "http://user:pw@example.org/", "http:///nohost", "nonsense"])
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(outbound.OutboundRefused):
        outbound.fetch(url, max_bytes=100)


def test_localhost_and_loopback_literals_are_refused_before_connecting() -> None:
    for url in ("http://localhost:1/", "http://127.0.0.1:1/", "http://[::1]:1/",
                "http://169.254.169.254/latest/meta-data/"):
        with pytest.raises(outbound.OutboundRefused):
            outbound.fetch(url, max_bytes=100)


@pytest.fixture
def dripping() -> Iterator[int]:
    """A server that answers one header byte every 0.3 s, for ever."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(b"HTTP/1.1 200 OK\r\n")
                while not stop.is_set():
                    try:
                        conn.sendall(b"X")
                    except OSError:
                        break
                    time.sleep(0.3)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(5)
    listener.close()


def test_the_deadline_ends_a_slow_answer(dripping: int) -> None:
    with pytest.raises(outbound.OutboundFailed) as failed:
        outbound.fetch(f"http://127.0.0.1:{dripping}/", max_bytes=1000,
                       allow=["127.0.0.1/32"], timeout=1.0, deadline=1.0)
    assert failed.value.reason == "deadline"
