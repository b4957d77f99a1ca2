"""A guardian's wallet (我监护的未成年人的证照): a current guardian of a minor sees, opens,
downloads and shares the ward's licences, every use recorded with the guardian as actor and
purpose "guardian"; anyone else gets 404; an ended guardianship or a ward of 18 gives no
access. The API's wallet marks such licences ``held_as: "guardian"``."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from yiwang.core.audit.service import AuditEvent
from yiwang.core.identifiers.service import generate_id_number
from yiwang.platform.registry import service as registry
from yiwang.support.identity.testing import sign_in_client
from yiwang.support.licences import service as licences
from yiwang.support.licences.tests.conftest import RECORD_FIELDS

pytestmark = pytest.mark.django_db
BORN = date(2019, 6, 1)
ADULT = date(2037, 6, 1)


@pytest.fixture
def ward(city: Any) -> registry.Person:
    number = generate_id_number("339901", BORN, "female", sequence=2)
    return registry.register_person(registry.PersonRow(name="李小安", id_number=number))


@pytest.fixture
def guardianship(citizen: Any, ward: registry.Person) -> registry.Guardianship:
    made, _created = registry.record_guardianship(citizen.id_number, ward, basis="出生登记",
                                                  reference="YW-TEST-1", starts_on=BORN)
    return made


@pytest.fixture
def ward_licence(ward: registry.Person, police: Any) -> licences.Licence:
    return licences.issue_licence("no_criminal_record", holder=ward.id_number,
                                  fields=RECORD_FIELDS, department_code="gaj", actor=police)


def _urls(pk: int) -> list[str]:
    return [reverse("licences_portal:detail", args=[pk]),
            reverse("licences_portal:pdf", args=[pk]),
            reverse("licences_portal:qr", args=[pk])]


def test_the_guardian_sees_the_wards_licences_masked(public_client: Any, citizen: Any,
                                                     guardianship: Any,
                                                     ward_licence: Any) -> None:
    sign_in_client(public_client, citizen)
    page = public_client.get(reverse("licences_portal:wallet")).content.decode()
    assert "我监护的未成年人的证照" in page
    assert ward_licence.number in page
    assert "李小安" not in page and ward_licence.holder_code not in page  # masked
    detail = public_client.get(reverse("licences_portal:detail", args=[ward_licence.pk]))
    assert detail.status_code == 200 and "您以监护人身份查看" in detail.content.decode()
    opened = AuditEvent.objects.get(action="licence.opened", object_id=str(ward_licence.pk))
    assert opened.actor_id == str(citizen.pk) and opened.detail["purpose"] == "guardian"
    listed = AuditEvent.objects.filter(action="licence.wards_listed").get()
    assert listed.actor_id == str(citizen.pk) and listed.detail["wards"] == 1
    # The guardian's own wallet list (and 免提交 in applications) stays their own.
    assert not licences.licences_of(citizen).filter(pk=ward_licence.pk).exists()


def test_downloads_reveals_and_shares_are_recorded_as_the_guardians(
        public_client: Any, citizen: Any, guardianship: Any, ward_licence: Any) -> None:
    sign_in_client(public_client, citizen)
    pdf = public_client.get(reverse("licences_portal:pdf", args=[ward_licence.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert public_client.get(reverse("licences_portal:qr", args=[ward_licence.pk])
                             ).status_code == 200
    revealed = public_client.post(reverse("licences_portal:detail", args=[ward_licence.pk]))
    assert revealed.status_code == 200
    shared = public_client.post(reverse("licences_portal:share", args=[ward_licence.pk]),
                                {"hours": 24, "disclosed": ["purpose"]})
    assert shared.status_code == 200
    uses = list(licences.uses_of(ward_licence))
    assert {u.kind for u in uses} == {"download", "reveal", "share"} and len(uses) == 4
    for use in uses:
        assert use.actor == citizen and use.detail["purpose"] == "guardian"
    events = AuditEvent.objects.filter(action="licence.used", object_id=str(ward_licence.pk))
    assert events.count() == 4
    assert {(e.actor_id, e.detail["purpose"]) for e in events} == {(str(citizen.pk),
                                                                    "guardian")}
    read = AuditEvent.objects.get(action="personal_data.read", object_id=str(ward_licence.pk))
    assert read.actor_id == str(citizen.pk) and read.detail["purpose"] == "guardian"
    # The 用证记录 shows it.
    page = public_client.get(reverse("licences_portal:detail", args=[ward_licence.pk]))
    assert "监护人使用" in page.content.decode()


def test_another_citizen_gets_404(public_client: Any, other_citizen: Any, guardianship: Any,
                                  ward_licence: Any) -> None:
    sign_in_client(public_client, other_citizen)
    for url in _urls(ward_licence.pk):
        assert public_client.get(url).status_code == 404
    assert public_client.post(reverse("licences_portal:share", args=[ward_licence.pk]),
                              {"hours": 24}).status_code == 404
    assert ward_licence.number not in public_client.get(
        reverse("licences_portal:wallet")).content.decode()
    assert licences.licence_for(other_citizen, ward_licence.pk) is None
    with pytest.raises(PermissionDenied):
        licences.create_share(ward_licence, actor=other_citizen, hours=1)
    with pytest.raises(PermissionDenied):
        licences.reveal_licence(ward_licence, actor=other_citizen)
    assert not licences.uses_of(ward_licence).exists()


def test_no_access_from_the_wards_18th_birthday(citizen: Any, guardianship: Any,
                                                ward_licence: Any) -> None:
    day_before = ADULT - timedelta(days=1)
    assert [w.licences for w in licences.ward_wallets(citizen, on=day_before)] == [
        [ward_licence]]
    assert licences.held_as(citizen, ward_licence, on=day_before) == "guardian"
    assert licences.ward_wallets(citizen, on=ADULT) == []
    assert licences.held_as(citizen, ward_licence, on=ADULT) is None
    assert licences.licence_for(citizen, ward_licence.pk, on=ADULT) is None
    with pytest.raises(PermissionDenied):
        licences.create_share(ward_licence, actor=citizen, hours=1, on=ADULT)
    with pytest.raises(PermissionDenied):
        licences.reveal_licence(ward_licence, actor=citizen, on=ADULT)


def test_an_ended_guardianship_gives_no_access(public_client: Any, citizen: Any, ward: Any,
                                               guardianship: Any, ward_licence: Any) -> None:
    registry.end_guardianship(citizen.id_number, ward, reason="法院判决变更监护人",
                              on=timezone.localdate())
    sign_in_client(public_client, citizen)
    for url in _urls(ward_licence.pk):
        assert public_client.get(url).status_code == 404
    assert "我监护的未成年人的证照" not in public_client.get(
        reverse("licences_portal:wallet")).content.decode()


def test_the_api_wallet_marks_the_wards_licences(public_client: Any, citizen: Any,
                                                 other_citizen: Any, guardianship: Any,
                                                 ward_licence: Any, police: Any) -> None:
    own = licences.issue_licence("no_criminal_record", holder=citizen, fields=RECORD_FIELDS,
                                 department_code="gaj", actor=police)
    assert public_client.get("/api/v1/licences/wallet").status_code == 401
    sign_in_client(public_client, citizen)
    items = public_client.get("/api/v1/licences/wallet").json()
    held = {item["id"]: item for item in items}
    assert held[own.pk]["held_as"] == "self" and held[own.pk]["ward"] is None
    assert held[ward_licence.pk]["held_as"] == "guardian"
    assert held[ward_licence.pk]["ward"]["id_number"] != ward_licence.holder_code
    assert "*" in held[ward_licence.pk]["holder_code"]
    public_client.logout()
    sign_in_client(public_client, other_citizen)
    assert public_client.get("/api/v1/licences/wallet").json() == []
