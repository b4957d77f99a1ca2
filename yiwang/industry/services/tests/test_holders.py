"""Licences issued to someone other than the applicant (the ``holder`` part of a version's
licence mapping): a new 个体工商户 with a newly allocated credit code, a newborn with a newly
allocated ID number — checked when a version is saved, and end to end through the
applications service on the demo packs."""

from __future__ import annotations

import itertools
import random
from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from yiwang.core.crypto.service import blind_index
from yiwang.core.identifiers.service import (
    generate_synthetic_id_number,
    validate_credit_code,
    validate_id_number,
)
from yiwang.demo import services as demo
from yiwang.demo.testing import make_demo_departments
from yiwang.industry.applications import service as applications
from yiwang.industry.applications.testing import grant_handling
from yiwang.industry.services import service
from yiwang.industry.services.tests.conftest import FORM, live_version
from yiwang.platform.orgs import service as orgs
from yiwang.platform.regions import testing as regions_testing
from yiwang.platform.registry import service as registry
from yiwang.support.identity import service as identity
from yiwang.support.licences import service as licences

pytestmark = pytest.mark.django_db
_rng = random.Random(5)
_seq = itertools.count(1)
BUSINESS = "339900-SCJG-XK-001"
NEWBORN = {"kind": "newborn", "name": "child_name", "sex": "child_sex", "born_on": "born_on",
           "mother_id_number": "mother_id_number"}
BIRTH_FORM = {"version": 1, "components": [
    {"type": "text", "key": "child_name", "label": "姓名", "required": True},
    {"type": "choice", "key": "child_sex", "label": "性别", "required": True,
     "options": [{"value": "男", "label": "男"}, {"value": "女", "label": "女"}]},
    {"type": "date", "key": "born_on", "label": "出生日期", "required": True},
    {"type": "id_number", "key": "mother_id_number", "label": "母亲", "required": True},
]}


# --- checked when a version is saved ---------------------------------------------------------

def _save(matter: service.Matter, licence: dict[str, Any], form: dict | None = None) -> Any:
    return service.save_draft(service.create_draft(matter), form=form or FORM, licence=licence)


def _business_licence(holder: Any) -> dict[str, Any]:
    return {"type": "business_licence", "map": {
        "kind": {"cat": ["个体工商户"]}, "legal_representative": "shop_name",
        "established_on": "$today", "address": "address",
        "business_scope": {"cat": ["小吃"]}, "registered_capital": "capital"},
        "holder": holder}


def test_a_holder_mapping_is_checked_and_kept(matter: service.Matter) -> None:
    holder = {"kind": "new_individual_business", "name": "shop_name",
              "operator_name": {"cat": [{"var": "shop_name"}]},
              "operator_id_number": "shop_name", "capital": "capital"}
    version = _save(matter, _business_licence(holder))
    assert version.licence["holder"] == holder
    exported = service.export_definition(matter)
    assert exported["version"]["licence"]["holder"] == holder


@pytest.mark.parametrize(("holder", "expected"), [
    ({"kind": "twins"}, "未知的持证主体类型“twins”"),
    ("newborn", "持证主体映射必须是"),
    ({"kind": "new_individual_business", "name": "shop_name"}, "必须映射“operator_name”"),
    ({"kind": "new_individual_business", "name": "shop_name", "operator_name": "nope",
      "operator_id_number": "shop_name"}, "表单中没有的字段“nope”"),
    ({"kind": "new_individual_business", "name": "shop_name", "operator_name": "shop_name",
      "operator_id_number": {"var": "missing"}}, "missing"),
    ({"kind": "new_individual_business", "name": "shop_name", "operator_name": "shop_name",
      "operator_id_number": "shop_name", "colour": "red"}, "没有“colour”这一项"),
    ({**NEWBORN, "name": "shop_name", "sex": "kind", "born_on": "capital",
      "mother_id_number": "address"}, "要求证照的持证主体为自然人"),
])
def test_a_wrong_holder_mapping_is_refused_with_a_message(matter: service.Matter, holder: Any,
                                                          expected: str) -> None:
    with pytest.raises(ValidationError) as caught:
        _save(matter, _business_licence(holder))
    assert any(expected in m for m in caught.value.message_dict["licence"])


def test_without_a_holder_mapping_the_licence_goes_to_the_applicant(matter: Any) -> None:
    version = live_version(matter, licence=_business_licence(None))
    assert "holder" not in version.licence
    assert service.licence_holder(version, {"shop_name": "x"}, application_number="YW-1") is None


# --- end to end through the applications service -------------------------------------------

def _citizen(username: str, name: str) -> Any:
    user = get_user_model().objects.create_user(username=username, password="x" * 20)
    number = generate_synthetic_id_number(_rng, "339901")
    user.account_type, user.display_name, user.real_name = "citizen", name, name
    user.id_number = number
    user.id_number_index = blind_index(number, "identity.id_number")
    user.level, user.verified_at, user.verified_by = 2, timezone.now(), "registry"
    user.save()
    registry.register_person(registry.PersonRow(name=name, id_number=number,
                                                region_code=regions_testing.COMMUNITY))
    return user


def _official(department: str, position: str) -> Any:
    from yiwang.support.seals import service as seals

    user = identity.create_official(f"{department}.{next(_seq)}", f"官员{next(_seq)}",
                                    password="y" * 20)
    orgs.add_member(user, department_code=department, position_code=position)
    grant_handling(user)
    if seals.licence_seal_for(department) is None:
        seal = seals.create_seal(department_code=department, name="证照专用章", kind="licence",
                                 custodians=[user], actor=user)
        seals.grant_standing_authorisation(seal, custodian=user, purpose="licence:*",
                                           standing_until=timezone.now() + timedelta(days=30))
    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture
def packs(db: Any, settings: Any) -> dict[str, Any]:
    """The demo catalogue in a small city, its issuing departments' officials with seals and
    a verified citizen in the registry."""
    settings.YIWANG_LICENCES_SEAL_LEVEL = "B-B"
    settings.YIWANG_LICENCES_TRUST_CACHE_SECONDS = 0
    make_demo_departments(credit_codes=_rng)
    licences.authorise_issuers()
    demo.load_services(lambda label, total: (lambda n: None))
    return {"citizen": _citizen("mother", "陈静"),
            "scjg": _official("scjg", "reviewer"), "wjw": _official("wjw", "clerk"),
            "gaj": _official("gaj", "officer"), "rsj": _official("rsj", "reviewer")}


def _upload(user: Any) -> list[str]:
    import io

    from PIL import Image

    from yiwang.core.uploads import service as uploads

    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 210, 220)).save(buffer, format="PNG")
    stored = uploads.accept_upload(buffer.getvalue(), filename="m.png",
                                   owner_key=f"user:{user.pk}", purpose="application.material")
    return [stored.token]


def _approve_all(app: Any, officials: dict[str, Any]) -> Any:
    for _round in range(10):
        app.refresh_from_db()
        tasks = applications.open_tasks(app)
        if not tasks:
            return app
        task = tasks[0]
        official = officials[task.department_code]
        applications.claim_task(official, task.pk, app.row_version)
        app.refresh_from_db()
        app = applications.decide_task(official, task.pk, "approve", "同意", app.row_version)
    raise AssertionError("the flow did not finish")


def test_an_individual_business_is_registered_and_holds_its_licence(packs: Any) -> None:
    citizen = packs["citizen"]
    data = {"name": citizen.real_name, "id_number": citizen.id_number, "phone": "13900000001",
            "kind": "person", "shop_name": "陈记面馆", "capital": 5, "staff": 2,
            "premises": {"region": regions_testing.COMMUNITY, "detail": "湖滨路8号"},
            "business_scope": "餐饮服务", "id_card": _upload(citizen),
            "premises_proof": _upload(citizen)}
    app = applications.save_draft(citizen, BUSINESS, data)
    app = applications.submit_application(citizen, app)
    app = _approve_all(app, packs)
    assert app.state == "approved" and app.licence_identifier
    licence = licences.find_by_identifier(app.licence_identifier)
    code = validate_credit_code(licence.credit_code)
    assert (code.authority, code.org_type, code.region_code) == ("9", "2", "339901")
    enterprise = registry.find_enterprise(code.value)
    assert enterprise.name == "陈记面馆" and enterprise.kind == "个体工商户"
    assert enterprise.legal_representative == registry.find_person(citizen.id_number)
    assert enterprise.address == "湖滨路8号" and enterprise.registered_capital == 5
    assert "陈记面馆" in licence.fields.values()  # the holder's name, from the registry
    assert licences.verify_licence(licence).valid
    # The operator represents the new business: its licence is in their wallet.
    assert licences.licences_of(citizen).filter(pk=licence.pk).exists()
    assert licences.may_hold(citizen, licence)
    # A second decision run finds the same business.
    version = applications.matter_version(app)
    again = service.licence_holder(version, app.data, application_number=app.number)
    assert again == code.value
    assert registry.list_enterprises(q="陈记面馆").count() == 1


def test_the_newborn_holds_the_birth_certificate_and_the_card(packs: Any) -> None:
    mother = packs["citizen"]
    born = (timezone.localdate() - timedelta(days=3)).isoformat()  # as _birth_bundle's
    parent, issued = _birth_bundle(packs)
    members = list(parent.children.all())
    assert len(members) == 4
    assert {lic.type.code for lic in issued} == {"birth_certificate", "social_security_card"}
    child_number = validate_id_number(issued[0].holder_code)
    assert {lic.holder_code for lic in issued} == {child_number.value}
    assert child_number.value != mother.id_number
    assert child_number.region_code == "339901" and child_number.birth_date.isoformat() == born
    assert child_number.sex == "female"
    child = registry.find_person(child_number.value)
    assert child is not None and child.name == "陈小安"
    for lic in issued:
        assert licences.verify_licence(lic).valid
    # The licences are the child's, not the mother's own; she is the child's guardian.
    assert not licences.licences_of(mother).filter(pk__in=[lic.pk for lic in issued]).exists()
    wards = registry.wards_of(mother.id_number)
    assert [g.ward for g in wards] == [child]
    assert wards[0].kind == "parent" and wards[0].basis == "出生登记"
    assert wards[0].reference in {m.number for m in members}
    assert wards[0].starts_on.isoformat() == born
    # Deciding again (any member) finds the same child.
    card = next(m for m in parent.children.all() if m.matter_code == "339900-RSJ-GG-001")
    again = service.licence_holder(applications.matter_version(card), card.data,
                                   application_number=card.number)
    assert again == child_number.value
    assert registry.list_persons(q="陈小安").count() == 1


def test_the_card_goes_to_the_applicant_when_not_for_a_newborn(packs: Any) -> None:
    version = service.published_version("339900-RSJ-GG-001")
    assert service.licence_holder(version, {"card_holder_name": "陈静", "for_newborn": "no"},
                                  application_number="YW-1") is None
    assert service.licence_holder(version, {"card_holder_name": "陈静"},
                                  application_number="YW-1") is None


def test_a_newborn_mapping_on_a_custom_matter(packs: Any) -> None:
    matter = service.create_matter(
        code="TEST-WJW-1", name="出生医学证明", department_code="wjw", audience="person",
        kind="public_service", statutory_days=5, promised_days=1, summary="测试")
    version = live_version(matter, form=BIRTH_FORM, licence={
        "type": "birth_certificate",
        "map": {"sex": "child_sex", "born_on": "born_on", "birthplace": {"cat": ["示例市"]},
                "hospital": {"cat": ["医院"]}, "mother_name": {"cat": ["陈静"]},
                "mother_id_number": "mother_id_number"},
        "holder": NEWBORN})
    data = {"child_name": "陈小乐", "child_sex": "男", "born_on": "2026-01-02",
            "mother_id_number": packs["citizen"].id_number}
    number = service.licence_holder(version, data, application_number="YW-2")
    parsed = validate_id_number(number)
    # no household address mapped: the department's (the city's) code
    assert parsed.region_code == "339900" and parsed.sex == "male"
    with pytest.raises(ValidationError):
        service.licence_holder(version, {**data, "mother_id_number": "123"},
                               application_number="YW-3")


def test_a_pack_with_an_unknown_holder_kind_is_refused(packs: Any) -> None:
    pack = service.export_definition(service.get_matter(BUSINESS))
    pack["version"]["licence"]["holder"]["kind"] = "company"
    with pytest.raises(ValidationError) as caught:
        service.import_definition(pack)
    assert any("未知的持证主体类型“company”" in m
               for m in caught.value.message_dict["licence"])
    assert service.published_version(BUSINESS).licence["holder"]["kind"] == (
        "new_individual_business")


# --- guardianship: the parent's wallet shows the child's licences ------------------------------

def _birth_bundle(packs: Any, *, father: Any = None) -> tuple[Any, list[Any]]:
    mother = packs["citizen"]
    born = (timezone.localdate() - timedelta(days=3)).isoformat()
    data = {"child_name": "陈小安", "child_sex": "女", "born_on": born,
            "birthplace": "示例市", "hospital": "示例市妇幼保健院",
            "mother_name": mother.real_name, "mother_id_number": mother.id_number,
            "follow": "mother", "householder_name": mother.real_name,
            "household_address": {"region": regions_testing.COMMUNITY, "detail": "湖滨路8号"},
            "mailing": "window", "payer": "bank", "mother_id_card": _upload(mother),
            "household_book": _upload(mother), "photo": _upload(mother)}
    if father is not None:
        data.update(father_name=father.real_name, father_id_number=father.id_number)
    parent = applications.submit_bundle(mother, "birth", data)
    for member in parent.children.all():
        _approve_all(member, packs)
    parent.refresh_from_db()
    assert parent.state == "approved"
    return parent, [licences.find_by_identifier(m.licence_identifier)
                    for m in parent.children.all() if m.licence_identifier]


def test_the_parent_sees_and_uses_the_childs_licences(packs: Any, public_client: Any) -> None:
    from django.urls import reverse

    from yiwang.core.audit.service import AuditEvent
    from yiwang.support.identity.testing import sign_in_client

    mother, stranger = packs["citizen"], _citizen("stranger", "李四")
    _parent, issued = _birth_bundle(packs)
    assert {lic.type.code for lic in issued} == {"birth_certificate", "social_security_card"}
    sign_in_client(public_client, mother)
    page = public_client.get(reverse("licences_portal:wallet")).content.decode()
    assert "我监护的未成年人的证照" in page and "陈小安" not in page  # the ward masked
    for lic in issued:
        assert lic.number in page
        assert public_client.get(reverse("licences_portal:detail", args=[lic.pk])
                                 ).status_code == 200
        pdf = public_client.get(reverse("licences_portal:pdf", args=[lic.pk]))
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        use = licences.uses_of(lic).get()
        assert use.actor == mother and use.detail["purpose"] == "guardian"
        event = AuditEvent.objects.get(action="licence.used", object_id=str(lic.pk))
        assert event.actor_id == str(mother.pk) and event.detail["purpose"] == "guardian"
    # Another citizen: 404 on every one of them.
    public_client.logout()
    sign_in_client(public_client, stranger)
    for lic in issued:
        for name in ("detail", "pdf", "qr"):
            assert public_client.get(reverse(f"licences_portal:{name}", args=[lic.pk])
                                     ).status_code == 404
    # From the child's 18th birthday on, the mother no longer sees them.
    child = registry.find_person(issued[0].holder_code)
    adult = registry.adult_on(child)
    assert licences.ward_wallets(mother, on=adult - timedelta(days=1)) != []
    assert licences.ward_wallets(mother, on=adult) == []
    for lic in issued:
        assert licences.licence_for(mother, lic.pk, on=adult) is None


def test_the_other_parent_in_the_registry_is_a_guardian_too(packs: Any) -> None:
    father = _citizen("father", "王强")
    matter = service.create_matter(
        code="TEST-WJW-2", name="出生医学证明", department_code="wjw", audience="person",
        kind="public_service", statutory_days=5, promised_days=1, summary="测试")
    form = {**BIRTH_FORM, "components": [
        *BIRTH_FORM["components"],
        {"type": "id_number", "key": "father_id_number", "label": "父亲", "required": False}]}
    version = live_version(matter, form=form, licence={
        "type": "birth_certificate",
        "map": {"sex": "child_sex", "born_on": "born_on", "birthplace": {"cat": ["示例市"]},
                "hospital": {"cat": ["医院"]}, "mother_name": {"cat": ["陈静"]},
                "mother_id_number": "mother_id_number"},
        "holder": {**NEWBORN, "father_id_number": "father_id_number"}})
    data = {"child_name": "王小乐", "child_sex": "男", "born_on": "2026-01-02",
            "mother_id_number": packs["citizen"].id_number, "father_id_number": father.id_number}
    number = service.licence_holder(version, data, application_number="YW-9",
                                    applicant=father)
    for parent in (father, packs["citizen"]):
        (found,) = registry.wards_of(parent.id_number, on=date(2026, 11, 27))
        assert found.ward.id_number == number and found.kind == "parent"
        assert found.reference == "YW-9"
    # A grandmother who applies is recorded as 其他法定监护人; a parent not in the registry
    # is left out.
    grandmother = _citizen("grandmother", "陈奶奶")
    unknown = generate_synthetic_id_number(_rng, "339901")
    second = service.licence_holder(version, {**data, "child_name": "王小喜",
                                              "father_id_number": unknown},
                                    application_number="YW-10", applicant=grandmother)
    (found,) = registry.wards_of(grandmother.id_number, on=date(2026, 11, 27))
    assert found.ward.id_number == second and found.kind == "other"
    assert registry.Guardianship.objects.filter(ward=found.ward).count() == 2  # + mother
    # Deciding again records nothing new.
    service.licence_holder(version, data, application_number="YW-9", applicant=father)
    assert registry.Guardianship.objects.count() == 4
