"""The outbound rule for calls to relying parties (server-side request forgery): checked at
registration, and at delivery after resolving the name, connecting to the checked address."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.exceptions import ValidationError
from django.utils import timezone

from yiwang.core.audit.service import AuditEvent
from yiwang.core.tasks.service import PermanentFailure
from yiwang.support.identity.oidc import outbound, tokens
from yiwang.support.identity.oidc.models import RelyingParty, SessionClient
from yiwang.support.identity.oidc.relying_parties import (
    register_relying_party,
    update_relying_party,
)

pytestmark = pytest.mark.django_db

NO_EXCEPTIONS: list[str] = []


def _register(**extra: Any) -> RelyingParty:
    rp, _secret = register_relying_party(name="应用", client_type="confidential",
                                         redirect_uris="https://rp.example.org/callback",
                                         actor=None, **extra)
    return rp


def _fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> None:
    def resolve(host: str, port: int) -> list[Any]:
        if host not in answers:
            raise OSError(f"{host}: unknown name")
        return [ipaddress.ip_address(a) for a in answers[host]]
    monkeypatch.setattr(outbound, "resolve", resolve)


# --- at registration -------------------------------------------------------------------------


@pytest.mark.parametrize(("uri", "reason"), [
    ("http://169.254.1.1/logout", "链路本地"),
    ("http://[fe80::1]/logout", "链路本地"),
    ("http://100.64.0.1/logout", "100.64.0.0/10"),
    ("http://100.127.255.254/logout", "100.64.0.0/10"),
    ("http://[::ffff:100.64.9.9]/logout", "100.64.0.0/10"),
    ("http://127.0.0.1:8080/logout", "回环"),
    ("http://[::1]/logout", "回环"),
    ("http://[::ffff:127.0.0.1]/logout", "回环"),
    ("http://localhost:9000/logout", "回环"),
    ("http://api.localhost/logout", "回环"),
    ("http://0.0.0.0/logout", "未指定"),
    ("http://224.0.0.1/logout", "组播"),
    ("http://240.0.0.1/logout", "保留"),
])
def test_addresses_only_the_server_can_reach_are_refused(settings, uri, reason):
    settings.YIWANG_OIDC_OUTBOUND_ALLOW = NO_EXCEPTIONS
    with pytest.raises(ValidationError) as caught:
        _register(backchannel_logout_uri=uri)
    message = " ".join(caught.value.message_dict["backchannel_logout_uri"])
    assert reason in message and "YIWANG_OIDC_OUTBOUND_ALLOW" in message
    assert not RelyingParty.objects.exists()


def test_a_name_resolving_to_a_forbidden_address_is_refused(settings, monkeypatch):
    settings.YIWANG_OIDC_OUTBOUND_ALLOW = NO_EXCEPTIONS
    _fake_dns(monkeypatch, {"metadata.example.org": ["169.254.169.254"],
                            "mixed.example.org": ["203.0.113.9", "127.0.0.1"]})
    for uri in ("https://metadata.example.org/logout", "https://mixed.example.org/logout"):
        with pytest.raises(ValidationError) as caught:
            _register(backchannel_logout_uri=uri)
        assert "backchannel_logout_uri" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        _register(sector_identifier_uri="https://metadata.example.org/sector.json",
                  subject_type="pairwise")
    assert "元数据" in " ".join(caught.value.message_dict["sector_identifier_uri"])


# Every way the allow-list could name them: networks, the addresses, the names.
ALLOW_EVERYTHING = ["0.0.0.0/0", "::/0", "100.64.0.0/10", "169.254.0.0/16",
                    "metadata.example.org", "100.100.100.200", "fd00:ec2::254"]


@pytest.mark.parametrize("uri", [
    "http://100.100.100.200/latest/meta-data/",  # Alibaba Cloud
    "http://[fd00:ec2::254]/latest/meta-data/",  # AWS over IPv6
    "http://169.254.169.254/latest/meta-data/",
    "http://169.254.170.2/v2/credentials",
    "http://[::ffff:100.100.100.200]/",
    "http://[64:ff9b::6464:64c8]/",  # NAT64 of 100.100.100.200
    "http://[2002:a9fe:a9fe::1]/",  # 6to4 of 169.254.169.254
])
def test_cloud_metadata_addresses_are_never_allowed(settings, uri):
    for allow in (NO_EXCEPTIONS, ALLOW_EVERYTHING):
        settings.YIWANG_OIDC_OUTBOUND_ALLOW = allow
        with pytest.raises(ValidationError) as caught:
            _register(backchannel_logout_uri=uri)
        message = " ".join(caught.value.message_dict["backchannel_logout_uri"])
        # Refused as metadata, and no hint that the allow-list could help.
        assert "元数据" in message and "YIWANG_OIDC_OUTBOUND_ALLOW" not in message
        assert caught.value.error_dict["backchannel_logout_uri"][0].code == "outbound_metadata"
    assert not RelyingParty.objects.exists()


def test_an_allowed_name_resolving_to_a_metadata_address_is_refused(settings, monkeypatch):
    settings.YIWANG_OIDC_OUTBOUND_ALLOW = ALLOW_EVERYTHING
    _fake_dns(monkeypatch, {"metadata.example.org": ["100.100.100.200"]})
    with pytest.raises(ValidationError) as caught:
        _register(backchannel_logout_uri="https://metadata.example.org/logout")
    assert "元数据" in " ".join(caught.value.message_dict["backchannel_logout_uri"])
    with pytest.raises(outbound.OutboundRefused) as refused:
        outbound.pin("https://metadata.example.org/logout")
    assert refused.value.reason == "metadata"


def test_shared_address_space_is_allowed_only_by_the_allow_list(settings):
    settings.YIWANG_OIDC_OUTBOUND_ALLOW = ["100.64.0.0/10"]
    assert _register(backchannel_logout_uri="http://100.64.1.2/bcl")
    assert outbound.pin("http://100.64.1.2/bcl").addresses == (
        ipaddress.ip_address("100.64.1.2"),)
    with pytest.raises(outbound.OutboundRefused) as refused:  # still not the metadata
        outbound.pin("http://100.100.100.200/bcl")
    assert refused.value.reason == "metadata"
    settings.YIWANG_OIDC_OUTBOUND_ALLOW = NO_EXCEPTIONS
    with pytest.raises(outbound.OutboundRefused) as refused:
        outbound.pin("http://100.64.1.2/bcl")
    assert refused.value.reason == "shared"


@pytest.mark.parametrize("uri", ["https://10.20.30.40/logout", "http://192.168.1.5:8080/bcl",
                                 "https://172.16.0.9/bcl", "https://203.0.113.5/bcl",
                                 "https://not-yet-deployed.example.org/bcl"])
def test_private_and_public_addresses_are_allowed(settings, uri):
    # Government relying parties live on private networks; a name that does not resolve
    # yet is accepted at registration and checked at every delivery.
    settings.YIWANG_OIDC_OUTBOUND_ALLOW = NO_EXCEPTIONS
    assert _register(backchannel_logout_uri=uri).backchannel_logout_uri == uri


def test_the_allow_list_permits_loopback_by_address_or_name(settings):
    settings.YIWANG_OIDC_OUTBOUND_ALLOW = ["127.0.0.0/8"]
    assert _register(backchannel_logout_uri="http://127.0.0.2/bcl")
    with pytest.raises(ValidationError):
        _register(backchannel_logout_uri="http://[::1]/bcl")
    settings.YIWANG_OIDC_OUTBOUND_ALLOW = ["rp.localhost"]
    assert _register(backchannel_logout_uri="http://rp.localhost/bcl")


@pytest.mark.parametrize("uri", ["https://user:pw@rp.example.org/bcl",
                                 "ftp://rp.example.org/bcl", "file:///etc/passwd"])
def test_only_http_and_https_without_user_info(uri):
    with pytest.raises(ValidationError) as caught:
        _register(backchannel_logout_uri=uri)
    assert "backchannel_logout_uri" in caught.value.message_dict


def test_an_update_is_checked_too(settings):
    rp = _register()
    settings.YIWANG_OIDC_OUTBOUND_ALLOW = NO_EXCEPTIONS
    with pytest.raises(ValidationError):
        update_relying_party(rp, actor=None, backchannel_logout_uri="http://169.254.169.254/")
    rp.refresh_from_db()
    assert rp.backchannel_logout_uri == ""


# --- at delivery -----------------------------------------------------------------------------


@pytest.fixture
def session_client(flow, rp):
    """The relying party ``rp`` received tokens in the citizen's session."""
    flow.tokens()
    return SessionClient.objects.get(application=rp)


def test_delivery_goes_to_the_checked_address_with_the_host_name(
        settings, monkeypatch, rp, session_client, local_server):
    settings.YIWANG_OIDC_OUTBOUND_ALLOW = ["127.0.0.0/8"]
    _fake_dns(monkeypatch, {"rp.internal.example": ["127.0.0.1"]})
    port = local_server.base.rsplit(":", 1)[1]
    local_server.routes["/bcl"] = (200, b"")
    update_relying_party(rp, actor=None,
                         backchannel_logout_uri=f"http://rp.internal.example:{port}/bcl")
    assert tokens.deliver_backchannel_logout(session_client.pk) == "sent"
    (got,) = local_server.received
    assert got["method"] == "POST" and got["path"] == "/bcl"
    assert got["headers"]["Host"] == f"rp.internal.example:{port}"
    assert got["body"].startswith(b"logout_token=")


def test_delivery_is_refused_when_the_allow_list_no_longer_covers_the_address(
        settings, rp, session_client, local_server):
    local_server.routes["/bcl"] = (200, b"")
    update_relying_party(rp, actor=None, backchannel_logout_uri=local_server.url("/bcl"))
    settings.YIWANG_OIDC_OUTBOUND_ALLOW = NO_EXCEPTIONS
    with pytest.raises(PermanentFailure):
        tokens.deliver_backchannel_logout(session_client.pk)
    assert local_server.received == []
    client = SessionClient.objects.get(pk=session_client.pk)
    assert client.logout_sent_at is None and "loopback" in client.logout_error
    event = AuditEvent.objects.get(action="oidc.backchannel_logout_refused")
    assert event.detail["reason"] == "loopback"


def test_a_name_that_resolves_elsewhere_at_delivery_is_refused(
        settings, monkeypatch, rp, session_client):
    # DNS rebinding: harmless at registration, the metadata service a moment later.
    settings.YIWANG_OIDC_OUTBOUND_ALLOW = NO_EXCEPTIONS
    _fake_dns(monkeypatch, {"rebind.example.org": ["203.0.113.20"]})
    update_relying_party(rp, actor=None, backchannel_logout_uri="https://rebind.example.org/bcl")
    _fake_dns(monkeypatch, {"rebind.example.org": ["203.0.113.20", "169.254.169.254"]})
    sent: list[Any] = []
    monkeypatch.setattr(requests.Session, "request", lambda *a, **k: sent.append(a))
    with pytest.raises(PermanentFailure):
        tokens.deliver_backchannel_logout(session_client.pk)
    assert sent == []
    assert "metadata" in SessionClient.objects.get(pk=session_client.pk).logout_error


def test_a_name_that_does_not_resolve_is_retried(settings, monkeypatch, rp, session_client):
    _fake_dns(monkeypatch, {})
    update_relying_party(rp, actor=None, backchannel_logout_uri="https://gone.example.org/bcl")
    with pytest.raises(OSError):
        tokens.deliver_backchannel_logout(session_client.pk)  # not a PermanentFailure
    assert "could not reach" in SessionClient.objects.get(pk=session_client.pk).logout_error


# --- TLS still checks the host name ------------------------------------------------------------


def _certificate(tmp: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = timezone.now()
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp / f"{name}.pem", tmp / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """An HTTPS server on 127.0.0.1 with a certificate for ``rp.example.test`` only."""
    cert, key = _certificate(tmp_path, "rp.example.test")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], cert
    finally:
        server.shutdown()
        server.server_close()


def test_tls_verifies_the_certificate_against_the_relying_partys_name(
        monkeypatch, tls_server):
    port, cert = tls_server
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    _fake_dns(monkeypatch, {"rp.example.test": ["127.0.0.1"],
                            "impostor.example.test": ["127.0.0.1"]})
    with outbound.request("POST", f"https://rp.example.test:{port}/bcl", timeout=5,
                          data={"logout_token": "x"}) as response:
        assert response.status_code == 200
    # The same address under a name the certificate does not carry is not trusted.
    with pytest.raises(requests.exceptions.SSLError), \
            outbound.request("POST", f"https://impostor.example.test:{port}/bcl", timeout=5,
                             data={"logout_token": "x"}):
        pass


# --- an overall deadline ---------------------------------------------------------------------


@dataclass
class Drip:
    """What the dripping server answers: ``head`` at once, then ``drip`` a byte at a time."""

    head: bytes = b""
    drip: bytes = b""
    dripped: int = 0


@pytest.fixture
def drip_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Drip]]:
    """An HTTP server on 127.0.0.1 that answers slowly but steadily — a byte every 50 ms,
    well within the timeout of each read — under a deadline cut to one second."""
    monkeypatch.setattr(outbound, "DEADLINE_SECONDS", 1.0)
    answer = Drip()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                self.wfile.write(answer.head)
                for byte in answer.drip:
                    time.sleep(0.05)
                    self.wfile.write(bytes([byte]))
                    answer.dripped += 1
            except OSError:
                pass  # the provider hung up

        do_GET = do_POST = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", answer
    finally:
        server.shutdown()
        server.server_close()


def test_a_document_read_slowly_is_given_up_at_the_deadline(drip_server):
    base, answer = drip_server
    answer.head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                   b"Content-Length: 400\r\n\r\n")
    answer.drip = b"[" + b" " * 398 + b"]"  # 20 s at that pace
    with pytest.raises(outbound.DeadlineExceeded), \
            outbound.request("GET", f"{base}/sector.json", timeout=5) as response:
        outbound.read_limited(response, 64 * 1024)
    assert answer.dripped < len(answer.drip)
    with pytest.raises(ValidationError) as caught:
        register_relying_party(name="应用", client_type="confidential", actor=None,
                               subject_type="pairwise", redirect_uris="https://a.example.org/cb",
                               sector_identifier_uri=f"{base}/sector.json")
    assert "sector_identifier_uri" in caught.value.message_dict
    assert not RelyingParty.objects.exists()
    event = AuditEvent.objects.get(action="oidc.sector_document_refused")
    assert event.detail["reason"] == "too_slow"


def test_a_delivery_answered_slowly_is_given_up_at_the_deadline_and_retried(
        drip_server, rp, session_client):
    base, answer = drip_server
    answer.head = b"HTTP/1.1 200 OK\r\n"
    answer.drip = b"X-Slow: " + b"a" * 390 + b"\r\nContent-Length: 0\r\n\r\n"  # headers, 20 s
    update_relying_party(rp, actor=None, backchannel_logout_uri=f"{base}/bcl")
    with pytest.raises(outbound.DeadlineExceeded):  # a network failure: the task is retried
        tokens.deliver_backchannel_logout(session_client.pk)
    assert answer.dripped < len(answer.drip)
    client = SessionClient.objects.get(pk=session_client.pk)
    assert client.logout_sent_at is None and "could not reach" in client.logout_error


# --- several addresses -----------------------------------------------------------------------


def test_delivery_tries_each_checked_address_until_one_connects(
        settings, monkeypatch, rp, session_client, local_server):
    # 127.0.0.2 is this machine too, but nothing listens there on the server's port.
    settings.YIWANG_OIDC_OUTBOUND_ALLOW = ["127.0.0.0/8"]
    _fake_dns(monkeypatch, {"rp.internal.example": ["127.0.0.2", "127.0.0.1"]})
    port = local_server.base.rsplit(":", 1)[1]
    local_server.routes["/bcl"] = (200, b"")
    update_relying_party(rp, actor=None,
                         backchannel_logout_uri=f"http://rp.internal.example:{port}/bcl")
    assert tokens.deliver_backchannel_logout(session_client.pk) == "sent"
    (got,) = local_server.received
    assert got["headers"]["Host"] == f"rp.internal.example:{port}"


def test_an_address_that_answered_is_final(settings, monkeypatch, rp, session_client,
                                           local_server):
    # Once a connection is made, the logout token is not sent to another address too.
    settings.YIWANG_OIDC_OUTBOUND_ALLOW = ["127.0.0.0/8"]
    _fake_dns(monkeypatch, {"rp.internal.example": ["127.0.0.1", "127.0.0.1"]})
    port = local_server.base.rsplit(":", 1)[1]
    local_server.routes["/bcl"] = (503, b"busy")
    update_relying_party(rp, actor=None,
                         backchannel_logout_uri=f"http://rp.internal.example:{port}/bcl")
    with pytest.raises(RuntimeError):
        tokens.deliver_backchannel_logout(session_client.pk)
    assert len(local_server.received) == 1
    # Nowhere to connect at all: a network failure, retried later.
    _fake_dns(monkeypatch, {"rp.internal.example": ["127.0.0.2", "127.0.0.3"]})
    with pytest.raises(requests.ConnectionError):
        tokens.deliver_backchannel_logout(session_client.pk)
    assert "could not reach" in SessionClient.objects.get(pk=session_client.pk).logout_error
