"""Server-side SVG maps of GeoJSON features (区划地图), for browsers without any map library.

The projection is equirectangular with the longitudes scaled by cos(latitude) at the centre of
the map: at the size of a city, the distortion is far below what a reader can see, and it needs
no projection library. Each feature becomes one ``<path>`` inside an ``<a>`` link with a
``<title>``, so that the map works with the keyboard and a screen reader; the page shows the
same features as a table too (the text alternative).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from shapely.errors import ShapelyError
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

Feature = Mapping[str, Any]
Ring = Sequence[Sequence[float]]

# Labels on more shapes than this would overlap into noise; the table still names them all.
MAX_LABELS = 40
PALETTE_SIZE = 6
# Colouring neighbours apart compares every pair of shapes: keep it to maps of this size.
MAX_COLOURED = 150


@dataclass(frozen=True)
class MapShape:
    code: str
    name: str
    label: str  # the text drawn on the shape (the name, or something shorter)
    d: str  # the SVG path data
    href: str
    colour: int  # index in the stylesheet's palette (map-shape--N)
    label_x: float
    label_y: float
    current: bool = False  # the page's own feature, marked on the map


@dataclass(frozen=True)
class SvgMap:
    width: int
    height: int
    shapes: list[MapShape]
    label_size: float
    show_labels: bool

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"


def _polygons(geometry: Mapping[str, Any] | None) -> list[list[Ring]]:
    """The polygons (each a list of rings, outer first) of a Polygon or MultiPolygon."""
    if not geometry:
        return []
    kind = geometry.get("type")
    coordinates = geometry.get("coordinates") or []
    if kind == "Polygon":
        return [coordinates]
    if kind == "MultiPolygon":
        return list(coordinates)
    if kind == "GeometryCollection":
        return [p for g in geometry.get("geometries") or [] for p in _polygons(g)]
    return []


def _features(features: Mapping[str, Any] | Iterable[Feature]) -> list[Feature]:
    if isinstance(features, Mapping):  # a FeatureCollection
        return list(features.get("features") or [])
    return list(features)


class _Projection:
    """Longitude/latitude → viewBox units, fitted into width × at most max_height."""

    def __init__(self, bounds: tuple[float, float, float, float], width: int, max_height: int,
                 padding: int) -> None:
        min_lon, min_lat, max_lon, max_lat = bounds
        self.kx = math.cos(math.radians((min_lat + max_lat) / 2))
        span_x = (max_lon - min_lon) * self.kx
        span_y = max_lat - min_lat
        inner_w, inner_h = width - 2 * padding, max_height - 2 * padding
        scales = [s for s in (inner_w / span_x if span_x else 0, inner_h / span_y if span_y else 0)
                  if s > 0]
        self.scale = min(scales) if scales else 1.0
        self.width = width
        self.height = max(1, round(span_y * self.scale + 2 * padding))
        # Centre horizontally when the shape is taller than wide.
        self.offset_x = (width - span_x * self.scale) / 2
        self.offset_y = padding
        self.min_lon, self.max_lat = min_lon, max_lat

    def __call__(self, lon: float, lat: float) -> tuple[float, float]:
        x = self.offset_x + (lon - self.min_lon) * self.kx * self.scale
        y = self.offset_y + (self.max_lat - lat) * self.scale
        return x, y


def _path(polygons: list[list[Ring]], project: _Projection) -> str:
    parts: list[str] = []
    for polygon in polygons:
        for ring in polygon:
            points: list[str] = []
            for position in ring:
                x, y = project(float(position[0]), float(position[1]))
                point = f"{x:.1f} {y:.1f}"
                if not points or points[-1] != point:  # rounding merges near points
                    points.append(point)
            if len(points) >= 3:
                parts.append("M" + "L".join(points) + "Z")
    return "".join(parts)


def _shape(polygons: list[list[Ring]]) -> BaseGeometry | None:
    """The feature as a shapely geometry, or None when it is not a usable polygon."""
    try:
        shape = MultiPolygon([Polygon(p[0], p[1:]) for p in polygons if p and len(p[0]) >= 4])
    except (ValueError, TypeError, IndexError, ShapelyError):
        return None
    return None if shape.is_empty else shape


def _label_point(polygons: list[list[Ring]], shape: BaseGeometry | None) -> tuple[float, float]:
    """A point inside the feature, for its label."""
    if shape is not None:
        try:
            point = shape.representative_point()
            return point.x, point.y
        except ShapelyError:
            pass  # an invalid geometry still gets a label, at the centre of its bounds
    xs = [float(pt[0]) for p in polygons for pt in p[0]]
    ys = [float(pt[1]) for p in polygons for pt in p[0]]
    return (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2


def _colours(shapes: list[BaseGeometry | None]) -> list[int]:
    """A palette index per shape such that neighbours (shapes that touch) differ when the
    palette allows: greedy colouring, in order. Beyond MAX_COLOURED shapes, by position."""
    if len(shapes) > MAX_COLOURED:
        return [i % PALETTE_SIZE for i in range(len(shapes))]
    colours: list[int] = []
    for i, shape in enumerate(shapes):
        taken = set()
        if shape is not None:
            for j in range(i):
                other = shapes[j]
                try:
                    if other is not None and shape.intersects(other):
                        taken.add(colours[j])
                except ShapelyError:
                    continue
        free = [c for c in range(PALETTE_SIZE) if c not in taken]
        colours.append(free[0] if free else i % PALETTE_SIZE)
    return colours


def build_svg_map(
    features: Mapping[str, Any] | Iterable[Feature],
    href_for: Callable[[Feature], str],
    *,
    width: int = 640,
    max_height: int = 520,
    padding: int = 12,
    current: str | None = None,
    label_for: Callable[[Feature], str] | None = None,
    name_for: Callable[[Feature], str] | None = None,
) -> SvgMap | None:
    """Project the polygon features into an SVG viewBox; None when none has a geometry.

    ``href_for`` gives the link of a feature (its ``properties`` carry ``code`` and ``name``);
    the feature whose code is ``current`` is marked as the current page. ``name_for`` gives
    a feature's name, for its ``<title>`` (default: the ``name`` property; the portal passes
    the name in the page's language); ``label_for`` the text drawn on a shape (default: its
    name).
    """
    drawable = [(f, _polygons(f.get("geometry"))) for f in _features(features)]
    drawable = [(f, polys) for f, polys in drawable if polys]
    if not drawable:
        return None
    lons = [float(pt[0]) for _f, polys in drawable for p in polys for ring in p for pt in ring]
    lats = [float(pt[1]) for _f, polys in drawable for p in polys for ring in p for pt in ring]
    project = _Projection((min(lons), min(lats), max(lons), max(lats)), width, max_height,
                          padding)
    geometries = [_shape(polygons) for _f, polygons in drawable]
    colours = _colours(geometries)
    shapes = []
    for index, (feature, polygons) in enumerate(drawable):
        properties = feature.get("properties") or {}
        lx, ly = project(*_label_point(polygons, geometries[index]))
        name = name_for(feature) if name_for else str(properties.get("name", ""))
        shapes.append(MapShape(
            code=str(properties.get("code", "")),
            name=name,
            label=label_for(feature) if label_for else name,
            d=_path(polygons, project),
            href=href_for(feature),
            colour=colours[index],
            label_x=round(lx, 1),
            label_y=round(ly, 1),
            current=current is not None and str(properties.get("code")) == current,
        ))
    return SvgMap(
        width=width,
        height=project.height,
        shapes=shapes,
        label_size=max(9.0, min(16.0, width / 40)),
        show_labels=len(shapes) <= MAX_LABELS,
    )


def render_svg_map(
    features: Mapping[str, Any] | Iterable[Feature],
    href_for: Callable[[Feature], str],
    *,
    title: str,
    map_id: str = "region-map",
    caption: str | None = None,
    width: int = 640,
    max_height: int = 520,
    current: str | None = None,
    label_for: Callable[[Feature], str] | None = None,
    name_for: Callable[[Feature], str] | None = None,
) -> SafeString:
    """The ``<figure>`` with the SVG map of the features, or an empty string if none has a shape.

    Each feature is a link (``href_for(feature)``) with a ``<title>``; ``title`` names the map;
    ``current`` is the code of the feature to mark as the current page, if any; ``name_for``
    a feature's name (default: its ``name`` property); ``label_for`` the text drawn on each
    shape (default: its name; the ``<title>`` is always the name).
    """
    svg_map = build_svg_map(features, href_for, width=width, max_height=max_height,
                            current=current, label_for=label_for, name_for=name_for)
    if svg_map is None:
        return SafeString("")
    return SafeString(render_to_string("includes/svg_map.html", {
        "map": svg_map, "title": title, "map_id": map_id, "caption": caption,
    }))
