"""The RFC 3161 time-stamp authority, checked with the openssl CLI and pyHanko."""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import cms, tsp, x509
from django.core.exceptions import ValidationError

from yiwang.support.trust import pki, tsa
from yiwang.support.trust import service as trust

pytestmark = pytest.mark.django_db

DATA = "一网通办 时间戳 test".encode()


def _files(tmp: Path) -> tuple[str, str, str]:
    data = tmp / "data.bin"
    data.write_bytes(DATA)
    root = tmp / "root.pem"
    root.write_text(trust.ensure_root_ca().pem)
    tsa_pem = tmp / "tsa.pem"
    tsa_pem.write_text(pki.der_to_pem(trust.tsa_certificate()))
    return str(data), str(root), str(tsa_pem)


def _verify(tmp: Path, reply: bytes, *, token: bool = False) -> subprocess.CompletedProcess[str]:
    data, root, tsa_pem = _files(tmp)
    path = tmp / ("token.tst" if token else "reply.tsr")
    path.write_bytes(reply)
    args = ["openssl", "ts", "-verify", "-data", data, "-in", str(path), "-CAfile", root,
            "-untrusted", tsa_pem]
    if token:
        args.append("-token_in")
    return subprocess.run(args, capture_output=True, text=True, check=False)


def test_tsa_certificate_has_critical_timestamping_eku(db: Any) -> None:
    cert = x509.Certificate.load(trust.tsa_certificate())
    eku = [e for e in cert["tbs_certificate"]["extensions"]
           if e["extn_id"].native == "extended_key_usage"]
    assert eku and eku[0]["critical"].native is True
    assert eku[0]["extn_value"].native == ["time_stamping"]


def test_in_process_token_verifies_with_openssl(db: Any, tmp_path: Path) -> None:
    token = trust.timestamp(hashlib.sha256(DATA).digest(), nonce=42)
    result = _verify(tmp_path, token, token=True)
    assert result.returncode == 0, result.stderr
    assert "Verification: OK" in result.stdout


def test_http_reply_verifies_with_openssl_on_both_listeners(
        db: Any, tmp_path: Path, public_client: Any, internal_client: Any) -> None:
    query = tmp_path / "query.tsq"
    (tmp_path / "data.bin").write_bytes(DATA)
    subprocess.run(["openssl", "ts", "-query", "-data", str(tmp_path / "data.bin"), "-sha256",
                    "-cert", "-out", str(query)], check=True, capture_output=True)
    for client in (public_client, internal_client):
        response = client.post("/trust/tsa", data=query.read_bytes(),
                               content_type="application/timestamp-query")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/timestamp-reply"
        result = _verify(tmp_path, response.content)
        assert result.returncode == 0, result.stderr


def test_a_changed_document_does_not_verify(db: Any, tmp_path: Path) -> None:
    token = trust.timestamp(hashlib.sha256(DATA + b"!").digest())
    result = _verify(tmp_path, token, token=True)
    assert result.returncode != 0
    assert "imprint mismatch" in result.stderr


def test_token_validates_with_pyhanko(db: Any) -> None:
    from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
    from pyhanko_certvalidator import ValidationContext

    digest = hashlib.sha256(DATA).digest()
    token = cms.ContentInfo.load(trust.timestamp(digest))
    context = ValidationContext(trust_roots=[x509.Certificate.load(trust.ensure_root_ca().der)],
                                crls=[trust.crl()], allow_fetching=False)
    status = asyncio.run(validate_tst_signed_data(token["content"], context,
                                                  lambda _algorithm: digest))
    assert status["intact"] and status["valid"]
    assert status["trust_problem_indic"] is None
    wrong = asyncio.run(validate_tst_signed_data(token["content"], context,
                                                 lambda _algorithm: b"\0" * 32))
    assert wrong["intact"] is False


@pytest.mark.parametrize("body", [b"", b"garbage", b"\x30\x03\x02\x01\x01",
                                  tsa.build_request(b"\1" * 20, hash_algorithm="sha1"),
                                  tsa.build_request(b"\1" * 31)])
def test_malformed_requests_are_rejected_not_500(db: Any, public_client: Any,
                                                 body: bytes) -> None:
    response = public_client.post("/trust/tsa", data=body,
                                  content_type="application/timestamp-query")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/timestamp-reply"
    status = tsp.PKIStatusInfo.load(response.content[2:] if response.content[1] < 0x80
                                    else response.content[3:])
    assert status["status"].native == "rejection"


def test_wrong_method_type_and_size(db: Any, public_client: Any, settings: Any) -> None:
    assert public_client.get("/trust/tsa").status_code == 405
    assert public_client.post("/trust/tsa", data=b"x",
                              content_type="application/octet-stream").status_code == 415
    settings.YIWANG_TSA_MAX_REQUEST_BYTES = 50
    big = tsa.build_request(b"\1" * 64, hash_algorithm="sha512")
    assert public_client.post("/trust/tsa", data=big,
                              content_type="application/timestamp-query").status_code == 413


def test_rate_limit(db: Any, public_client: Any, settings: Any) -> None:
    from django.core.cache import cache

    cache.clear()
    settings.YIWANG_TSA_RATE_PER_MINUTE = 2
    request = tsa.build_request(hashlib.sha256(DATA).digest())
    codes = [public_client.post("/trust/tsa", data=request,
                                content_type="application/timestamp-query").status_code
             for _ in range(3)]
    assert codes == [200, 200, 429]


def test_in_process_refuses_a_bad_imprint(db: Any) -> None:
    with pytest.raises(ValidationError):
        trust.timestamp(b"short")
