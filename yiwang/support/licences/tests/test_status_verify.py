"""Status lists and verification: suspend, revoke, reinstate; the public page and API name
every failure and never say valid for it."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from yiwang.support.licences import service as licences
from yiwang.support.licences.tests.conftest import RECORD_FIELDS
from yiwang.verify import statuslist

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(citizen: Any, police: Any) -> licences.Licence:
    return licences.issue_licence("no_criminal_record", holder=citizen, fields=RECORD_FIELDS,
                                  department_code="gaj", actor=police)


def verify(kind: str, payload: Any) -> licences.Verification:
    return licences.verify_presented(kind=kind, payload=payload)


def failed(outcome: licences.Verification) -> set[str]:
    return {c["name"] for c in outcome.errors}


def test_a_fresh_licence_verifies_as_vc_and_qr(record: Any) -> None:
    for kind, payload in (("vc", record.vc), ("qr", record.qr)):
        outcome = verify(kind, payload)
        assert outcome.valid, outcome.errors
        assert outcome.licence == record
    assert record.uses.filter(kind="verify_page").count() == 2


def test_suspension_and_revocation_are_named(record: Any, police: Any) -> None:
    licences.suspend_licence(record, reason="核查中", actor=police)
    for kind, payload in (("vc", record.vc), ("qr", record.qr)):
        outcome = verify(kind, payload)
        assert not outcome.valid and "status" in failed(outcome)
        assert any("suspend" in c["message"] for c in outcome.errors)
    licences.reinstate_licence(record, reason="核查完毕", actor=police)
    assert verify("vc", record.vc).valid
    licences.revoke_licence(record, reason="证明有误", actor=police)
    outcome = verify("qr", record.qr)
    assert not outcome.valid and any("revoked" in c["message"] for c in outcome.errors)
    with pytest.raises(ValidationError):
        licences.reinstate_licence(record, reason="再试", actor=police)


def test_status_list_endpoint_serves_a_signed_list(public_client: Any, record: Any,
                                                   police: Any) -> None:
    licences.suspend_licence(record, reason="核查中", actor=police)
    url = reverse("licences:status_list", args=[record.suspension_list.list_id])
    document = public_client.get(url).json()
    assert document["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert statuslist.status_of(document, record.suspension_index) == 1
    assert statuslist.status_of(document, record.suspension_index + 1) == 0
    assert public_client.get(reverse("licences:status_list", args=["nope"])).status_code == 404


def test_only_the_issuing_department_changes_status(record: Any, clerk: Any) -> None:
    with pytest.raises(PermissionDenied):
        licences.revoke_licence(record, reason="越权", actor=clerk)
    record.refresh_from_db()
    assert record.status == "active"


def test_reason_is_required(record: Any, police: Any) -> None:
    with pytest.raises(ValidationError, match="原因"):
        licences.suspend_licence(record, reason="  ", actor=police)


def test_tampered_and_malformed_inputs_are_named(record: Any) -> None:
    vc = json.loads(record.vc)
    vc["credentialSubject"]["licence"]["fields"]["statement"] = "篡改"
    assert "signature" in failed(verify("vc", json.dumps(vc))) | failed(
        verify("vc", json.dumps(vc)))
    assert failed(verify("vc", "{not json")) == {"malformed"}
    assert failed(verify("vc", "[1, 2]")) == {"malformed"}
    truncated = verify("qr", record.qr[:-20])
    assert not truncated.valid and failed(truncated) & {"encoding", "cose", "signature"}
    assert failed(verify("pdf", b"GIF89a....")) == {"malformed"}
    assert not verify("qr", "hello").valid


def test_an_unsealed_or_edited_pdf_is_not_valid(record: Any) -> None:
    pdf = licences.pdf_bytes(record)
    outcome = verify("pdf", pdf)
    if not record.sealed:
        assert not outcome.valid
    edited = pdf + b"\n% an appended edit\n"
    assert not verify("pdf", edited).valid


def test_too_large_uploads_are_refused(record: Any, settings: Any) -> None:
    settings.YIWANG_LICENCES_MAX_UPLOAD_BYTES = 100
    outcome = verify("vc", record.vc)
    assert failed(outcome) == {"malformed"} and "too large" in outcome.errors[0]["message"]


def test_public_page(public_client: Any, record: Any) -> None:
    page = public_client.get(reverse("licences_portal:verify"))
    assert page.status_code == 200
    ok = public_client.post(reverse("licences_portal:verify"), {"kind": "qr",
                                                                 "text": record.qr})
    failures = re.findall(r"<li><strong>.*?</li>", ok.content.decode())
    assert ok.status_code == 200 and "核验通过" in ok.content.decode(), failures
    bad = public_client.post(reverse("licences_portal:verify"), {"kind": "vc",
                                                                  "text": "{oops"})
    assert bad.status_code == 422 and "核验未通过" in bad.content.decode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("x.pdf", b"not a pdf", content_type="application/pdf")
    response = public_client.post(reverse("licences_portal:verify"), {"kind": "pdf",
                                                                       "file": fake})
    assert response.status_code == 422 and "%PDF" in response.content.decode()


def test_api(public_client: Any, record: Any, police: Any) -> None:
    url = "/api/v1/licences/verify"
    ok = public_client.post(url, {"kind": "vc", "credential": json.loads(record.vc)},
                            content_type="application/json")
    assert ok.status_code == 200 and ok.json()["valid"] is True
    licences.revoke_licence(record, reason="注销", actor=police)
    revoked = public_client.post(url, {"kind": "qr", "qr": record.qr},
                                 content_type="application/json").json()
    assert revoked["valid"] is False and "status" in revoked["errors"]
    garbage = public_client.post(url, {"kind": "pdf", "pdf": "!!!"},
                                 content_type="application/json")
    assert garbage.status_code == 400 and garbage.json()["errors"] == ["malformed"]
    not_pdf = public_client.post(url, {"kind": "pdf",
                                       "pdf": base64.b64encode(b"hello").decode()},
                                 content_type="application/json")
    assert not_pdf.status_code == 400
    assert record.uses.filter(kind="verify_api").count() == 2
    types = public_client.get("/api/v1/licences/types").json()
    assert {t["code"] for t in types} >= {"business_licence", "marriage_certificate"}


def test_an_expired_licence_shows_as_expired(record: Any) -> None:
    from datetime import timedelta

    later = record.valid_until + timedelta(days=1)
    assert licences.effective_status(record) == "active"
    assert licences.effective_status(record, today=later) == "expired"


def test_an_oversized_api_body_is_a_4xx(public_client: Any) -> None:
    body = '{"kind": "qr", "qr": "' + "A" * (6 * 1024 * 1024) + '"}'
    response = public_client.post("/api/v1/licences/verify", body,
                                  content_type="application/json")
    assert 400 <= response.status_code < 500


def test_english_pages(public_client: Any, citizen: Any, record: Any) -> None:
    from yiwang.support.identity.testing import sign_in_client

    assert public_client.get("/en/licences/verify/").status_code == 200
    sign_in_client(public_client, citizen)
    assert public_client.get("/en/licences/").status_code == 200
    assert public_client.get(f"/en/licences/{record.pk}/").status_code == 200


def test_the_trust_bundle_is_cached_and_forgotten_on_a_new_key(record: Any, settings: Any,
                                                               clerk: Any, enterprise: Any,
                                                               monkeypatch: Any) -> None:
    from yiwang.support.licences.tests.conftest import BUSINESS_FIELDS
    from yiwang.support.trust import service as trust

    settings.YIWANG_LICENCES_TRUST_CACHE_SECONDS = 60
    calls = []
    real = trust.trust_bundle
    monkeypatch.setattr(trust, "trust_bundle", lambda: calls.append(1) or real())
    assert verify("qr", record.qr).valid and verify("vc", record.vc).valid
    assert len(calls) == 1
    business = licences.issue_licence("business_licence", holder=enterprise.credit_code,
                                      fields=BUSINESS_FIELDS, department_code="scjg",
                                      actor=clerk)  # a new department key: cache dropped
    assert verify("qr", business.qr).valid
    assert len(calls) == 2


@pytest.mark.parametrize("payload", [b"%PDF-1.7\n garbage", b"%PDF-1.4\n%%EOF",
                                     b"%PDF-" + bytes(range(256)) * 4])
def test_broken_pdfs_are_named_not_crashed(city: Any, payload: bytes) -> None:
    outcome = verify("pdf", payload)
    assert not outcome.valid and outcome.errors


@pytest.mark.parametrize("text", ["YW1:", "YW1:%%%%", "YW1:" + "A" * 1000, "\x00\x01",
                                  '{"proof": 1}'])
def test_broken_qr_and_vc_are_named_not_crashed(city: Any, text: str) -> None:
    for kind in ("qr", "vc"):
        outcome = verify(kind, text)
        assert not outcome.valid and outcome.errors
