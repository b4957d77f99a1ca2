"""The public verifier and the 用证记录 (review M3): only a verified signature records a use
(a forged document naming a real identifier records nothing), and the page and the API
share a per-client budget per minute, answering 429 with Retry-After past it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import reverse

from yiwang.core.audit import service as audit
from yiwang.support.licences import service as licences
from yiwang.support.licences.tests.conftest import RECORD_FIELDS

pytestmark = pytest.mark.django_db
API = "/api/v1/licences/verify"


@pytest.fixture
def record(citizen: Any, police: Any) -> licences.Licence:
    return licences.issue_licence("no_criminal_record", holder=citizen, fields=RECORD_FIELDS,
                                  department_code="gaj", actor=police)


def forged(record: licences.Licence) -> str:
    """The licence's VC with its statement changed: its identifier is real, its proof not."""
    vc = json.loads(record.vc)
    vc["credentialSubject"]["licence"]["fields"]["statement"] = "有犯罪记录"
    return json.dumps(vc, ensure_ascii=False)


def test_a_forged_vc_naming_a_real_licence_records_no_use(record: Any,
                                                          public_client: Any) -> None:
    outcome = licences.verify_presented(kind="vc", payload=forged(record))
    assert not outcome.valid and "signature" in {c["name"] for c in outcome.errors}
    assert outcome.licence is None and outcome.holder is None
    page = public_client.post(reverse("licences_portal:verify"),
                              {"kind": "vc", "text": forged(record)})
    assert page.status_code == 200 and "持证主体代码" not in page.content.decode()
    api = public_client.post(API, {"kind": "vc", "credential": json.loads(forged(record))},
                             content_type="application/json")
    assert api.json()["valid"] is False
    assert not record.uses.exists()
    assert not audit.search(audit.AuditFilter(action="licence.used")).exists()


def test_a_genuine_but_revoked_licence_is_still_recorded(record: Any, police: Any) -> None:
    """The holder should see that someone checked their (revoked) licence: the signature is
    theirs, only its status fails."""
    licences.revoke_licence(record, reason="注销", actor=police)
    outcome = licences.verify_presented(kind="qr", payload=record.qr)
    assert not outcome.valid and outcome.signed
    use = record.uses.get()
    assert use.detail["valid"] is False and use.detail["failed"] == ["status"]


def test_the_page_is_rate_limited_per_client(public_client: Any, record: Any,
                                             settings: Any) -> None:
    settings.YIWANG_LICENCES_VERIFY_RATE_PER_MINUTE = 2
    url = reverse("licences_portal:verify")
    for _ in range(2):
        assert public_client.post(url, {"kind": "qr", "text": record.qr}).status_code == 200
    limited = public_client.post(url, {"kind": "qr", "text": record.qr})
    assert limited.status_code == 429 and limited["Retry-After"] == "60"
    text = limited.content.decode()
    assert "核验请求过于频繁" in text and "每分钟最多核验 2 次" in text
    assert record.uses.count() == 2  # the refused one verified nothing
    assert public_client.get(url).status_code == 200  # reading the page costs nothing
    other = public_client.post(url, {"kind": "qr", "text": record.qr},
                               REMOTE_ADDR="192.0.2.7")
    assert other.status_code == 200  # another client has its own budget


def test_the_api_shares_the_budget_and_answers_json(public_client: Any, record: Any,
                                                    settings: Any) -> None:
    settings.YIWANG_LICENCES_VERIFY_RATE_PER_MINUTE = 1
    assert public_client.post(reverse("licences_portal:verify"),
                              {"kind": "qr", "text": record.qr}).status_code == 200
    limited = public_client.post(API, {"kind": "qr", "qr": record.qr},
                                 content_type="application/json")
    assert limited.status_code == 429 and limited["Retry-After"] == "60"
    body = limited.json()
    assert body["code"] == "rate_limited" and "每分钟最多核验 1 次" in body["detail"]


def test_zero_turns_the_limit_off(public_client: Any, record: Any, settings: Any) -> None:
    settings.YIWANG_LICENCES_VERIFY_RATE_PER_MINUTE = 0
    for _ in range(3):
        response = public_client.post(API, {"kind": "qr", "qr": record.qr},
                                      content_type="application/json")
        assert response.status_code == 200
