"""GIS layers and spatial queries, and OGC API Features as a client uses it."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from yiwang.platform.perception.testing import make_city
from yiwang.support.gis import service as gis
from yiwang.support.gis.testing import make_layers

pytestmark = pytest.mark.django_db


@pytest.fixture
def layers() -> dict[str, Any]:
    make_city()
    return make_layers()


def test_features_know_their_grid_and_box(layers) -> None:
    manhole = gis.features("manholes").get(code="MH-0")
    assert manhole.grid_code == "339901001001001" and manhole.district_code == "339901000000"
    park = gis.features("parks").get()
    assert (park.min_lon, park.max_lat) == (120.02, 30.03)
    assert park.grid_code == "339901001001011"  # its representative point's grid


def test_bad_geometry_and_places_outside_the_city_are_refused(layers) -> None:
    for geometry in ({"type": "Point", "coordinates": [121.9, 31.2]},
                     {"type": "Point", "coordinates": ["x", 30]},
                     {"type": "Circle", "coordinates": [120, 30]},
                     {"type": "Polygon", "coordinates": [[[120.01, 30.01], [120.02, 30.02],
                                                          [120.01, 30.02], [120.02, 30.01],
                                                          [120.01, 30.01]]]}):
        with pytest.raises(ValidationError):
            gis.save_feature("manholes", "BAD", geometry)
    assert not gis.features("manholes").filter(code="BAD").exists()


def test_nearby_within_and_bbox(layers) -> None:
    found = gis.nearby(120.001, 30.001, 150)
    assert [(f.feature.code, round(f.metres)) for f in found] == [
        ("MH-0", 0), ("SL-1", 53), ("MH-1", 96)]
    only = gis.nearby(120.001, 30.001, 150, layer_codes=["manholes"])
    assert [f.feature.code for f in only] == ["MH-0", "MH-1"]
    area = {"type": "Polygon", "coordinates": [[[120.0, 30.0], [120.0025, 30.0],
                                                [120.0025, 30.002], [120.0, 30.002],
                                                [120.0, 30.0]]]}
    assert [f.code for f in gis.within(area)] == ["MH-0", "MH-1", "SL-1"]
    assert [f.code for f in gis.features("manholes", bbox=(120.0015, 30.0, 120.0025, 30.01))] \
        == ["MH-1"]
    with pytest.raises(ValidationError):
        gis.parse_bbox("1,2,3")
    with pytest.raises(ValidationError):
        gis.nearby(120, 30, 0)


def test_ogc_api_features_core(client, layers) -> None:
    landing = client.get("/ogcapi/").json()
    assert {link["rel"] for link in landing["links"]} >= {"self", "conformance", "data"}
    conformance = client.get("/ogcapi/conformance").json()["conformsTo"]
    assert any(c.endswith("/conf/geojson") for c in conformance)
    ids = [c["id"] for c in client.get("/ogcapi/collections").json()["collections"]]
    assert {"districts", "grids", "manholes", "parks"} <= set(ids)
    assert "streetlights" not in ids  # not public
    page = client.get("/ogcapi/collections/grids/items", {"limit": 5})
    assert page["Content-Type"].startswith("application/geo+json")
    body = page.json()
    assert body["numberMatched"] == 16 and body["numberReturned"] == 5
    assert any(link["rel"] == "next" for link in body["links"])
    boxed = client.get("/ogcapi/collections/manholes/items",
                       {"bbox": "120.0015,30.0,120.0025,30.01"}).json()
    assert [f["properties"]["code"] for f in boxed["features"]] == ["MH-1"]
    one = client.get("/ogcapi/collections/manholes/items/manholes.MH-2").json()
    assert one["geometry"] == {"type": "Point", "coordinates": [120.003, 30.001]}
    assert client.get("/ogcapi/collections/manholes/items/nope").status_code == 404
    assert client.get("/ogcapi/collections/streetlights/items").status_code == 404
    assert client.get("/ogcapi/collections/grids/items", {"colour": "red"}).status_code == 400
    assert client.get("/ogcapi/collections/grids/items", {"bbox": "1,2"}).status_code == 400
    assert client.get("/ogcapi/collections/grids/items", {"limit": 0}).status_code == 400


def test_the_internal_listener_serves_every_layer_to_officials_only(internal_client,
                                                                    layers) -> None:
    from yiwang.support.identity import service as identity
    from yiwang.support.identity.testing import sign_in_client

    assert internal_client.get("/ogcapi/collections").status_code == 401
    viewer = identity.create_official("gis.viewer", "图层查看员", password="y" * 20)
    sign_in_client(internal_client, viewer)
    ids = [c["id"] for c in internal_client.get("/ogcapi/collections").json()["collections"]]
    assert "streetlights" in ids
