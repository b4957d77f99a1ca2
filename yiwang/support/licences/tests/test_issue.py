"""Issuing licences: the three forms, the ledger entry, the schema checks, the rules."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from yiwang.core.audit import service as audit
from yiwang.support.licences import service as licences
from yiwang.support.licences.tests.conftest import BUSINESS_FIELDS, RECORD_FIELDS
from yiwang.support.trust import service as trust
from yiwang.verify import dataintegrity, qr

pytestmark = pytest.mark.django_db


def issue_record(holder: Any, actor: Any) -> licences.Licence:
    return licences.issue_licence("no_criminal_record", holder=holder, fields=RECORD_FIELDS,
                                  department_code="gaj", actor=actor)


def test_issued_licence_has_a_verifiable_vc_qr_and_pdf(citizen: Any, police: Any) -> None:
    licence = issue_record(citizen, police)
    assert licence.holder_name == "李小明" and licence.holder_code == citizen.id_number
    assert licence.fields["id_number"] == citizen.id_number
    assert licence.valid_until is not None  # one year
    vc = json.loads(licence.vc)
    assert vc["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert vc["credentialSubject"]["licence"]["identifier"] == licence.identifier
    assert {e["statusPurpose"] for e in vc["credentialStatus"]} == {"revocation", "suspension"}
    checked = dataintegrity.verify_proof(vc, trust.resolve_key)
    assert checked.valid, checked.errors
    decoded = qr.decode_and_verify(licence.qr, trust.resolve_key)
    assert decoded.valid, decoded.errors
    assert decoded.summary["identifier"] == licence.identifier
    pdf = licences.pdf_bytes(licence)
    assert pdf.startswith(b"%PDF-") and b"WenQuanYiZenHei" in pdf


def test_a_tampered_vc_fails_its_proof(citizen: Any, police: Any) -> None:
    vc = json.loads(issue_record(citizen, police).vc)
    vc["credentialSubject"]["holderName"] = "王五"
    assert not dataintegrity.verify_proof(vc, trust.resolve_key).valid


def test_issuance_is_on_the_ledger_without_personal_data(citizen: Any, police: Any) -> None:
    licence = issue_record(citizen, police)
    assert licence.ledger_index is not None
    from yiwang.enablement.ledger import service as ledger

    entry = ledger.find_entry("main", record_hash=licence.ledger_record_hash)
    assert entry is not None and entry.entry_type == "licence.issued"
    (event,) = audit.search(audit.AuditFilter(action="licence.issued"))
    assert citizen.id_number not in json.dumps(event.detail)


def test_fields_are_encrypted_at_rest(citizen: Any, police: Any) -> None:
    from django.db import connection

    licence = issue_record(citizen, police)
    with connection.cursor() as cursor:
        cursor.execute("SELECT data, holder_code, vc FROM licences_licence WHERE id = %s",
                       [licence.pk])
        row = cursor.fetchone()
    assert all(citizen.id_number not in str(column) for column in row)


def test_only_an_issuing_department_may_issue(citizen: Any, clerk: Any) -> None:
    with pytest.raises(ValidationError, match="无权签发"):
        licences.issue_licence("no_criminal_record", holder=citizen, fields=RECORD_FIELDS,
                               department_code="scjg", actor=clerk)


def test_fields_are_checked_against_the_schema(citizen: Any, police: Any) -> None:
    with pytest.raises(ValidationError) as excinfo:
        licences.issue_licence("no_criminal_record", holder=citizen,
                               fields={**RECORD_FIELDS, "purpose": "", "colour": "red"},
                               department_code="gaj", actor=police)
    problems = excinfo.value.message_dict
    assert "purpose" in problems and "没有这些字段" in " ".join(problems["__all__"])


def test_a_holder_id_number_that_does_not_match_is_refused(citizen: Any, other_citizen: Any,
                                                          police: Any) -> None:
    with pytest.raises(ValidationError, match="不一致"):
        licences.issue_licence("no_criminal_record", holder=citizen,
                               fields={**RECORD_FIELDS, "id_number": other_citizen.id_number},
                               department_code="gaj", actor=police)


def test_a_bad_id_number_in_a_field_names_the_field(citizen: Any, city: Any) -> None:
    from yiwang.support.licences.tests.conftest import make_official

    doctor = make_official("wjw.clerk", "wjw")
    with pytest.raises(ValidationError) as excinfo:
        licences.issue_licence("birth_certificate", holder=citizen, fields={
            "sex": "男", "born_on": "2026-01-02", "birthplace": "示例市", "hospital": "示例市医院",
            "mother_name": "某某", "mother_id_number": "339901199001011235"},
            department_code="wjw", actor=doctor)
    assert "mother_id_number" in excinfo.value.message_dict


def test_enterprise_licence_by_credit_code(enterprise: Any, clerk: Any) -> None:
    licence = licences.issue_licence("business_licence", holder=enterprise.credit_code,
                                     fields=BUSINESS_FIELDS, department_code="scjg",
                                     actor=clerk)
    assert licence.credit_code == enterprise.credit_code
    assert licence.fields["name"] == "示例市湖畔科技有限公司"
    assert licence.valid_until is None


def test_identifiers_are_unique_and_serials_grow(citizen: Any, police: Any) -> None:
    first, second = issue_record(citizen, police), issue_record(citizen, police)
    assert first.identifier != second.identifier
    assert first.revocation_index != second.revocation_index


def test_issuers_follow_the_type_on_the_trust_list(citizen: Any, police: Any) -> None:
    ltype = licences.get_type("no_criminal_record")
    licences.set_issuing_departments(ltype, ["gaj", "rsj"], actor=police)
    key = licences.issue_licence("no_criminal_record", holder=citizen, fields=RECORD_FIELDS,
                                 department_code="gaj", actor=police)
    vm = json.loads(key.vc)["proof"]["verificationMethod"]
    assert "no_criminal_record" in trust.resolve_key(vm).licence_types
    licences.set_issuing_departments(ltype, ["rsj"], actor=police)
    assert "no_criminal_record" not in trust.resolve_key(vm).licence_types
    with pytest.raises(ValidationError, match="无权签发"):
        issue_record(citizen, police)
    with pytest.raises(ValidationError, match="不存在"):
        licences.set_issuing_departments(ltype, ["nope"], actor=police)


def test_pdf_face_lists_the_fields_in_the_layout_order(citizen: Any, police: Any) -> None:
    licence = issue_record(citizen, police)
    rows = licences.face_of(licence)
    assert [r.key for r in rows] == licence.type.layout["rows"]
    masked = {r.key: r.value for r in rows}
    assert masked["id_number"] != citizen.id_number and masked["name"] == "李**"


def test_a_qr_that_would_not_fit_is_refused_with_a_message(citizen: Any, police: Any,
                                                          monkeypatch: Any) -> None:
    from yiwang.support.licences import integration

    def too_long(claims: Any, key: Any) -> str:
        raise ValueError("QR text of 2000 characters exceeds 1451")

    monkeypatch.setattr(integration, "encode_qr", too_long)
    with pytest.raises(ValidationError, match="二维码"):
        issue_record(citizen, police)
    assert not licences.Licence.objects.exists()
