"""Review of session 2: a presented VC/QR is one of our licences only when it is the very one
issued (A-M2); status lists follow the department's active key (A-M1) and are signed again
when they lack a validUntil (A-M3); VC and PDF downloads need a real-name session (A-L3)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.urls import reverse

from yiwang.core.crypto import service as crypto
from yiwang.support.identity.testing import sign_in_client
from yiwang.support.licences import integration, statuslists
from yiwang.support.licences import service as licences
from yiwang.support.licences.models import StatusList
from yiwang.support.licences.tests.conftest import RECORD_FIELDS

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(citizen: Any, police: Any) -> licences.Licence:
    return licences.issue_licence("no_criminal_record", holder=citizen, fields=RECORD_FIELDS,
                                  department_code="gaj", actor=police)


def _status_checks(outcome: Any) -> list[dict[str, Any]]:
    return [c for c in outcome.checks if c["name"] == "status"]


def _list_method(status_list: StatusList) -> str:
    document = licences.status_list_document(status_list.list_id)
    assert document is not None
    return str(document["proof"]["verificationMethod"])


# --- A-M2: binding the presented item to the stored licence ---------------------------------

def test_another_keys_vc_naming_our_identifier_shows_and_records_nothing(
        record: Any, public_client: Any) -> None:
    document = json.loads(record.vc)
    document.pop("proof")
    document.pop("credentialStatus")
    document["issuer"] = {"id": integration.issuer_id("mzj"), "name": "民政局"}
    document["credentialSubject"]["holderName"] = "李四"
    key = integration.signing_key("mzj", integration.VC_PURPOSE, integration.VC_ALGORITHM)
    integration.forget_trust_bundle()
    other = json.dumps(integration.add_vc_proof(document, key), ensure_ascii=False)
    before = record.uses.count()
    outcome = licences.verify_presented(kind="vc", payload=other)
    assert outcome.signed  # a genuine signature of a trusted key…
    assert outcome.licence is None and outcome.holder is None  # …but not our licence
    assert record.uses.count() == before
    page = public_client.post(reverse("licences_portal:verify"), {"kind": "vc", "text": other})
    shown = page.content.decode()
    masked = licences.masked_holder(record)
    assert masked["code"] not in shown and masked["name"] not in shown  # the stored holder
    assert "持证主体信息已部分隐藏" not in shown
    assert record.uses.count() == before
    # The licence's own VC, re-serialised (key order, spacing), is still that licence.
    own = json.dumps(json.loads(record.vc), indent=2, sort_keys=True, ensure_ascii=False)
    genuine = licences.verify_presented(kind="vc", payload=own)
    assert genuine.valid and genuine.licence == record and genuine.holder is not None
    assert record.uses.count() == before + 1


def test_another_keys_qr_naming_our_identifier_shows_and_records_nothing(record: Any) -> None:
    # the key first: it may be made now, and a QR's iat before the key's validity (a second
    # boundary passed in between) would fail the key check, not the one this test is about
    key = integration.signing_key("mzj", integration.COSE_PURPOSE,
                                  integration.COSE_ALGORITHM)
    claims = {"iss": integration.issuer_id("mzj"), "iat": int(time.time()),
              "licence": {"id": record.identifier, "no": record.number,
                          "type": record.type.code, "holder": "李四", "status": []}}
    integration.forget_trust_bundle()
    text = integration.encode_qr(claims, key)
    before = record.uses.count()
    outcome = licences.verify_presented(kind="qr", payload=text)
    assert outcome.signed and outcome.summary.get("identifier") == record.identifier
    assert outcome.licence is None and outcome.holder is None
    assert record.uses.count() == before
    genuine = licences.verify_presented(kind="qr", payload=record.qr)
    assert genuine.valid and genuine.licence == record
    assert record.uses.count() == before + 1


# --- A-M1: lists follow the department's active key -----------------------------------------

def test_after_the_key_is_revoked_lists_are_signed_by_the_new_key(record: Any, citizen: Any,
                                                                   police: Any) -> None:
    old_method = _list_method(record.revocation_list)
    _list_method(record.suspension_list)
    key = crypto.active_signing_key("gaj", integration.VC_PURPOSE)
    crypto.revoke_signing_key(key.id, reason="key_compromise")
    integration.forget_trust_bundle()
    second = licences.issue_licence("no_criminal_record", holder=citizen,
                                    fields=RECORD_FIELDS, department_code="gaj", actor=police)
    integration.forget_trust_bundle()
    new_method = json.loads(second.vc)["proof"]["verificationMethod"]
    assert new_method != old_method
    assert _list_method(record.revocation_list) == new_method
    outcome = licences.verify_licence(second)
    assert outcome.valid, outcome.checks
    assert all(c["ok"] for c in _status_checks(outcome))


def test_after_the_key_is_rotated_the_hourly_task_signs_the_lists_again(record: Any,
                                                                        settings: Any) -> None:
    settings.YIWANG_LICENCES_STATUS_LIST_VALID_HOURS = 24
    old_method = _list_method(record.revocation_list)
    _list_method(record.suspension_list)
    assert statuslists.resign_status_lists() == 0  # fresh and by the active key
    new = crypto.rotate_signing_key("gaj", integration.VC_PURPOSE)
    integration.forget_trust_bundle()
    from yiwang.support.trust import service as trust

    trust.certify_key(new.id, department_code="gaj", usage="licence")
    integration.forget_trust_bundle()
    assert statuslists.resign_status_lists() == 2
    stored = StatusList.objects.get(pk=record.revocation_list.pk)
    method = json.loads(stored.credential)["proof"]["verificationMethod"]
    assert method != old_method and method == integration.verification_method(new)
    assert all(c["ok"] for c in _status_checks(licences.verify_licence(record)))


# --- A-M3 (server side): a list signed without validUntil is signed again --------------------

def _strip_valid_until(status_list: StatusList) -> None:
    stored = StatusList.objects.get(pk=status_list.pk)
    document = json.loads(stored.credential)
    document.pop("validUntil")
    StatusList.objects.filter(pk=stored.pk).update(credential=json.dumps(document))


def test_a_list_without_valid_until_is_signed_again_when_served(record: Any) -> None:
    slist = record.revocation_list
    licences.status_list_document(slist.list_id)
    _strip_valid_until(slist)
    assert "validUntil" not in json.loads(StatusList.objects.get(pk=slist.pk).credential)
    served = licences.status_list_document(slist.list_id)
    assert served is not None and served.get("validUntil")
    assert "validUntil" in json.loads(StatusList.objects.get(pk=slist.pk).credential)


def test_the_hourly_task_signs_a_list_without_valid_until(record: Any) -> None:
    licences.status_list_document(record.revocation_list.list_id)
    licences.status_list_document(record.suspension_list.list_id)
    _strip_valid_until(record.revocation_list)
    assert statuslists.resign_status_lists() == 1
    stored = StatusList.objects.get(pk=record.revocation_list.pk)
    assert json.loads(stored.credential).get("validUntil")


# --- A-L3: VC and PDF downloads need a real-name session -------------------------------------

@pytest.mark.parametrize("name", ["licences_portal:vc", "licences_portal:pdf"])
def test_downloads_with_the_full_id_number_need_a_real_name_session(
        public_client: Any, citizen: Any, record: Any, name: str) -> None:
    session = sign_in_client(public_client, citizen, amr=("sms",))
    sessions = type(session).objects.filter(pk=session.pk)
    sessions.update(acr=1)
    url = reverse(name, args=[record.pk])
    response = public_client.get(url)
    assert response.status_code == 302
    location = response["Location"]
    assert "/account/step-up/" in location and "level=2" in location
    assert "next=" + url.replace("/", "%2F") in location  # comes back to the download
    assert not record.uses.filter(kind="download").exists()
    sessions.update(acr=2)
    response = public_client.get(url)
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert record.uses.filter(kind="download").count() == 1


def test_after_the_certificate_is_revoked_for_compromise_lists_use_a_new_key(
        record: Any, citizen: Any, police: Any) -> None:
    from yiwang.support.trust import service as trust

    old_method = _list_method(record.revocation_list)
    key = crypto.active_signing_key("gaj", integration.VC_PURPOSE)
    [cert] = [c for c in trust.list_certificates(owner="gaj")
              if c.key_id == key.id and c.status == "valid"]
    trust.revoke_certificate(cert.serial, reason="key_compromise")
    integration.forget_trust_bundle()
    second = licences.issue_licence("no_criminal_record", holder=citizen,
                                    fields=RECORD_FIELDS, department_code="gaj", actor=police)
    integration.forget_trust_bundle()
    assert _list_method(record.revocation_list) != old_method
    outcome = licences.verify_licence(second)
    assert outcome.valid, outcome.checks


def test_a_key_past_its_validity_is_replaced_and_the_lists_follow(record: Any) -> None:
    from django.apps import apps
    from django.utils import timezone

    managed_keys = apps.get_model("crypto", "ManagedKey")  # the vault has no "expire now"
    old_method = _list_method(record.revocation_list)
    key = crypto.active_signing_key("gaj", integration.VC_PURPOSE)
    managed_keys.objects.filter(pk=key.id).update(not_after=timezone.now())
    integration.forget_trust_bundle()
    new_method = _list_method(record.revocation_list)  # served: signed by a new key
    current = crypto.active_signing_key("gaj", integration.VC_PURPOSE)
    assert current.id != key.id and current.can_sign()
    assert new_method != old_method and new_method == integration.verification_method(current)
    integration.forget_trust_bundle()
    assert all(c["ok"] for c in _status_checks(licences.verify_licence(record)))
