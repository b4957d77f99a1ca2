"""Departments, positions, memberships, categories and who answers for what."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from yiwang.core.identifiers.service import generate_credit_code
from yiwang.platform.orgs import service
from yiwang.platform.regions import service as regions
from yiwang.platform.regions.testing import CITY, COMMUNITY, DISTRICT, STREET, make_chain

pytestmark = pytest.mark.django_db

OTHER_STREET = "339901002000"


def credit_code(seed: int) -> str:
    return generate_credit_code("339900", authority="1", org_type="1", rng=random.Random(seed))


@pytest.fixture
def city() -> None:
    make_chain(geometry=False)
    regions.create_region(OTHER_STREET, "西湖街道")


@pytest.fixture
def official():  # type: ignore[no-untyped-def]
    return get_user_model().objects.create_user("li.kezhang", password="x")


def test_create_department_checks_credit_code_and_region(city: None) -> None:
    good = credit_code(1)
    bureau = service.create_department("scjgj", "市场监管局", region_code=CITY,
                                       credit_code=good.lower(), phone="0579-1")
    assert bureau.credit_code == good  # normalised to upper case
    assert service.get_department("scjgj") == bureau
    assert service.get_department("nope") is None
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(ValidationError) as exc:
        service.create_department("zjj", "住建局", region_code=CITY, credit_code=bad)
    assert "校验位" in "".join(exc.value.messages)
    with pytest.raises(ValidationError) as exc:
        service.create_department("zjj", "住建局", region_code=CITY, credit_code=good)
    assert "已被其他部门使用" in "".join(exc.value.messages)
    with pytest.raises(ValidationError, match="339999000000"):
        service.create_department("zjj", "住建局", region_code="339999000000")
    with pytest.raises(ValidationError):
        service.create_department("scjgj", "重复", region_code=CITY)
    with pytest.raises(ValidationError):
        service.create_department("bad code!", "坏代码", region_code=CITY)


def test_internal_units_stay_within_the_parents_region(city: None) -> None:
    bureau = service.create_department("qscjgj", "东城区市场监管局", region_code=DISTRICT)
    unit = service.create_department("qscjgj-dh", "东湖市场监管所", region_code=STREET,
                                     parent_code="qscjgj", kind=service.DepartmentKind.INTERNAL)
    assert unit.parent == bureau
    with pytest.raises(ValidationError) as exc:
        service.create_department("qscjgj-x", "越界所", region_code=CITY, parent_code="qscjgj")
    assert "区划" in "".join(exc.value.messages)


def test_list_departments_filters_by_region_and_text(city: None) -> None:
    service.create_department("scjgj", "市场监管局", region_code=CITY, name_en="Market")
    service.create_department("qscjgj", "东城区市场监管局", region_code=DISTRICT)
    service.create_department("old", "已撤销局", region_code=CITY, active=False)
    assert [d.code for d in service.list_departments()] == ["scjgj", "qscjgj"]
    assert [d.code for d in service.list_departments(region_code=DISTRICT)] == ["qscjgj"]
    assert [d.code for d in service.list_departments(region_code="339901")] == ["qscjgj"]
    assert [d.code for d in service.list_departments(q="market")] == ["scjgj"]
    assert [d.code for d in service.list_departments(q="东城")] == ["qscjgj"]
    assert len(service.list_departments(include_inactive=True)) == 3


def test_positions_and_memberships(city: None, official) -> None:  # type: ignore[no-untyped-def]
    service.create_department("scjgj", "市场监管局", region_code=CITY)
    service.create_department("zwfw", "政务服务中心", region_code=CITY)
    chief = service.create_position("scjgj", "section_chief", "科长", rank="正科级")
    assert chief.region_code == CITY
    service.create_position(service.get_department("zwfw"), "window", "窗口受理员")
    with pytest.raises(ValidationError):
        service.create_position("scjgj", "section_chief", "科长")
    assert [p.code for p in service.positions_of("scjgj")] == ["section_chief"]

    first = service.add_member(official, "scjgj", position_code="section_chief", primary=True)
    service.add_member(official, "zwfw", position_code="window")
    assert first.region_code == CITY
    assert [d.code for d in service.departments_of(official)] == ["scjgj", "zwfw"]
    assert [m.user for m in service.members_of("scjgj")] == [official]
    assert service.is_member(official, "zwfw")
    with pytest.raises(ValidationError, match="主要任职"):
        service.add_member(official, "zwfw", primary=True)
    with pytest.raises(ValidationError, match="已在"):
        service.add_member(official, "scjgj", position_code="section_chief")
    with pytest.raises(ValidationError, match="没有岗位"):
        service.add_member(official, "scjgj", position_code="director")


def test_positions_come_in_their_order_then_by_code(city: None) -> None:
    service.create_department("cgj", "城管局", region_code=CITY)
    for code, name in [("section_chief", "科长"), ("clerk", "工作人员"), ("head", "局长"),
                       ("dispatcher", "派遣员"), ("deputy", "副局长")]:
        service.create_position("cgj", code, name)
    # Nothing ordered yet: by code, as before.
    assert [p.code for p in service.positions_of("cgj")] == [
        "clerk", "deputy", "dispatcher", "head", "section_chief"]
    assert service.order_positions("cgj", ["head", "deputy", "section_chief"]) == 3
    # The ordered ones first, the rest after them by code.
    assert [p.name for p in service.positions_of("cgj")] == [
        "局长", "副局长", "科长", "工作人员", "派遣员"]
    assert service.order_positions("cgj", ["head", "deputy", "section_chief"]) == 0  # no-op
    assert service.order_positions("cgj", ["head", "section_chief", "deputy"]) == 2
    assert [p.code for p in service.positions_of("cgj")][:3] == [
        "head", "section_chief", "deputy"]
    placed = service.create_position("cgj", "grid_inspector", "网格员", sort_order=1)
    assert placed.sort_order == 1
    assert [p.code for p in service.positions_of("cgj")][:2] == ["grid_inspector", "head"]


def test_order_positions_refuses_unknown_and_repeated_codes(city: None) -> None:
    service.create_department("cgj", "城管局", region_code=CITY)
    service.create_position("cgj", "head", "局长")
    with pytest.raises(ValidationError, match="没有岗位"):
        service.order_positions("cgj", ["head", "mayor"])
    with pytest.raises(ValidationError, match="重复"):
        service.order_positions("cgj", ["head", "head"])
    assert service.positions_of("cgj").get().sort_order is None  # nothing changed
    with pytest.raises(ValidationError, match="不存在"):
        service.order_positions("nowhere", ["head"])


def test_members_are_listed_in_the_order_of_their_positions(city: None) -> None:
    users = get_user_model().objects
    service.create_department("cgj", "城管局", region_code=CITY)
    service.create_position("cgj", "clerk", "工作人员", sort_order=2)
    service.create_position("cgj", "head", "局长", sort_order=1)
    service.add_member(users.create_user("a", password="x"), "cgj", position_code="clerk")
    service.add_member(users.create_user("b", password="x"), "cgj", position_code="head")
    assert [m.position.code for m in service.members_of("cgj")] == ["head", "clerk"]


def test_an_ended_membership_no_longer_counts(city: None, official) -> None:  # type: ignore[no-untyped-def]
    service.create_department("scjgj", "市场监管局", region_code=CITY)
    today = timezone.localdate()
    membership = service.add_member(official, "scjgj", primary=True,
                                    started_on=today - timedelta(days=30))
    assert service.is_member(official, "scjgj")
    service.end_membership(membership)
    assert not service.is_member(official, "scjgj")
    assert list(service.members_of("scjgj")) == []
    assert service.departments_of(official) == []
    assert service.is_member(official, "scjgj", on=today - timedelta(days=1))
    assert len(service.memberships_of(official, include_ended=True)) == 1
    with pytest.raises(ValidationError, match="已于"):
        service.end_membership(membership.pk)
    # A new primary membership is allowed once the old one ended.
    service.add_member(official, "scjgj", primary=True)
    assert service.is_member(official, "scjgj")


def test_membership_dates_and_inactive_accounts(city: None, official) -> None:  # type: ignore[no-untyped-def]
    service.create_department("scjgj", "市场监管局", region_code=CITY)
    future = service.add_member(official, "scjgj", started_on=date.today() + timedelta(days=5))
    assert not service.is_member(official, "scjgj")  # not started yet
    with pytest.raises(ValidationError, match="早于"):
        service.end_membership(future, ended_on=date.today())
    official.is_active = False
    official.save()
    with pytest.raises(ValidationError, match="停用"):
        service.add_member(official, "scjgj", position_code=None, primary=True)


def test_members_of_an_internal_unit_belong_to_the_department(city: None, official) -> None:  # type: ignore[no-untyped-def]
    service.create_department("qscjgj", "东城区市场监管局", region_code=DISTRICT)
    service.create_department("qscjgj-djk", "登记注册科", region_code=DISTRICT,
                              parent_code="qscjgj", kind=service.DepartmentKind.INTERNAL)
    service.add_member(official, "qscjgj-djk")
    assert service.is_member(official, "qscjgj")
    assert not service.is_member(official, "qscjgj", include_units=False)
    assert service.is_member(official, "qscjgj-djk", include_units=False)


def test_is_member_asks_once_for_a_members_own_department(  # type: ignore[no-untyped-def]
        city: None, official, django_assert_num_queries) -> None:
    service.create_department("qscjgj", "东城区市场监管局", region_code=DISTRICT)
    service.create_department("qscjgj-djk", "登记注册科", region_code=DISTRICT,
                              parent_code="qscjgj", kind=service.DepartmentKind.INTERNAL)
    service.add_member(official, "qscjgj-djk")
    with django_assert_num_queries(1):
        assert service.is_member(official, "qscjgj-djk")
    with django_assert_num_queries(1):
        assert not service.is_member(official, "qscjgj", include_units=False)
    with django_assert_num_queries(2):  # the membership with its unit, then the parent
        assert not service.is_member(official, "scjgj")


def test_categories_form_a_tree(city: None) -> None:
    service.create_category("city", "城市管理事件", kind=service.CategoryKind.EVENT)
    service.create_category("city.street_order", "街面秩序", parent_code="city")
    vending = service.create_category("city.street_order.vending", "占道经营",
                                      parent_code="city.street_order")
    assert vending.kind == service.CategoryKind.EVENT  # inherited
    assert vending.lineage == ["city", "city.street_order", "city.street_order.vending"]
    with pytest.raises(ValidationError, match="不存在"):
        service.create_category("x", "孤儿", parent_code="missing")
    with pytest.raises(ValidationError):
        service.create_category("bad code", "坏代码")


@pytest.fixture
def assignments(city: None) -> None:
    service.create_department("cgj", "城管局", region_code=CITY)
    service.create_department("qcgj", "东城区城管局", region_code=DISTRICT)
    service.create_department("dhjd", "东湖街道办", region_code=STREET)
    service.create_department("scjgj", "市场监管局", region_code=CITY)
    service.create_position("cgj", "dispatcher", "派遣员")
    service.create_category("city", "城市管理事件", kind=service.CategoryKind.EVENT)
    service.create_category("city.street_order", "街面秩序", parent_code="city")
    service.create_category("city.street_order.vending", "占道经营",
                            parent_code="city.street_order")
    service.create_category("services", "政务服务事项", kind=service.CategoryKind.SERVICE)
    service.assign_responsibility("cgj", CITY, category_code="city", position_code="dispatcher")
    service.assign_responsibility("qcgj", DISTRICT, category_code="city.street_order")


def _who(region: str, category: str | None, on: date | None = None) -> list[str]:
    return [r.department.code for r in service.responsible_for(region, category, on=on)]


def test_responsible_for_walks_up_regions_and_categories(assignments: None) -> None:
    # Nothing more specific than the city-wide assignment for the root category.
    assert _who(COMMUNITY, "city") == ["cgj"]
    assert service.responsible_for(COMMUNITY, "city")[0].position.code == "dispatcher"
    # A subcategory beats its parent: the district's 街面秩序 beats the city's 城市管理.
    assert _who(COMMUNITY, "city.street_order.vending") == ["qcgj"]
    # …but only inside that district.
    assert _who(CITY, "city.street_order.vending") == ["cgj"]
    # Nobody answers for service matters yet.
    assert _who(COMMUNITY, "services") == []
    with pytest.raises(ValidationError, match="不存在"):
        service.responsible_for(COMMUNITY, "no.such")


def test_a_street_assignment_beats_the_district_one(assignments: None) -> None:
    service.assign_responsibility("dhjd", STREET, category_code="city.street_order")
    assert _who(COMMUNITY, "city.street_order.vending") == ["dhjd"]
    assert _who(STREET, "city.street_order") == ["dhjd"]
    # The other street of the district still goes to the district bureau.
    assert _who(OTHER_STREET, "city.street_order") == ["qcgj"]


def test_category_precedence_before_region(assignments: None) -> None:
    # A street's catch-all does not beat the district's specific assignment…
    service.assign_responsibility("dhjd", STREET, category_code=None, note="兜底")
    assert _who(COMMUNITY, "city.street_order") == ["qcgj"]
    # …but answers for what nobody else does.
    assert _who(COMMUNITY, "services") == ["dhjd"]
    assert _who(COMMUNITY, None) == ["dhjd"]


def test_joint_and_dated_responsibilities(assignments: None) -> None:
    today = timezone.localdate()
    service.assign_responsibility("scjgj", DISTRICT, category_code="city.street_order",
                                  valid_to=today + timedelta(days=10))
    assert _who(COMMUNITY, "city.street_order") == ["qcgj", "scjgj"]
    assert _who(COMMUNITY, "city.street_order", on=today + timedelta(days=11)) == ["qcgj"]
    service.create_department("dcgj", "旧城管局", region_code=DISTRICT, active=False)
    service.assign_responsibility("dcgj", DISTRICT, category_code="city.street_order")
    assert "dcgj" not in _who(COMMUNITY, "city.street_order")


def test_assign_responsibility_validates(assignments: None) -> None:
    with pytest.raises(ValidationError, match="辖区外"):
        service.assign_responsibility("dhjd", OTHER_STREET)
    with pytest.raises(ValidationError, match="相同的职责分工"):
        service.assign_responsibility("qcgj", DISTRICT, category_code="city.street_order")
    with pytest.raises(ValidationError, match="早于"):
        service.assign_responsibility("qcgj", STREET, valid_from=date(2026, 5, 1),
                                      valid_to=date(2026, 4, 1))
    with pytest.raises(ValidationError, match="不存在"):
        service.assign_responsibility("nobody", DISTRICT)
