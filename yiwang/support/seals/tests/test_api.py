"""The seals API: 验章 on both listeners (anyone; malformed → 400, too large → 413), and the
internal seal list and use log (officials; another department's official → 403)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.test import RequestFactory

from yiwang.support.identity.testing import sign_in_client, sign_in_request
from yiwang.support.seals import service as seals
from yiwang.support.seals.testing import PkiBackend, sample_pdf

pytestmark = pytest.mark.django_db


@pytest.fixture
def sealed(officials: Any, pki_backend: PkiBackend) -> tuple[seals.Seal, bytes]:
    seal = seals.create_seal(department_code="scjgj", name="示例市市场监督管理局行政审批专用章",
                             kind="approval", custodians=[officials.custodian],
                             actor=officials.custodian)
    pdf = sample_pdf()
    request = sign_in_request(RequestFactory().post("/"), officials.custodian)
    authorisation = seals.authorise_seal_use(seal, custodian=officials.custodian,
                                             request=request, purpose="x",
                                             document_sha256=hashlib.sha256(pdf).hexdigest())
    return seal, seals.seal_pdf(pdf, seal=seal, authorisation=authorisation, level="B-T")


def test_validate_on_both_listeners(sealed: tuple[seals.Seal, bytes], public_client: Any,
                                    internal_client: Any) -> None:
    seal, pdf = sealed
    for client in (public_client, internal_client):
        answer = client.post("/api/v1/seals/validate", pdf, content_type="application/pdf")
        assert answer.status_code == 200
        body = answer.json()
        assert body["valid"] is True
        assert body["signatures"][0]["seal"]["code"] == seal.code
        assert {c["name"] for c in body["signatures"][0]["checks"]} >= {
            "integrity", "coverage", "trust", "revocation", "timestamp"}


def test_validate_bad_input(sealed: tuple[seals.Seal, bytes], public_client: Any,
                            settings: Any) -> None:
    _seal, pdf = sealed
    tampered = bytearray(pdf)
    tampered[500] ^= 0x01
    body = public_client.post("/api/v1/seals/validate", bytes(tampered),
                              content_type="application/pdf").json()
    assert body["valid"] is False
    assert any(not c["ok"] for s in body["signatures"] for c in s["checks"])
    for junk in (b"", b"garbage", b"%PDF-1.7 truncated"):
        answer = public_client.post("/api/v1/seals/validate", junk,
                                    content_type="application/pdf")
        assert answer.status_code == 400 and answer.json()["detail"]
    unsigned = public_client.post("/api/v1/seals/validate", sample_pdf(),
                                  content_type="application/pdf").json()
    assert unsigned["valid"] is False and unsigned["errors"]
    settings.YIWANG_SEAL_MAX_PDF_BYTES = 1000
    too_large = public_client.post("/api/v1/seals/validate", pdf,
                                   content_type="application/pdf")
    assert too_large.status_code == 413 and "文件太大" in too_large.json()["detail"]


def test_validate_reads_bodies_past_djangos_upload_limit(public_client: Any,
                                                         settings: Any) -> None:
    """A 6 MB body is over DATA_UPLOAD_MAX_MEMORY_SIZE (5 MB) but under the seals limit
    (20 MB): it is read and judged (here: not a readable PDF), never Django's generic 400;
    past the seals limit it is the documented 413 with a message."""
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE < 6 * 1024 * 1024 < \
        settings.YIWANG_SEAL_MAX_PDF_BYTES
    big = b"%PDF-1.7\n" + b"0" * (6 * 1024 * 1024)
    answer = public_client.post("/api/v1/seals/validate", big, content_type="application/pdf")
    assert answer.status_code == 400 and "无法读取该 PDF 文件" in answer.json()["detail"]
    huge = big + b"0" * settings.YIWANG_SEAL_MAX_PDF_BYTES
    answer = public_client.post("/api/v1/seals/validate", huge, content_type="application/pdf")
    assert answer.status_code == 413 and "文件太大（上限 20 MB）" in answer.json()["detail"]


def test_validate_is_rate_limited_per_client(public_client: Any, internal_client: Any,
                                             settings: Any) -> None:
    settings.YIWANG_SEAL_VALIDATE_RATE_PER_MINUTE = 2
    pdf = sample_pdf()
    for _ in range(2):
        assert public_client.post("/api/v1/seals/validate", pdf,
                                  content_type="application/pdf").status_code == 200
    refused = public_client.post("/api/v1/seals/validate", pdf, content_type="application/pdf")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"
    assert "验章请求过于频繁" in refused.json()["detail"]
    # Another client address has its own budget.
    other = internal_client.post("/api/v1/seals/validate", pdf, content_type="application/pdf",
                                 REMOTE_ADDR="192.0.2.7")
    assert other.status_code == 200


def test_internal_seal_list_and_uses(sealed: tuple[seals.Seal, bytes], internal_client: Any,
                                     officials: Any) -> None:
    seal, _pdf = sealed
    assert internal_client.get("/api/v1/seals/seals").status_code == 401
    sign_in_client(internal_client, officials.custodian)
    listed = internal_client.get("/api/v1/seals/seals").json()
    assert [s["code"] for s in listed] == [seal.code]
    uses = internal_client.get(f"/api/v1/seals/seals/{seal.code}/uses").json()
    assert len(uses) == 1 and uses[0]["level"] == "B-T"
    internal_client.logout()
    sign_in_client(internal_client, officials.outsider)
    assert internal_client.get("/api/v1/seals/seals").json() == []
    assert internal_client.get(f"/api/v1/seals/seals/{seal.code}/uses").status_code == 403
    assert internal_client.get("/api/v1/seals/seals/NOPE/uses").status_code == 404


def test_use_log_api_is_paginated(sealed: tuple[seals.Seal, bytes], internal_client: Any,
                                  officials: Any) -> None:
    seal, _pdf = sealed
    first = seals.list_uses(seal=seal)[0]
    seals.SealUse.objects.bulk_create([seals.SealUse(
        seal=seal, authorisation=first.authorisation, document_sha256=f"{n:064x}",
        sealed_sha256=f"{n:064x}", level="B-B", field_name="Seal1") for n in range(120)])
    sign_in_client(internal_client, officials.custodian)
    address = f"/api/v1/seals/seals/{seal.code}/uses"
    page_one = internal_client.get(address)
    assert page_one["X-Total-Count"] == "121" and len(page_one.json()) == 100
    page_two = internal_client.get(address, {"page": 2}).json()
    assert len(page_two) == 21 and page_two[-1]["level"] == "B-T"  # the oldest, the real one
    assert internal_client.get(address, {"page": 3}).json() == []
    assert internal_client.get(address, {"page": 0}).status_code in (400, 422)
