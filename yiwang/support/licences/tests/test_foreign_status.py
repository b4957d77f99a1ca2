"""Status lists of another region: fetched from the issuing instance (a real HTTP server on
127.0.0.1 here), checked against that region's keys from its imported trust list, cached
with a TTL; refused off the issuer's origin or signed by another key; unknown — never
valid — when they cannot be had."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import rfc8785
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID
from django.core.cache import cache
from django.utils import timezone

from yiwang.core import testserver
from yiwang.support.licences import service as licences
from yiwang.support.licences import statusfetch
from yiwang.support.trust import service as trust
from yiwang.verify import dataintegrity, statuslist

REGION = "440300000000"
INDEX = 5


# --- the other region's instance: an HTTP server and a trust list --------------------------

Origin = testserver.LocalOrigin


def _serve() -> Origin:
    return testserver.serve("application/vc+ld+json")


def _spki(key: Any) -> bytes:
    return bytes(key.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo))


#: The extended key usage of a trust-list signing certificate (ETSI TS 119 612's tslSigning).
TSL_SIGNING = x509.ObjectIdentifier("0.4.0.2231.3.0")


def _certificate(subject: str, key: Any, issuer: str, issuer_key: Any, *, ca: bool) -> bytes:
    now = timezone.now()
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(days=1))
               .not_valid_after(now + timedelta(days=365))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:  # the list's signer: only a trust-list signing certificate may sign one
        builder = builder.add_extension(x509.ExtendedKeyUsage([TSL_SIGNING]), critical=True)
    return builder.sign(issuer_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def _pem(der: bytes) -> str:
    return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM).decode()


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


def _b64url(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class Region:
    """The other region as this instance sees it once its trust list is imported."""

    origin: Origin
    key: ed25519.Ed25519PrivateKey
    vm_id: str
    issuer: str
    list_url: str
    bits: statuslist.StatusList = field(default_factory=statuslist.StatusList)

    def sign(self, document: dict[str, Any], *, key: Any = None, vm_id: str = "") -> dict[str, Any]:
        return dataintegrity.add_proof(document, verification_method=vm_id or self.vm_id,
                                       sign=(key or self.key).sign)

    def list_credential(self, url: str = "", **kwargs: Any) -> dict[str, Any]:
        document = statuslist.status_list_credential(
            list_url=url or self.list_url, issuer=self.issuer, purpose="revocation",
            status_list=self.bits)
        return self.sign(document, **kwargs)

    def publish(self, document: dict[str, Any] | None = None, path: str = "") -> None:
        body = json.dumps(document or self.list_credential()).encode()
        self.origin.pages[path or self.list_url[len(self.origin.base):]] = body

    def credential(self) -> dict[str, Any]:
        return self.sign({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "issuer": self.issuer,
            "validFrom": "2026-01-01T00:00:00Z",
            "credentialSubject": {"id": "urn:example:holder"},
            "credentialStatus": [statuslist.status_entry(list_url=self.list_url, index=INDEX,
                                                         purpose="revocation")],
        })


def _trust_list(base: str, licence_key: ed25519.Ed25519PrivateKey) -> tuple[bytes, str]:
    """A signed trust list of 深圳市 whose one key's id is on ``base``; (bytes, fingerprint)."""
    root_key = ec.generate_private_key(ec.SECP256R1())
    list_key = ec.generate_private_key(ec.SECP256R1())
    root = _certificate("深圳市根证书", root_key, "深圳市根证书", root_key, ca=True)
    signer = _certificate("深圳市信任列表签名", list_key, "深圳市根证书", root_key, ca=False)
    now = timezone.now().replace(microsecond=0)
    iso = "%Y-%m-%dT%H:%M:%SZ"
    document: dict[str, Any] = {
        "type": "YiwangTrustList", "formatVersion": 1,
        "region": {"code": REGION, "name": "深圳市"}, "sequence": 1,
        "issued": now.strftime(iso), "nextUpdate": (now + timedelta(days=30)).strftime(iso),
        "root": {"certificate": _pem(root), "fingerprint": hashlib.sha256(root).hexdigest(),
                 "algorithm": "ecdsa-p256"},
        "crls": [],
        "issuers": [{
            "id": f"{base}/trust/issuers/scjg", "department": "scjg",
            "name": "深圳市市场监督管理局", "licenceTypes": ["yyzz"],
            "keys": [{"id": f"{base}/trust/keys/k1", "type": "Multikey",
                      "purpose": "licence.vc", "algorithm": "ed25519",
                      "publicKey": _b64(_spki(licence_key)), "status": "active"}],
        }],
        "proof": {"type": "YiwangJcsSignature2026", "algorithm": "ecdsa-p256",
                  "canonicalization": "RFC8785", "created": now.strftime(iso),
                  "certificate": _pem(signer)},
    }
    signature = list_key.sign(rfc8785.dumps(document), ec.ECDSA(hashes.SHA256()))
    document["proof"]["signatureValue"] = _b64url(signature)
    return json.dumps(document, ensure_ascii=False).encode(), hashlib.sha256(root).hexdigest()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """statusfetch's clock, moved by the tests (freshness is computed from it)."""
    now = [1_900_000_000.0]
    monkeypatch.setattr(statusfetch, "_now", lambda: now[0])
    return now


@pytest.fixture
def region(db: Any, settings: Any, clock: list[float]) -> Iterator[Region]:
    settings.YIWANG_LICENCES_STATUS_CACHE_SECONDS = 300.0
    settings.YIWANG_LICENCES_STATUS_FETCH_ALLOW = ["127.0.0.1/32"]
    settings.YIWANG_LICENCES_STATUS_FETCH_TIMEOUT = 5.0
    cache.clear()
    origin = _serve()
    key = ed25519.Ed25519PrivateKey.generate()
    raw, fingerprint = _trust_list(origin.base, key)
    trust.import_trust_list(raw, fingerprint=fingerprint)
    found = Region(origin, key, f"{origin.base}/trust/keys/k1",
                   f"{origin.base}/trust/issuers/scjg", f"{origin.base}/credentials/status/r1")
    yield found
    origin.stop()
    cache.clear()


def _status(region: Region) -> dict[str, Any]:
    outcome = licences.verify_presented(kind="vc", payload=json.dumps(region.credential()))
    checks = [c for c in outcome.checks if c["name"] == "status"]
    assert len(checks) == 1, outcome.checks
    return checks[0]


# --- the tests ------------------------------------------------------------------------------

def test_valid_before_revocation(region: Region) -> None:
    region.publish()
    outcome = licences.verify_presented(kind="vc", payload=json.dumps(region.credential()))
    by_name = {c["name"]: c for c in outcome.checks}
    assert by_name["status"]["ok"] is True, outcome.checks
    assert "未吊销" in by_name["status"]["message"]
    assert by_name["issuer"]["ok"] is True  # the imported region's issuer
    assert region.origin.hits == ["/credentials/status/r1"]


def test_revocation_is_seen_once_the_cached_copy_expires(region: Region,
                                                         clock: list[float]) -> None:
    region.publish()
    assert _status(region)["ok"] is True
    region.bits.set(INDEX)
    region.publish()  # the issuer revoked it
    clock[0] += 100  # within the TTL: the cached copy still answers, nothing fetched
    assert _status(region)["ok"] is True
    assert len(region.origin.hits) == 1
    clock[0] += 201  # past the TTL
    check = _status(region)
    assert check["ok"] is False and "证照已吊销" in check["message"], check
    assert len(region.origin.hits) == 2


def test_refresh_status_lists_fetches_at_once(region: Region) -> None:
    region.publish()
    assert _status(region)["ok"] is True
    region.bits.set(INDEX)
    region.publish()
    assert licences.refresh_status_lists() == {region.list_url: ""}
    check = _status(region)
    assert check["ok"] is False and "证照已吊销" in check["message"]


def test_valid_until_shortens_the_cache(region: Region, clock: list[float]) -> None:
    document = statuslist.status_list_credential(
        list_url=region.list_url, issuer=region.issuer, purpose="revocation",
        status_list=region.bits,
        valid_until=datetime.fromtimestamp(clock[0] + 60, UTC))
    region.publish(region.sign(document))
    assert licences.status_list_at(region.list_url) is not None
    clock[0] += 61
    region.origin.pages.clear()  # gone from the server, and the copy is past its validUntil
    assert licences.status_list_at(region.list_url) is None
    assert len(region.origin.hits) == 2


def test_unknown_when_the_server_is_down_and_nothing_is_cached(region: Region) -> None:
    region.origin.stop()
    check = _status(region)
    assert check["ok"] is False
    assert "无法获取状态列表" in check["message"], check
    assert "valid" not in check["message"].replace("not available", "")


def test_a_fresh_copy_answers_while_the_server_is_down(region: Region,
                                                       clock: list[float]) -> None:
    region.publish()
    assert _status(region)["ok"] is True
    region.origin.stop()
    assert licences.refresh_status_lists()[region.list_url].startswith("无法获取状态列表")
    assert _status(region)["ok"] is True  # still within the TTL
    clock[0] += 301
    check = _status(region)
    assert check["ok"] is False and "无法获取状态列表" in check["message"]


def test_refused_when_the_url_is_not_on_the_issuer_origin(region: Region) -> None:
    other = _serve()  # another port of the same host: another origin
    try:
        url = f"{other.base}/credentials/status/r1"
        other.pages["/credentials/status/r1"] = json.dumps(region.list_credential(url)).encode()
        found = statusfetch.status_list(url)
        assert found.document is None and found.reason == "not_trusted"
        assert other.hits == []  # never asked
        for bad in ("http://169.254.169.254/latest/meta-data/", "file:///etc/passwd",
                    "ftp://127.0.0.1/x", "not a url", ""):
            assert statusfetch.status_list(bad).reason == "not_trusted"
    finally:
        other.stop()


def test_refused_when_signed_by_another_key(region: Region) -> None:
    stranger = ed25519.Ed25519PrivateKey.generate()
    region.publish(region.list_credential(key=stranger))
    found = statusfetch.status_list(region.list_url)
    assert found.document is None and found.reason == "wrong_key", found
    check = _status(region)
    assert check["ok"] is False and "不是由该地区的密钥签名" in check["message"]


def test_refused_when_signed_by_a_key_of_this_instance(region: Region, city: Any) -> None:
    """A list signed by a key trusted here but not the issuing region's is refused too."""
    from yiwang.core.crypto import service as crypto

    key = crypto.create_signing_key(owner="scjg", purpose="licence.vc", algorithm="ed25519")
    trust.certify_key(key.id, department_code="scjg", usage="licence")
    document = statuslist.status_list_credential(
        list_url=region.list_url, issuer=region.issuer, purpose="revocation",
        status_list=region.bits)
    signed = dataintegrity.add_proof(document,
                                     verification_method=trust.verification_method_id(key.id),
                                     sign=lambda data: crypto.sign_with_key(key.id, data))
    region.publish(signed)
    assert statusfetch.status_list(region.list_url).reason == "wrong_key"


def test_refused_when_the_list_names_another_url(region: Region) -> None:
    region.publish(region.list_credential(f"{region.origin.base}/credentials/status/r2"))
    assert statusfetch.status_list(region.list_url).reason == "wrong_id"


def test_a_missing_list_is_unavailable(region: Region) -> None:
    found = statusfetch.status_list(region.list_url)  # 404
    assert found.document is None and (found.reason, found.detail) == ("unavailable", "status")


def test_a_redirect_is_not_followed(region: Region) -> None:
    region.publish(path="/elsewhere")
    region.origin.redirects["/credentials/status/r1"] = f"{region.origin.base}/elsewhere"
    found = statusfetch.status_list(region.list_url)
    assert (found.reason, found.detail) == ("unavailable", "redirect")
    assert region.origin.hits == ["/credentials/status/r1"]


def test_loopback_is_refused_unless_allowed(region: Region, settings: Any) -> None:
    region.publish()
    settings.YIWANG_LICENCES_STATUS_FETCH_ALLOW = []
    found = statusfetch.status_list(region.list_url)
    assert found.document is None and found.reason == "refused" and found.detail == "loopback"
    assert region.origin.hits == []


def test_an_oversized_list_is_refused(region: Region, settings: Any) -> None:
    region.publish()
    settings.YIWANG_LICENCES_STATUS_MAX_BYTES = 100
    found = statusfetch.status_list(region.list_url)
    assert found.reason == "unavailable" and found.detail == "too_large"


@pytest.mark.django_db(transaction=True)
def test_the_fetch_happens_outside_any_transaction(region: Region,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from django.db import connection

    from yiwang.support.licences import integration

    seen: list[bool] = []
    fetch = integration.fetch_status_list

    def watched(url: str) -> bytes:
        seen.append(connection.in_atomic_block)
        return fetch(url)

    monkeypatch.setattr(integration, "fetch_status_list", watched)
    region.publish()
    assert _status(region)["ok"] is True
    assert seen == [False]


def test_a_failed_fetch_is_not_repeated_at_once(region: Region, clock: list[float]) -> None:
    assert statusfetch.status_list(region.list_url).detail == "status"  # 404: not there yet
    region.publish()
    found = statusfetch.status_list(region.list_url)  # within the retry pause: not asked
    assert found.document is None and found.reason == "unavailable"
    assert region.origin.hits == ["/credentials/status/r1"]
    clock[0] += statusfetch.RETRY_AFTER_SECONDS + 1
    assert statusfetch.status_list(region.list_url).document is not None
    assert len(region.origin.hits) == 2
    # refresh_status_lists() does not wait for the pause either
    region.origin.pages.clear()
    assert statusfetch.refresh([region.list_url])[region.list_url].startswith("无法获取状态列表")
    region.publish()
    assert statusfetch.refresh([region.list_url]) == {region.list_url: ""}


def test_deeply_nested_json_is_malformed_and_the_refresh_goes_on(
        region: Region, monkeypatch: pytest.MonkeyPatch) -> None:
    """Review A-M6: ``"[" * 100000`` from a partner's status URL is refused as malformed, by
    the cheap depth check and, past it, by catching RecursionError; and one list that fails
    unexpectedly does not stop refresh() of the others."""
    deep_url = f"{region.origin.base}/credentials/status/deep"
    region.origin.pages["/credentials/status/deep"] = b"[" * 100000
    region.publish()
    found = statusfetch.status_list(deep_url, refresh=True)
    assert found.document is None and found.reason == "malformed"
    monkeypatch.setattr(statusfetch, "too_deep", lambda raw, limit=0: False)
    found = statusfetch.status_list(deep_url, refresh=True)  # json.loads' RecursionError
    assert found.document is None and found.reason == "malformed"
    assert statusfetch.refresh([deep_url, region.list_url]) == {
        deep_url: statusfetch.REASONS["malformed"], region.list_url: ""}
    real = statusfetch.status_list

    def broken(url: str, *, refresh: bool = False) -> statusfetch.Lookup:
        if url == deep_url:
            raise RecursionError("somewhere deeper")
        return real(url, refresh=refresh)

    monkeypatch.setattr(statusfetch, "status_list", broken)
    assert statusfetch.refresh([deep_url, region.list_url]) == {
        deep_url: "error", region.list_url: ""}


def test_the_depth_check_skips_brackets_in_strings() -> None:
    assert statusfetch.too_deep(b"[" * 100000)
    assert statusfetch.too_deep(b'["\\\\",' + b"[" * 40)  # an escaped backslash ends a string
    assert not statusfetch.too_deep(b'{"a":"' + b"[" * 100 + b'\\"[[","b":[1,{"c":[]}]}')
    assert not statusfetch.too_deep(json.dumps({"proof": {"x": [[["y"]]]}}).encode())
