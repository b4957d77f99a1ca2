"""GeoJSON geometries of regions and grids: validation and derived figures.

Coordinates are WGS84 longitude/latitude in degrees (RFC 7946). Only Polygon and
MultiPolygon are accepted: regions and grids are areas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import shapely
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

EARTH_RADIUS_M = 6378137.0  # WGS84 semi-major axis, as turf.js and most web maps use
_TYPES = ("Polygon", "MultiPolygon")


@dataclass(frozen=True)
class Figures:
    """What is derived from a geometry and stored beside it."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float
    centroid_lon: float
    centroid_lat: float
    area_km2: float


def _invalid(message: str, **params: Any) -> ValidationError:
    return ValidationError(message, code="invalid_geometry", params=params)


def _check_position(position: Any) -> None:
    if (not isinstance(position, list | tuple) or len(position) < 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool)
                       for v in position[:2])):
        raise _invalid(gettext("坐标须为 [经度, 纬度] 数值对：%(value)s"), value=str(position)[:80])
    lon, lat = float(position[0]), float(position[1])
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise _invalid(gettext("坐标不能为无穷大或非数值：%(value)s"), value=str(position)[:80])
    if not -180.0 <= lon <= 180.0:
        raise _invalid(gettext("经度须在 -180 到 180 之间：%(lon)s"), lon=lon)
    if not -90.0 <= lat <= 90.0:
        raise _invalid(gettext("纬度须在 -90 到 90 之间：%(lat)s"), lat=lat)


def _check_polygon(rings: Any) -> None:
    if not isinstance(rings, list | tuple) or not rings:
        raise _invalid(gettext("多边形至少要有一个外环"))
    for ring in rings:
        if not isinstance(ring, list | tuple) or len(ring) < 4:
            raise _invalid(gettext("多边形的每个环至少要有4个坐标（首尾相同）"))
        for position in ring:
            _check_position(position)
        if list(ring[0][:2]) != list(ring[-1][:2]):
            raise _invalid(gettext("多边形的环未闭合：首坐标 %(first)s 与末坐标 %(last)s 不同"),
                           first=list(ring[0][:2]), last=list(ring[-1][:2]))


def parse_geometry(geojson: Any) -> BaseGeometry:
    """Check a GeoJSON Polygon/MultiPolygon and return it as a shapely geometry.

    Raises ValidationError with a Chinese message naming the first problem found: wrong
    type, malformed or out-of-range coordinates, unclosed rings, or an invalid shape
    (self-intersection, overlapping parts…, as reported by GEOS).
    """
    if not isinstance(geojson, dict):
        raise _invalid(gettext("几何须为 GeoJSON 对象"))
    kind = geojson.get("type")
    if kind not in _TYPES:
        raise _invalid(gettext("几何类型须为 Polygon 或 MultiPolygon，而不是 %(kind)s"),
                       kind=str(kind)[:40])
    coordinates = geojson.get("coordinates")
    if kind == "Polygon":
        _check_polygon(coordinates)
    else:
        if not isinstance(coordinates, list | tuple) or not coordinates:
            raise _invalid(gettext("MultiPolygon 至少要有一个多边形"))
        for polygon in coordinates:
            _check_polygon(polygon)
    geometry = shape({"type": kind, "coordinates": coordinates})
    if geometry.is_empty:
        raise _invalid(gettext("几何为空"))
    if not geometry.is_valid:
        raise _invalid(gettext("几何无效：%(reason)s"), reason=shapely.is_valid_reason(geometry))
    if geometry.area == 0:
        raise _invalid(gettext("几何面积为零"))
    return geometry


def clean_geojson(geojson: dict[str, Any]) -> dict[str, Any]:
    """The geometry as stored: only ``type`` and ``coordinates`` (lists of floats)."""

    def lists(value: Any) -> Any:
        if isinstance(value, list | tuple):
            if value and isinstance(value[0], int | float):
                return [float(v) for v in value[:2]]
            return [lists(v) for v in value]
        return value

    return {"type": geojson["type"], "coordinates": lists(geojson["coordinates"])}


def _ring_area_m2(coords: Any) -> float:
    # Spherical excess approximation (Chamberlain & Duquette 2007, as in turf.js): exact
    # enough for administrative statistics at any latitude, no projection needed.
    points = coords[:-1] if len(coords) > 1 and coords[0] == coords[-1] else coords
    n = len(points)
    if n < 3:
        return 0.0
    total = 0.0
    for i in range(n):
        lon_prev = math.radians(points[i - 1][0])
        lon_next = math.radians(points[(i + 1) % n][0])
        total += (lon_next - lon_prev) * math.sin(math.radians(points[i][1]))
    return abs(total) * EARTH_RADIUS_M * EARTH_RADIUS_M / 2.0


def area_km2(geometry: BaseGeometry) -> float:
    """Area on the sphere in square kilometres (holes subtracted)."""
    polygons = getattr(geometry, "geoms", [geometry])
    total = 0.0
    for polygon in polygons:
        total += _ring_area_m2(list(polygon.exterior.coords))
        for hole in polygon.interiors:
            total -= _ring_area_m2(list(hole.coords))
    return total / 1_000_000.0


def figures(geometry: BaseGeometry) -> Figures:
    """Bounding box, centroid and area of a parsed geometry."""
    min_lon, min_lat, max_lon, max_lat = (float(v) for v in geometry.bounds)
    centroid = geometry.centroid
    return Figures(min_lon, min_lat, max_lon, max_lat, float(centroid.x), float(centroid.y),
                   area_km2(geometry))


def check_point(lon: Any, lat: Any) -> tuple[float, float]:
    """Return (lon, lat) as floats if they are finite and in range, else raise."""
    try:
        lon_f, lat_f = float(lon), float(lat)
    except (TypeError, ValueError):
        raise ValidationError(gettext("经纬度须为数值"), code="invalid_point") from None
    if not (math.isfinite(lon_f) and math.isfinite(lat_f)):
        raise ValidationError(gettext("经纬度不能为无穷大或非数值"), code="invalid_point")
    if not -180.0 <= lon_f <= 180.0:
        raise ValidationError(gettext("经度须在 -180 到 180 之间：%(lon)s"),
                              code="invalid_point", params={"lon": lon_f})
    if not -90.0 <= lat_f <= 90.0:
        raise ValidationError(gettext("纬度须在 -90 到 90 之间：%(lat)s"),
                              code="invalid_point", params={"lat": lat_f})
    return lon_f, lat_f
