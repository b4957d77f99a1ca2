"""The holder's wallet: who sees what, downloads, reveals, shares and the record of uses."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from yiwang.support.identity.testing import sign_in_client
from yiwang.support.licences import service as licences
from yiwang.support.licences.tests.conftest import BUSINESS_FIELDS, RECORD_FIELDS

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(citizen: Any, police: Any) -> licences.Licence:
    return licences.issue_licence("no_criminal_record", holder=citizen, fields=RECORD_FIELDS,
                                  department_code="gaj", actor=police)


@pytest.fixture
def business(enterprise: Any, clerk: Any) -> licences.Licence:
    return licences.issue_licence("business_licence", holder=enterprise.credit_code,
                                  fields=BUSINESS_FIELDS, department_code="scjg", actor=clerk)


def test_anonymous_visitors_are_sent_to_sign_in(public_client: Any, record: Any) -> None:
    for url in (reverse("licences_portal:wallet"),
                reverse("licences_portal:detail", args=[record.pk]),
                reverse("licences_portal:pdf", args=[record.pk])):
        response = public_client.get(url)
        assert response.status_code == 302 and "/account/" in response["Location"]


def test_the_holder_sees_their_licence_masked(public_client: Any, citizen: Any,
                                              record: Any) -> None:
    sign_in_client(public_client, citizen)
    page = public_client.get(reverse("licences_portal:wallet")).content.decode()
    assert record.number in page and citizen.id_number not in page
    detail = public_client.get(reverse("licences_portal:detail", args=[record.pk]))
    assert detail.status_code == 200
    assert citizen.id_number not in detail.content.decode()


def test_another_citizen_cannot_see_it(public_client: Any, other_citizen: Any,
                                       record: Any) -> None:
    sign_in_client(public_client, other_citizen)
    assert record.number not in public_client.get(
        reverse("licences_portal:wallet")).content.decode()
    for name in ("detail", "pdf", "vc", "qr"):
        assert public_client.get(reverse(f"licences_portal:{name}",
                                         args=[record.pk])).status_code == 404


def test_reveal_shows_the_full_values_and_is_recorded(public_client: Any, citizen: Any,
                                                      record: Any) -> None:
    sign_in_client(public_client, citizen)
    response = public_client.post(reverse("licences_portal:detail", args=[record.pk]))
    assert citizen.id_number in response.content.decode()
    assert record.uses.filter(kind="reveal").count() == 1


def test_downloads_are_recorded(public_client: Any, citizen: Any, record: Any) -> None:
    sign_in_client(public_client, citizen)
    pdf = public_client.get(reverse("licences_portal:pdf", args=[record.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    vc = public_client.get(reverse("licences_portal:vc", args=[record.pk]))
    assert vc.json()["proof"]["type"] == "DataIntegrityProof"
    svg = public_client.get(reverse("licences_portal:qr", args=[record.pk]))
    assert svg.content.startswith(b"<svg")
    assert sorted(u.detail["format"] for u in record.uses.filter(kind="download")) == [
        "pdf", "qr", "vc"]


def test_enterprise_licences_for_representative_and_agent_only(
        public_client: Any, citizen: Any, other_citizen: Any, business: Any, city: Any) -> None:
    from yiwang.support.licences.tests.conftest import make_citizen

    for user, visible in ((citizen, True), (other_citizen, True),
                          (make_citizen("stranger"), False)):
        public_client.logout()
        sign_in_client(public_client, user)
        status = public_client.get(reverse("licences_portal:detail",
                                           args=[business.pk])).status_code
        assert (status == 200) is visible, user.username


def test_share_link_shows_the_result_and_only_disclosed_fields(
        public_client: Any, citizen: Any, record: Any, client: Any) -> None:
    sign_in_client(public_client, citizen)
    response = public_client.post(reverse("licences_portal:share", args=[record.pk]),
                                  {"hours": "24", "disclosed": ["name", "purpose"]})
    assert response.status_code == 200
    link = re.search(r'value="(http[^"]+/s/[^"]+/)"', response.content.decode()).group(1)
    path = urlsplit(link).path
    public_client.logout()
    shown = public_client.get(path)
    text = shown.content.decode()
    assert shown.status_code == 200 and "李小明" in text and "入职" in text
    assert citizen.id_number not in text and "经查询" not in text
    assert record.uses.filter(kind="verify_link").count() == 1
    share = record.shares.get()
    sign_in_client(public_client, citizen)
    public_client.post(reverse("licences_portal:share_revoke", args=[record.pk, share.pk]))
    public_client.logout()
    assert public_client.get(path).status_code == 404


def test_share_hours_are_bounded(citizen: Any, record: Any) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        licences.create_share(record, actor=citizen, hours=24 * 365)
