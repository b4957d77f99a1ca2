"""No unsealed licences (review L1): without a 证照专用章 and a standing authorisation the
department cannot issue, and says what to set up; the QR carries the holder's ID number
masked, and the verification page shows the masked form."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.urls import reverse as _reverse
from django.utils import timezone

from yiwang.support.identity.testing import sign_in_client
from yiwang.support.licences import service as licences
from yiwang.support.licences.tests.conftest import BUSINESS_FIELDS, RECORD_FIELDS, make_official
from yiwang.support.seals import service as seals
from yiwang.verify import qr

pytestmark = pytest.mark.django_db


@pytest.fixture
def unsealed_police(city: Any) -> Any:
    return make_official("gaj.noseal", "gaj", seal=False)


def test_issuance_without_a_licence_seal_is_refused_with_what_to_do(
        citizen: Any, unsealed_police: Any) -> None:
    with pytest.raises(ValidationError) as excinfo:
        licences.issue_licence("no_criminal_record", holder=citizen, fields=RECORD_FIELDS,
                               department_code="gaj", actor=unsealed_police)
    message = " ".join(excinfo.value.messages)
    assert "证照专用章" in message and "长期授权" in message and "公安局" in message
    assert excinfo.value.error_list[0].code == "seal"
    assert not licences.Licence.objects.exists()
    assert not licences.may_seal("gaj", "no_criminal_record")


def test_a_withdrawn_authorisation_stops_issuance(citizen: Any, police: Any) -> None:
    assert licences.may_seal("gaj", "no_criminal_record")
    authorisation = seals.licence_seal_for("gaj", "no_criminal_record")[1]
    type(authorisation).objects.filter(pk=authorisation.pk).update(
        withdrawn_at=timezone.now())
    with pytest.raises(ValidationError, match="证照专用章"):
        licences.issue_licence("no_criminal_record", holder=citizen, fields=RECORD_FIELDS,
                               department_code="gaj", actor=police)


def test_the_workbench_issue_page_says_what_to_set_up(internal_client: Any,
                                                      unsealed_police: Any) -> None:
    sign_in_client(internal_client, unsealed_police)
    url = _reverse("workbench:licence_issue", urlconf="yiwang.urls.internal")
    page = internal_client.get(url, {"type": "no_criminal_record"}).content.decode()
    assert "本部门还不能签发这类证照" in page and "证照专用章" in page
    assert 'name="issue"' not in page and 'name="lookup"' not in page


def test_the_qr_carries_the_id_number_masked(citizen: Any, police: Any) -> None:
    from yiwang.support.trust import service as trust

    licence = licences.issue_licence("no_criminal_record", holder=citizen,
                                     fields=RECORD_FIELDS, department_code="gaj", actor=police)
    assert licence.sealed
    decoded = qr.decode_and_verify(licence.qr, trust.resolve_key)
    assert decoded.valid, decoded.errors
    number = citizen.id_number
    assert number not in str(decoded.subject)
    assert decoded.subject["holderCode"] == number[:6] + "*" * 8 + number[-4:]


def test_an_enterprise_qr_keeps_its_public_credit_code(enterprise: Any, clerk: Any) -> None:
    from yiwang.support.trust import service as trust

    licence = licences.issue_licence("business_licence", holder=enterprise.credit_code,
                                     fields=BUSINESS_FIELDS, department_code="scjg",
                                     actor=clerk)
    decoded = qr.decode_and_verify(licence.qr, trust.resolve_key)
    assert decoded.subject["holderCode"] == enterprise.credit_code


def test_the_verify_page_shows_the_holder_masked(public_client: Any, citizen: Any,
                                                 police: Any) -> None:
    licence = licences.issue_licence("no_criminal_record", holder=citizen,
                                     fields=RECORD_FIELDS, department_code="gaj", actor=police)
    page = public_client.post(reverse("licences_portal:verify"),
                              {"kind": "qr", "text": licence.qr}).content.decode()
    number = citizen.id_number
    assert "核验通过" in page and licence.number in page
    assert number[:6] + "*" * 8 + number[-4:] in page and number not in page
    assert "李小明" not in page and "李**" in page
