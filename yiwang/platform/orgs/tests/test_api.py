"""The public departments API (/api/v1/departments) through the public listener."""

from __future__ import annotations

import random

import pytest
from django.contrib.auth import get_user_model

from yiwang.core.identifiers.service import generate_credit_code
from yiwang.platform.orgs import service
from yiwang.platform.regions.testing import CITY, DISTRICT, make_chain

pytestmark = pytest.mark.django_db

CREDIT = generate_credit_code("339900", authority="1", org_type="1", rng=random.Random(5))


@pytest.fixture
def departments() -> None:
    make_chain(geometry=False)
    service.create_department("scjgj", "市场监管局", region_code=CITY, credit_code=CREDIT,
                              name_en="Market Regulation", phone="0579-12345678",
                              address="示例市市民中心3号楼")
    service.create_position("scjgj", "head", "局长", rank="正处级")
    service.create_position("scjgj", "reviewer", "审批员")
    service.create_department("scjgj-djk", "登记注册科", region_code=CITY, parent_code="scjgj",
                              kind=service.DepartmentKind.INTERNAL)
    for n in range(1, 9):
        service.create_department(f"q{n}", f"东城区第{n}局", region_code=DISTRICT)
    service.create_department("old", "已撤销局", region_code=CITY, active=False)
    official = get_user_model().objects.create_user("wang.juzhang", password="x",
                                                    first_name="王局长")
    service.add_member(official, "scjgj", position_code="head", primary=True)


def test_list_departments_paginated(public_client, departments: None) -> None:  # type: ignore[no-untyped-def]
    body = public_client.get("/api/v1/departments").json()
    assert body["count"] == 10  # the inactive one is not public
    pages = [public_client.get(f"/api/v1/departments?limit=4&offset={o}").json()
             for o in (0, 4, 8)]
    codes = [d["code"] for page in pages for d in page["items"]]
    assert len(codes) == 10 == len(set(codes)) and "old" not in codes
    assert [len(p["items"]) for p in pages] == [4, 4, 2]
    assert public_client.get("/api/v1/departments?limit=0").status_code == 422


def test_list_departments_filters(public_client, departments: None) -> None:  # type: ignore[no-untyped-def]
    body = public_client.get(f"/api/v1/departments?region={CITY}").json()
    assert [d["code"] for d in body["items"]] == ["scjgj", "scjgj-djk"]
    unit = body["items"][1]
    assert unit["parent"] == {"code": "scjgj", "name": "市场监管局"}
    assert unit["kind"] == "internal" and unit["kind_label"] == "内设机构"
    assert unit["region"] == {"code": CITY, "name": "示例市", "level": "city"}
    body = public_client.get("/api/v1/departments?q=market").json()
    assert [d["code"] for d in body["items"]] == ["scjgj"]
    assert public_client.get("/api/v1/departments?region=339901").json()["count"] == 8
    response = public_client.get("/api/v1/departments?region=x1")
    assert response.status_code == 400 and "12位数字" in response.json()["detail"]


def test_list_query_count_is_bounded(public_client, departments: None,  # type: ignore[no-untyped-def]
                                     django_assert_max_num_queries) -> None:
    with django_assert_max_num_queries(3):
        response = public_client.get("/api/v1/departments?limit=500")
    assert len(response.json()["items"]) == 10


def test_department_detail_is_public_information_only(public_client, departments: None) -> None:  # type: ignore[no-untyped-def]
    response = public_client.get("/api/v1/departments/scjgj")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "市场监管局" and body["credit_code"] == CREDIT
    assert body["phone"] == "0579-12345678" and body["address"] == "示例市市民中心3号楼"
    assert body["region"]["code"] == CITY and body["parent"] is None
    assert body["positions"] == [{"code": "head", "name": "局长", "rank": "正处级"},
                                 {"code": "reviewer", "name": "审批员", "rank": ""}]
    text = response.content.decode()
    assert "wang.juzhang" not in text and "王局长" not in text
    assert set(body) == {"code", "name", "name_en", "kind", "kind_label", "region", "parent",
                         "phone", "credit_code", "address", "description", "positions"}


def test_unknown_and_inactive_departments_are_404(public_client, departments: None) -> None:  # type: ignore[no-untyped-def]
    for code in ("nope", "old", "%E4%B8%AD"):
        response = public_client.get(f"/api/v1/departments/{code}")
        assert response.status_code == 404, code
        assert "不存在" in response.json()["detail"]
