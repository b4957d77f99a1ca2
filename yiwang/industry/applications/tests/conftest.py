"""Fixtures of the applications tests: the demo city's departments, citizens in the registry,
officials, an enterprise with an agent, and a published matter (无犯罪记录证明, issued by the
police) built with the catalogue's facade: a form with a condition and an ID-card material, a
two-step approval flow and a licence mapping."""

from __future__ import annotations

import itertools
import random
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from yiwang.core.crypto.service import blind_index
from yiwang.core.identifiers.service import generate_credit_code, generate_synthetic_id_number
from yiwang.industry.applications.testing import grant_handling
from yiwang.industry.services import service as catalogue
from yiwang.platform.orgs import service as orgs
from yiwang.platform.regions import testing as regions_testing
from yiwang.platform.registry import service as registry
from yiwang.support.identity import service as identity

_rng = random.Random(20261127)
_seq = itertools.count(1)
DEPARTMENTS = {"gaj": "公安局", "scjg": "市场监管局", "rsj": "人社局"}
MATTER = "339900-gaj-0001"
LEGAL_MATTER = "339900-gaj-0005"  # the same form for legal persons, issuing nothing

FORM: dict[str, Any] = {"version": 1, "components": [
    {"type": "text", "key": "name", "label": "姓名", "label_en": "Name", "required": True,
     "prefill": "profile.name"},
    {"type": "id_number", "key": "id_number", "label": "公民身份号码",
     "label_en": "ID number", "required": True, "prefill": "profile.id_number"},
    {"type": "choice", "key": "purpose", "label": "用途", "label_en": "Purpose",
     "required": True, "options": [
         {"value": "job", "label": "入职", "label_en": "Employment"},
         {"value": "other", "label": "其他", "label_en": "Other"}]},
    {"type": "text", "key": "purpose_other", "label": "其他用途", "label_en": "Other purpose",
     "required": True, "conditional": {"==": [{"var": "purpose"}, "other"]}},
    {"type": "file", "key": "id_card", "label": "身份证正面", "label_en": "ID card (front)",
     "required": True, "material": "id_card", "accept": ["image/png", "image/jpeg"]},
]}
FLOW: dict[str, Any] = {"version": 1, "steps": [
    {"kind": "task", "id": "review", "name": "受理审查", "department": "$matter",
     "position": None, "days": 2},
    {"kind": "task", "id": "decide", "name": "审批决定", "department": "$matter",
     "position": None, "days": 3},
]}
LICENCE = {"type": "no_criminal_record", "map": {
    "purpose": {"if": [{"==": [{"var": "purpose"}, "job"]}, "入职",
                       {"var": "purpose_other"}]},
    "period": {"cat": ["近五年"]},
    "statement": {"cat": ["经查询,未发现有犯罪记录。"]},
}}


def new_id_number() -> str:
    return generate_synthetic_id_number(_rng, "339901")


def make_citizen(username: str, name: str) -> Any:
    user = get_user_model().objects.create_user(username=username, password="x" * 20)
    number = new_id_number()
    user.account_type = "citizen"
    user.display_name = name
    user.real_name = name
    user.id_number = number
    user.id_number_index = blind_index(number, "identity.id_number")
    user.level = 2
    user.verified_at = timezone.now()
    user.verified_by = "registry"
    registry.register_person(registry.PersonRow(name=name, id_number=number,
                                                region_code=regions_testing.COMMUNITY))
    user.save()
    return user


def make_official(username: str, department: str, *, position: str | None = None) -> Any:
    user = identity.create_official(username, f"官员{next(_seq)}", password="y" * 20)
    orgs.add_member(user, department_code=department, position_code=position)
    grant_handling(user)
    return get_user_model().objects.get(pk=user.pk)


def give_licence_seal(department: str, custodian: Any) -> None:
    from yiwang.support.seals import service as seals

    if seals.licence_seal_for(department) is not None:
        return
    seal = seals.create_seal(department_code=department, name="证照专用章", kind="licence",
                             custodians=[custodian], actor=custodian)
    seals.grant_standing_authorisation(seal, custodian=custodian, purpose="licence:*",
                                       standing_until=timezone.now() + timedelta(days=30))


@pytest.fixture(autouse=True)
def _fresh(settings: Any) -> None:
    from django.core.cache import cache

    from yiwang.industry.applications import integration

    cache.clear()
    integration.forget_versions()
    settings.YIWANG_LICENCES_SEAL_LEVEL = "B-B"
    settings.YIWANG_LICENCES_TRUST_CACHE_SECONDS = 0


@pytest.fixture
def city(db: Any) -> Any:
    chain = regions_testing.make_chain(geometry=False)
    for code, name in DEPARTMENTS.items():
        orgs.create_department(code, name, region_code=regions_testing.CITY,
                               credit_code=generate_credit_code("339900", rng=_rng))
    from yiwang.support.licences import service as licences

    licences.load_catalogue()  # a transactional test starts from tables without them
    licences.authorise_issuers()
    return chain


def publish_matter(code: str = MATTER, *, form: dict[str, Any] | None = None,
                   flow: dict[str, Any] | None = None, licence: dict[str, Any] | None = None,
                   department: str = "gaj", promised_days: int = 5,
                   audience: str = "person") -> Any:
    matter = catalogue.get_matter(code) or catalogue.create_matter(
        code=code, name="无犯罪记录证明", department_code=department, audience=audience,
        promised_days=promised_days, statutory_days=20,
        materials=[{"code": "id_card", "name": "身份证", "required": True,
                    "licence_types": [], "form_key": "id_card"}])
    draft = catalogue.create_draft(matter)
    catalogue.save_draft(draft, form=form or FORM, flow_spec=flow or FLOW,
                         licence=LICENCE if licence is None else licence)
    catalogue.publish_version(draft)
    return catalogue.published_version(code)


@pytest.fixture
def version(city: Any) -> Any:
    return publish_matter()


@pytest.fixture
def legal_version(version: Any) -> Any:
    """A matter enterprises file (服务对象 法人), with the same form, issuing no licence."""
    return publish_matter(LEGAL_MATTER, licence={}, audience="legal")


@pytest.fixture
def citizen(city: Any) -> Any:
    return make_citizen("citizen1", "李小明")


@pytest.fixture
def other_citizen(city: Any) -> Any:
    return make_citizen("citizen2", "王小红")


@pytest.fixture
def officer(city: Any) -> Any:
    user = make_official("gaj.officer", "gaj")
    give_licence_seal("gaj", user)
    return user


@pytest.fixture
def officer2(city: Any) -> Any:
    return make_official("gaj.officer2", "gaj")


@pytest.fixture
def stranger_official(city: Any) -> Any:
    return make_official("scjg.officer", "scjg")


@pytest.fixture
def enterprise(citizen: Any, other_citizen: Any) -> Any:
    """An enterprise represented by ``citizen``, with ``other_citizen`` as an agent who may
    apply (办事申报)."""
    found = registry.register_enterprise(
        credit_code=generate_credit_code("339901", rng=_rng), name="示例市湖畔科技有限公司",
        kind="有限责任公司", legal_representative=registry.find_person(citizen.id_number),
        region_code=regions_testing.STREET)
    account = identity.register_enterprise_account(citizen, found.credit_code, actor=citizen)
    identity.grant_mandate(account, scopes=["apply", "query"],
                           agent_login=other_citizen.username,
                           expires_at=timezone.now() + timedelta(days=30), actor=citizen)
    return account


def id_card_png(user: Any) -> bytes:
    from yiwang.enablement.ai import testing as ai_testing

    return ai_testing.render_id_card({
        "name": user.real_name, "sex": "男", "ethnicity": "汉", "birth": "1990-03-07",
        "address": "示例市东城区东湖街道中山路1号", "id_number": user.id_number})


def form_data(user: Any, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"name": user.real_name, "id_number": user.id_number,
                            "purpose": "job"}
    data.update(extra)
    return data


def upload(user: Any, content: bytes, name: str = "id.png") -> str:
    from yiwang.core.uploads import service as uploads

    stored = uploads.accept_upload(content, filename=name, owner_key=f"user:{user.pk}",
                                   purpose="application.material")
    return stored.token


def submitted(user: Any, *, image: bytes | None = None, **extra: Any) -> Any:
    """A submitted application of ``user`` with an uploaded ID card."""
    from yiwang.industry.applications import service as applications

    app = applications.save_draft(user, MATTER, form_data(user, **extra))
    token = upload(user, image if image is not None else plain_png())
    applications.attach_upload(user, app, "id_card", token)
    app.refresh_from_db()
    return applications.submit_application(user, app)


def plain_png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 210, 220)).save(buffer, format="PNG")
    return buffer.getvalue()
