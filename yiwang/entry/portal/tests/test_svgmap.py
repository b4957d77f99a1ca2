"""The server-side SVG map: projection, paths, links, escaping and colouring."""

from __future__ import annotations

import itertools
import math
import re

from yiwang.entry.portal.service import build_svg_map, render_svg_map
from yiwang.platform.regions.testing import box


def feature(code: str, name: str, geometry: dict | None) -> dict:
    return {"type": "Feature", "geometry": geometry,
            "properties": {"code": code, "name": name, "level": "district"}}


def href(f: dict) -> str:
    return f"/r/{f['properties']['code']}/"


def points(d: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r"(-?[\d.]+) (-?[\d.]+)", d)]


def test_projection_fits_the_view_box_and_scales_longitude_by_latitude() -> None:
    svg = build_svg_map([feature("1", "北", box(10.0, 59.5, 11.0, 60.5))], href,
                        width=640, max_height=520, padding=12)
    assert svg is not None
    assert svg.height == 520  # taller than wide at 60°N: the height is the limit
    xs, ys = zip(*points(svg.shapes[0].d), strict=True)
    assert min(ys) == 12.0 and max(ys) == 508.0
    drawn_width = max(xs) - min(xs)
    assert math.isclose(drawn_width / 496, math.cos(math.radians(60)), rel_tol=0.01)
    assert math.isclose((min(xs) + max(xs)) / 2, 320, abs_tol=0.2)  # centred


def test_wide_shapes_take_the_width_and_a_smaller_height() -> None:
    svg = build_svg_map([feature("1", "宽", box(120.0, 0.0, 124.0, 1.0))], href, width=640)
    assert svg is not None
    xs = [x for x, _y in points(svg.shapes[0].d)]
    assert min(xs) == 12.0 and max(xs) == 628.0
    assert svg.height == round(616 / 4 + 24)
    assert svg.view_box == f"0 0 640 {svg.height}"


def test_multipolygons_and_holes_become_subpaths_and_empty_geometries_are_skipped() -> None:
    outer = box(0, 0, 4, 4)["coordinates"][0]
    hole = box(1, 1, 2, 2)["coordinates"][0]
    multi = {"type": "MultiPolygon", "coordinates": [[outer, hole],
                                                     box(5, 0, 6, 1)["coordinates"]]}
    svg = build_svg_map([feature("1", "甲", multi), feature("2", "乙", None)], href)
    assert svg is not None and len(svg.shapes) == 1
    assert svg.shapes[0].d.count("M") == 3 and svg.shapes[0].d.count("Z") == 3
    assert build_svg_map([feature("2", "乙", None)], href) is None
    assert render_svg_map({"type": "FeatureCollection", "features": []}, href, title="空") == ""


def test_rendered_map_links_each_feature_with_a_title_and_escapes_names() -> None:
    html = render_svg_map(
        {"type": "FeatureCollection", "features": [
            feature("1", "东区", box(0, 0, 1, 1)),
            feature("2", "<script>x</script>", box(1, 0, 2, 1)),
        ]},
        href, title="测试地图", current="1",
    )
    assert html.count('<a class="map-shape') == 2
    assert '<title id="region-map-title">测试地图</title>' in html
    assert 'href="/r/1/" aria-current="page"><title>东区</title>' in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "style=" not in html


def test_neighbours_get_different_colours() -> None:
    row = [feature(str(i), f"格{i}", box(i, 0, i + 1, 1)) for i in range(6)]
    svg = build_svg_map(row, href)
    assert svg is not None
    colours = [s.colour for s in svg.shapes]
    assert all(a != b for a, b in itertools.pairwise(colours))
    assert max(colours) <= 1  # a strip needs two colours only


def test_names_may_come_from_the_caller_for_titles_and_labels() -> None:
    named = feature("1", "青山区", box(0, 0, 1, 1))
    named["properties"]["name_en"] = "Qingshan District"
    html = render_svg_map([named], href, title="Map",
                          name_for=lambda f: f["properties"]["name_en"])
    assert "<title>Qingshan District</title>" in html
    assert ">Qingshan District</text>" in html
    assert "青山区" not in html
    numbered = render_svg_map([named], href, title="Map", name_for=lambda f: "Grid 1",
                              label_for=lambda f: "1")
    assert "<title>Grid 1</title>" in numbered and ">1</text>" in numbered
