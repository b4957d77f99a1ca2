"""Test helpers other apps' tests may use: component and POI layers on the test city."""

from __future__ import annotations

from typing import Any

from yiwang.support.gis import service


def make_layers() -> dict[str, Any]:
    """A public manhole layer (three manholes in the first grids), a non-public street-light
    layer with one light, and a public park (a polygon)."""
    manholes = service.create_layer("manholes", "井盖", kind="component", name_en="Manholes",
                                    category_code="city.c.public.manhole")
    lights = service.create_layer("streetlights", "路灯", kind="component", public=False)
    parks = service.create_layer("parks", "公园", kind="poi")
    service.load_features("manholes", [
        {"code": f"MH-{i}", "name": f"井盖{i}", "status": "good",
         "geometry": {"type": "Point", "coordinates": [120.001 + i * 0.001, 30.001]}}
        for i in range(3)])
    service.save_feature("streetlights", "SL-1",
                         {"type": "Point", "coordinates": [120.0015, 30.0012]})
    service.save_feature("parks", "P-1", {"type": "Polygon", "coordinates": [[
        [120.02, 30.02], [120.03, 30.02], [120.03, 30.03], [120.02, 30.03], [120.02, 30.02]]]},
        name="湖畔公园", properties={"opening": "06:00-22:00"})
    return {"manholes": manholes, "streetlights": lights, "parks": parks}
