"""The administrative tree: codes, levels, parents, paths, loads."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from yiwang.platform.regions import codes, service
from yiwang.platform.regions.service import Level
from yiwang.platform.regions.testing import (
    CITY,
    COMMUNITY,
    DISTRICT,
    PROVINCE,
    STREET,
    box,
    make_chain,
)

pytestmark = pytest.mark.django_db


def test_levels_and_structural_parents_from_codes() -> None:
    assert codes.level_of("330000000000") == Level.PROVINCE
    assert codes.level_of("330100000000") == Level.CITY
    assert codes.level_of("330106000000") == Level.DISTRICT
    assert codes.level_of("330106001000") == Level.STREET
    assert codes.level_of("330106001002") == Level.COMMUNITY
    assert codes.structural_parent("330106001002") == "330106001000"
    assert codes.structural_parent("330106000000") == "330100000000"
    assert codes.structural_parent("330000000000") is None
    # A city without counties (东莞): its streets hang directly below the city.
    assert codes.level_of("441900003000") == Level.STREET
    assert codes.structural_parent("441900003000") == "441900000000"
    assert codes.normalize_code("330106") == "330106000000"


def test_ancestors_and_descendants_across_five_levels() -> None:
    chain = make_chain()
    assert [r.level for r in chain.values()] == list(codes.LEVELS)
    assert [r.code for r in service.ancestors(COMMUNITY)] == [PROVINCE, CITY, DISTRICT, STREET]
    assert service.ancestors(PROVINCE) == []
    assert [r.code for r in service.descendants(PROVINCE)] == [CITY, DISTRICT, STREET, COMMUNITY]
    assert [r.code for r in service.descendants(CITY, level=Level.STREET)] == [STREET]
    assert list(service.descendants(COMMUNITY)) == []
    assert [r.code for r in service.children()] == [PROVINCE]
    assert [r.code for r in service.children(DISTRICT)] == [STREET]
    community = service.get_region(COMMUNITY)
    assert community.path == f"{PROVINCE}/{CITY}/{DISTRICT}/{STREET}/{COMMUNITY}/"
    assert community.depth == 4
    assert service.covers(CITY, COMMUNITY) and not service.covers(COMMUNITY, CITY)
    # A sibling district is not a descendant of the first district.
    service.create_region("339902000000", "西城区")
    assert [r.code for r in service.descendants(DISTRICT)] == [STREET, COMMUNITY]
    assert {r.code for r in service.descendants(CITY, level=Level.DISTRICT)} == {
        DISTRICT, "339902000000"}


def test_region_tree_and_stats() -> None:
    make_chain(geometry=False)
    service.create_region("339901002000", "西湖街道")
    tree = service.region_tree(CITY, depth=2)
    assert tree["code"] == CITY and tree["level"] == "city"
    assert [d["code"] for d in tree["children"]] == [DISTRICT]
    assert [s["code"] for s in tree["children"][0]["children"]] == [STREET, "339901002000"]
    assert tree["children"][0]["children"][0]["children"] == []  # depth limit
    assert service.stats(CITY) == {"children": 1, "district": 1, "street": 2, "community": 1,
                                   "grids": 0}
    assert service.stats(STREET) == {"children": 1, "community": 1, "grids": 0}


@pytest.mark.parametrize(("code", "fragment"), [
    ("33010600000", "12位数字"),
    ("33010600000a", "12位数字"),
    ("000106000000", "省级部分"),
])
def test_malformed_codes_are_refused(code: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as exc:
        service.create_region(code, "某地")
    assert fragment in "".join(exc.value.messages)


def test_level_must_match_the_code() -> None:
    with pytest.raises(ValidationError) as exc:
        service.create_region("330106000000", "某区", level=Level.STREET)
    assert "区县" in "".join(exc.value.messages)


def test_parent_must_be_the_structural_one() -> None:
    make_chain(geometry=False)
    with pytest.raises(ValidationError) as exc:
        service.create_region("339902001000", "某街道", parent_code=DISTRICT)
    assert "339902000000" in "".join(exc.value.messages)
    # An explicit parent that agrees with the code is accepted.
    street = service.create_region("339901003000", "南湖街道", parent_code=DISTRICT)
    assert street.parent_id == DISTRICT


def test_unknown_region_is_a_clear_error() -> None:
    with pytest.raises(service.Region.DoesNotExist, match="339999000000"):
        service.get_region("339999000000")
    with pytest.raises(ValidationError):
        service.get_region("abc")


def test_a_city_loaded_before_its_province_is_adopted() -> None:
    service.create_region(CITY, "示例市")
    service.create_region(DISTRICT, "东城区")
    assert service.get_region(CITY).parent_id is None
    service.create_region(PROVINCE, "示例省")
    district = service.get_region(DISTRICT)
    assert district.path == f"{PROVINCE}/{CITY}/{DISTRICT}/" and district.depth == 2
    assert [r.code for r in service.ancestors(DISTRICT)] == [PROVINCE, CITY]


@pytest.mark.parametrize(("geometry", "fragment"), [
    ({"type": "Point", "coordinates": [120, 30]}, "Polygon"),
    ({"type": "Polygon", "coordinates": [[[120, 30], [121, 30], [121, 31], [120, 31]]]},
     "未闭合"),
    ({"type": "Polygon", "coordinates": [[[120, 30], [121, 30], [120, 30]]]}, "至少要有4个"),
    (box(179.5, 30, 180.5, 31), "经度"),
    (box(120, 89.5, 121, 90.5), "纬度"),
    # A bow tie: the ring crosses itself.
    ({"type": "Polygon", "coordinates": [[[120, 30], [121, 31], [121, 30], [120, 31],
                                          [120, 30]]]}, "Self-intersection"),
    ({"type": "Polygon", "coordinates": [[["a", 30], [121, 30], [121, 31], [120, 30]]]},
     "数值"),
    ("not geojson", "GeoJSON"),
])
def test_bad_geometries_are_refused(geometry: object, fragment: str) -> None:
    with pytest.raises(ValidationError) as exc:
        service.create_region(PROVINCE, "示例省", geometry=geometry)  # type: ignore[arg-type]
    assert fragment in "".join(exc.value.messages)
    assert not service.Region.objects.exists()


def test_derived_figures_of_a_geometry() -> None:
    province = service.create_region(PROVINCE, "示例省", geometry=box(120.0, 0.0, 120.01, 0.01))
    assert (province.min_lon, province.min_lat, province.max_lon, province.max_lat) == (
        120.0, 0.0, 120.01, 0.01)
    assert province.centroid_lon == pytest.approx(120.005)
    # 0.01° × 0.01° at the equator is about 1.113 km × 1.106 km.
    assert province.area_km2 == pytest.approx(1.2364, rel=0.01)


def _rows() -> list[dict[str, object]]:
    return [
        {"code": COMMUNITY, "name": "湖畔社区", "geometry": box(120.0, 30.0, 120.1, 30.1)},
        {"code": STREET, "name": "东湖街道"},
        {"code": DISTRICT, "name": "东城区", "population": 120000},
        {"code": CITY, "name": "示例市", "name_en": "Shili"},
        {"code": PROVINCE, "name": "示例省"},
    ]


def test_bulk_load_is_idempotent() -> None:
    seen: list[int] = []
    first = service.load_regions(_rows(), progress=seen.append, batch_size=2)
    assert first == service.LoadResult(created=5, updated=0)
    assert sum(seen) == 5 and len(seen) == 3
    second = service.load_regions(_rows())
    assert second == service.LoadResult(created=0, updated=5)
    assert service.Region.objects.count() == 5
    community = service.get_region(COMMUNITY)
    assert community.path == f"{PROVINCE}/{CITY}/{DISTRICT}/{STREET}/{COMMUNITY}/"
    assert community.max_lon == pytest.approx(120.1)
    assert service.get_region(DISTRICT).population == 120000


def test_bulk_load_reparents_when_the_province_arrives_later() -> None:
    rows = _rows()
    rows[3]["parent_code"] = None  # the city explicitly top-level
    service.load_regions([r for r in rows if r["code"] != PROVINCE])
    assert service.get_region(CITY).parent_id is None
    service.load_regions([r for r in _rows() if r["code"] == PROVINCE])
    community = service.get_region(COMMUNITY)
    assert community.path.startswith(f"{PROVINCE}/{CITY}/") and community.depth == 4


def test_bulk_load_names_the_bad_row_and_keeps_earlier_batches() -> None:
    rows = [*_rows(), {"code": "339901001999x", "name": "坏行"}]
    with pytest.raises(ValidationError) as exc:
        service.load_regions(rows, batch_size=5)
    assert "339901001999x" in "".join(exc.value.messages)
    assert service.Region.objects.count() == 5


def test_regions_and_grids_by_code_in_one_query_each(django_assert_num_queries) -> None:
    from yiwang.platform.regions.testing import tile_grids

    make_chain()
    service.load_grids(tile_grids(COMMUNITY, 2, 1))
    grid_code = f"{COMMUNITY}001"
    with django_assert_num_queries(1):
        found = service.regions_by_code([CITY, STREET, "339999999999", ""])
    assert set(found) == {CITY, STREET}
    with django_assert_num_queries(1):
        grids = service.grids_by_code([grid_code, "nope"])
        assert grids[grid_code].community.code == COMMUNITY
    assert service.regions_by_code([]) == {} and service.grids_by_code([""]) == {}
