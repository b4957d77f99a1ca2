"""The public regions API (/api/v1/regions, /api/v1/grids) through the public listener."""

from __future__ import annotations

import pytest

from yiwang.platform.regions import service
from yiwang.platform.regions.testing import (
    CITY,
    COMMUNITY,
    DISTRICT,
    PROVINCE,
    STREET,
    make_chain,
    tile_grids,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def city() -> None:
    make_chain()
    for n in range(2, 8):  # six more streets in the district, for paging
        service.create_region(f"339901{n:03d}000", f"第{n}街道")
    service.load_grids(tile_grids(COMMUNITY, 2, 2))


def test_list_top_level_and_children(public_client, city: None) -> None:  # type: ignore[no-untyped-def]
    body = public_client.get("/api/v1/regions").json()
    assert body["count"] == 1 and body["items"][0]["code"] == PROVINCE
    assert body["items"][0]["level"] == "province" and body["items"][0]["child_count"] == 1
    body = public_client.get(f"/api/v1/regions?parent={DISTRICT}").json()
    assert body["count"] == 7
    assert body["items"][0] == {
        "code": STREET, "name": "东湖街道", "level": "street", "level_label": "街道",
        "name_en": "", "parent_code": DISTRICT, "child_count": 1, "population": None,
        "area_km2": pytest.approx(body["items"][0]["area_km2"]),
        "centroid": [pytest.approx(120.1), pytest.approx(30.1)],
    }
    # The 6-digit county code is accepted for the parent too.
    assert public_client.get("/api/v1/regions?parent=339901").json()["count"] == 7


def test_pagination_and_level_filter(public_client, city: None) -> None:  # type: ignore[no-untyped-def]
    first = public_client.get(f"/api/v1/regions?parent={DISTRICT}&limit=3").json()
    second = public_client.get(f"/api/v1/regions?parent={DISTRICT}&limit=3&offset=3").json()
    last = public_client.get(f"/api/v1/regions?parent={DISTRICT}&limit=3&offset=6").json()
    codes = [i["code"] for page in (first, second, last) for i in page["items"]]
    assert len(codes) == 7 == len(set(codes)) and codes == sorted(codes)
    assert (first["limit"], second["offset"], len(last["items"])) == (3, 3, 1)
    streets = public_client.get("/api/v1/regions?level=street").json()
    assert streets["count"] == 7
    below_city = public_client.get(f"/api/v1/regions?parent={CITY}&level=community").json()
    assert [i["code"] for i in below_city["items"]] == [COMMUNITY]
    assert public_client.get("/api/v1/regions?limit=0").status_code == 422
    assert public_client.get("/api/v1/regions?limit=501").status_code == 422
    assert public_client.get("/api/v1/regions?offset=-1").status_code == 422
    assert public_client.get("/api/v1/regions?level=planet").status_code == 422


def test_list_query_count_is_bounded(public_client, city: None,  # type: ignore[no-untyped-def]
                                     django_assert_max_num_queries) -> None:
    with django_assert_max_num_queries(3):
        response = public_client.get(f"/api/v1/regions?parent={DISTRICT}&limit=500")
    assert len(response.json()["items"]) == 7


def test_region_detail(public_client, city: None) -> None:  # type: ignore[no-untyped-def]
    body = public_client.get(f"/api/v1/regions/{STREET}").json()
    assert body["name"] == "东湖街道" and body["parent_code"] == DISTRICT
    assert [a["code"] for a in body["ancestors"]] == [PROVINCE, CITY, DISTRICT]
    assert body["ancestors"][0]["level_label"] == "省"
    assert body["counts"] == {"children": 1, "community": 1, "grids": 4}
    assert body["child_count"] == 1
    assert body["bbox"] == [pytest.approx(v) for v in (119.9, 29.9, 120.3, 30.3)]


def test_bad_and_unknown_codes(public_client, city: None) -> None:  # type: ignore[no-untyped-def]
    for path in ("/api/v1/regions/abc", "/api/v1/regions/12345",
                 "/api/v1/regions/abc/geojson", "/api/v1/regions?parent=33x"):
        response = public_client.get(path)
        assert response.status_code == 400, path
        assert "12位数字" in response.json()["detail"]
    response = public_client.get("/api/v1/regions/339999000000")
    assert response.status_code == 404 and "339999000000" in response.json()["detail"]
    assert public_client.get("/api/v1/regions/339999000000/grids").status_code == 404


def test_children_geojson(public_client, city: None) -> None:  # type: ignore[no-untyped-def]
    body = public_client.get(f"/api/v1/regions/{STREET}/geojson").json()
    assert body["type"] == "FeatureCollection"
    [feature] = body["features"]
    assert feature["type"] == "Feature" and feature["id"] == COMMUNITY
    assert feature["properties"]["level"] == "community"
    assert feature["geometry"]["type"] == "Polygon"


def test_grids_geojson(public_client, city: None) -> None:  # type: ignore[no-untyped-def]
    body = public_client.get(f"/api/v1/regions/{DISTRICT}/grids").json()
    assert [f["id"] for f in body["features"]] == [f"{COMMUNITY}00{n}" for n in range(1, 5)]
    assert body["features"][0]["geometry"]["coordinates"][0][0] == [120.0, 30.0]
    other = public_client.get("/api/v1/regions/339901002000/grids").json()
    assert other["features"] == []


def test_grid_at(public_client, city: None) -> None:  # type: ignore[no-untyped-def]
    response = public_client.get("/api/v1/grids/at?lon=120.015&lat=30.005")
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == f"{COMMUNITY}002" and body["street_code"] == STREET
    assert [r["code"] for r in body["regions"]] == [PROVINCE, CITY, DISTRICT, STREET, COMMUNITY]
    outside = public_client.get("/api/v1/grids/at?lon=121&lat=30")
    assert outside.status_code == 404 and outside.json()["detail"] == "该位置不在任何网格内"


@pytest.mark.parametrize(("query", "status", "fragment"), [
    ("lon=181&lat=30", 400, "经度"),
    ("lon=120&lat=-90.5", 400, "纬度"),
    ("lon=nan&lat=30", 400, "非数值"),
    ("lon=inf&lat=30", 400, "无穷大"),
    ("lon=abc&lat=30", 422, ""),
    ("lat=30", 422, ""),
])
def test_grid_at_bad_coordinates(public_client, city: None, query: str, status: int,  # type: ignore[no-untyped-def]
                                 fragment: str) -> None:
    response = public_client.get(f"/api/v1/grids/at?{query}")
    assert response.status_code == status
    assert fragment in str(response.json()["detail"])


def test_not_served_on_the_internal_listener(internal_client, city: None) -> None:  # type: ignore[no-untyped-def]
    # The internal API is a different NinjaAPI: the public routers are not mounted there.
    assert internal_client.get("/api/v1/regions").status_code in (401, 403, 404)


@pytest.mark.parametrize("url", ["/api/v1/regions?offset=100000000000000000000000",
                                 "/api/v1/departments?offset=1e23",
                                 "/api/v1/regions?limit=-1"])
def test_absurd_paging_is_a_422_not_a_500(public_client, url):
    assert public_client.get(url).status_code == 422
