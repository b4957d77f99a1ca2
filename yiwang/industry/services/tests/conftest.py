"""Fixtures of the services tests: the demo city's departments, the licence catalogue,
officials of two departments and a small valid form / flow to build versions with."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from yiwang.industry.services import service
from yiwang.platform.orgs import service as orgs
from yiwang.platform.regions import testing as regions_testing
from yiwang.support.identity import service as identity
from yiwang.support.licences import service as licences

_seq = itertools.count(1)
DEPARTMENTS = {"scjg": "市场监管局", "wjw": "卫健委", "bdc": "不动产登记中心",
               "rsj": "人社局", "gaj": "公安局", "zwfw": "政务服务中心"}
EDITOR_PERMS = ("services.change_matter", "services.publish_matter")

FORM = {"version": 1, "components": [
    {"type": "text", "key": "shop_name", "label": "名称", "required": True},
    {"type": "choice", "key": "kind", "label": "组成形式", "required": True,
     "options": [{"value": "personal", "label": "个人经营"},
                 {"value": "family", "label": "家庭经营"}]},
    {"type": "number", "key": "capital", "label": "资金数额(万元)", "required": False},
    {"type": "text", "key": "address", "label": "经营场所", "required": True},
]}
FLOW = {"version": 1, "steps": [
    {"kind": "task", "id": "review", "name": "审查", "department": "$matter",
     "position": None, "days": 3},
]}


@pytest.fixture
def city(db: Any) -> None:
    """The city, its departments and the licence catalogue."""
    regions_testing.make_chain(geometry=False)
    for code, name in DEPARTMENTS.items():
        if orgs.get_department(code) is None:
            orgs.create_department(code=code, name=name, region_code=regions_testing.CITY)
    licences.load_catalogue()


def make_official(username: str, department: str, *perms: str) -> Any:
    user = identity.create_official(username, f"官员{next(_seq)}", password="y" * 20)
    orgs.add_member(user, department_code=department)
    for dotted in perms or EDITOR_PERMS:
        app_label, codename = dotted.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label,
                                                         codename=codename))
    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture
def market_official(city: Any) -> Any:
    return make_official("scjg.editor", "scjg")


@pytest.fixture
def police_official(city: Any) -> Any:
    return make_official("gaj.editor", "gaj")


@pytest.fixture
def matter(city: Any) -> service.Matter:
    return service.create_matter(
        code="TEST-SCJG-001", name="个体工商户设立登记", department_code="scjg",
        audience="legal", kind="licensing", keywords="个体户 营业执照", statutory_days=15,
        promised_days=1, summary="申请设立个体工商户。",
        materials=[{"code": "id_card", "name": "经营者身份证明", "required": True,
                    "licence_types": [], "form": "electronic"}])


def live_version(matter: service.Matter, **parts: Any) -> service.ServiceVersion:
    draft = service.create_draft(matter)
    draft = service.save_draft(draft, form=parts.pop("form", FORM),
                               flow_spec=parts.pop("flow_spec", FLOW), **parts)
    return service.publish_version(draft)
