"""The demo loader's departments: positions in the order of their spec, on every run."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from yiwang.demo import loader, population
from yiwang.platform.orgs import service as orgs
from yiwang.platform.regions.testing import CITY, make_chain

pytestmark = pytest.mark.django_db


def quiet(_label: str, _total: int) -> Callable[[int], None]:
    return lambda _n: None


@pytest.fixture
def city() -> None:
    assert loader.geography.CITY[0] == CITY  # the departments belong to the demo city
    make_chain(geometry=False)


def spec(code: str) -> population.DepartmentSpec:
    return next(s for s in population.DEPARTMENTS if s.code == code)


def spec_names(code: str) -> list[str]:
    return [name for _code, name in spec(code).positions]


def test_positions_come_in_the_order_of_the_spec_head_first(city) -> None:
    loader.load_departments(quiet)
    names = [p.name for p in orgs.positions_of("cgj")]
    assert names == ["局长", "副局长", "科长", "工作人员", "派遣员", "网格员"]
    for department in population.DEPARTMENTS:
        positions = list(orgs.positions_of(department.code))
        assert [p.name for p in positions] == spec_names(department.code)
        assert [p.sort_order for p in positions] == list(range(1, len(positions) + 1))


def test_a_rerun_orders_the_positions_of_an_earlier_load(city) -> None:
    # An earlier load made the positions without an order, and someone moved one.
    orgs.create_department("cgj", "城管局", region_code=CITY, name_en="Urban Management Bureau")
    for code, name in reversed(spec("cgj").positions):
        orgs.create_position("cgj", code, name)
    orgs.order_positions("cgj", ["clerk"])
    loader.load_departments(quiet)
    assert [p.name for p in orgs.positions_of("cgj")] == spec_names("cgj")
    # Idempotent: another run changes nothing.
    assert orgs.order_positions("cgj", [code for code, _name in spec("cgj").positions]) == 0
    before = {s.code: list(orgs.positions_of(s.code).values_list("code", "sort_order"))
              for s in population.DEPARTMENTS}
    loader.load_departments(quiet)
    after = {s.code: list(orgs.positions_of(s.code).values_list("code", "sort_order"))
             for s in population.DEPARTMENTS}
    assert after == before
