"""Public facade of the GIS platform (地理信息平台): layers of city components and points of
interest, spatial queries over them and over the regions and grids, and the GeoJSON that
OGC API Features and the maps serve.

Spatial index: every feature keeps its bounding box in four columns covered by two
composite indexes (per layer); a box, radius or polygon query first narrows by box in SQL,
then tests the exact geometry with shapely. Point-in-grid is the regions app's in-process
index (ADR 0009). Coordinates are WGS84 longitude/latitude (RFC 7946).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import shapely
import shapely.errors
import shapely.ops
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from shapely.geometry import Point, mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.prepared import prep

from yiwang.core.audit import service as audit
from yiwang.platform.regions import service as regions
from yiwang.support.gis.models import Feature, Layer, LayerKind

__all__ = [
    "Feature",
    "Layer",
    "LayerKind",
    "NearbyFeature",
    "around",
    "create_layer",
    "distance_m",
    "feature_geojson",
    "features",
    "get_layer",
    "grid_at",
    "layers",
    "load_features",
    "nearby",
    "parse_bbox",
    "save_feature",
    "within",
]

GEOMETRY_TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                  "MultiPolygon")
EARTH_M = 6_371_008.8
BATCH = 500


@dataclass(frozen=True)
class NearbyFeature:
    feature: Feature
    metres: float


def _error(message: str, code: str, field: str | None = None) -> ValidationError:
    error = ValidationError(message, code=code)
    return ValidationError({field: [error]}) if field else error


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_M * math.asin(min(1.0, math.sqrt(a)))


def around(lon: float, lat: float, metres: float) -> tuple[float, float, float, float]:
    """The box (min lon, min lat, max lon, max lat) holding every point within ``metres`` of
    a point: the SQL prefilter of a radius query, before the exact distance."""
    dlat = metres / 111_320
    dlon = metres / (111_320 * max(0.01, math.cos(math.radians(lat))))
    return lon - dlon, lat - dlat, lon + dlon, lat + dlat


def parse_geometry(geojson: Any) -> BaseGeometry:
    """A GeoJSON geometry of the supported types, valid and in WGS84 range, as shapely."""
    if not isinstance(geojson, Mapping) or geojson.get("type") not in GEOMETRY_TYPES:
        raise _error(_("几何须为 GeoJSON 的 %(types)s 之一") % {"types": "、".join(GEOMETRY_TYPES)},
                     "bad_geometry", "geometry")
    try:
        geometry = shape(geojson)
    except (ValueError, TypeError, AttributeError, IndexError, shapely.errors.ShapelyError):
        raise _error(_("几何坐标格式不正确"), "bad_geometry", "geometry") from None
    if geometry.is_empty:
        raise _error(_("几何不能为空"), "bad_geometry", "geometry")
    min_lon, min_lat, max_lon, max_lat = geometry.bounds
    if not all(math.isfinite(v) for v in geometry.bounds) or min_lon < -180 or \
            max_lon > 180 or min_lat < -90 or max_lat > 90:
        raise _error(_("坐标须为 WGS84 经纬度"), "bad_geometry", "geometry")
    if not geometry.is_valid:
        raise _error(_("几何自相交或不闭合"), "bad_geometry", "geometry")
    return geometry


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``minLon,minLat,maxLon,maxLat`` as four floats; ValidationError otherwise."""
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise _error(_("bbox 须为“最小经度,最小纬度,最大经度,最大纬度”"), "bad_bbox", "bbox")
    min_lon, min_lat, max_lon, max_lat = values
    if min_lon > max_lon or min_lat > max_lat or min_lat < -90 or max_lat > 90:
        raise _error(_("bbox 的最小值不能大于最大值，纬度须在 ±90 之内"), "bad_bbox", "bbox")
    return values


# --- layers -------------------------------------------------------------------------------

def layers(*, public_only: bool = False) -> QuerySet[Layer]:
    rows = Layer.objects.all()
    return rows.filter(public=True) if public_only else rows


def get_layer(code: str) -> Layer:
    try:
        return Layer.objects.get(code=code)
    except Layer.DoesNotExist:
        raise Layer.DoesNotExist(_("图层 %(code)s 不存在") % {"code": code[:48]}) from None


@transaction.atomic
def create_layer(code: str, name: str, *, kind: str, name_en: str = "", description: str = "",
                 category_code: str = "", department_code: str = "", public: bool = True,
                 style: dict[str, Any] | None = None, sort_order: int = 0,
                 actor: Any = None) -> Layer:
    """Create (or update) a layer."""
    layer = Layer.objects.filter(code=code).first() or Layer(code=code)
    layer.name, layer.name_en, layer.kind = name, name_en, kind
    layer.description, layer.category_code = description, category_code
    layer.department_code, layer.public = department_code, public
    layer.style, layer.sort_order = style or {}, sort_order
    layer.full_clean()
    layer.save()
    audit.record("gis.layer_saved", layer, actor=actor, detail={"code": code})
    return layer


# --- features -----------------------------------------------------------------------------

def _derive(feature: Feature) -> None:
    geometry = parse_geometry(feature.geometry)
    point = geometry if geometry.geom_type == "Point" else geometry.representative_point()
    grid = regions.grid_at(point.x, point.y)
    if grid is None:
        raise _error(_("要素 %(code)s 不在本市任何网格内") % {"code": feature.code},
                     "outside_city", "geometry")
    feature.geometry = mapping(geometry)
    feature.geometry = {"type": feature.geometry["type"],
                        "coordinates": _lists(feature.geometry["coordinates"])}
    feature.lon, feature.lat = float(point.x), float(point.y)
    feature.min_lon, feature.min_lat, feature.max_lon, feature.max_lat = (
        float(v) for v in geometry.bounds)
    feature.grid_code, feature.district_code = grid.code, grid.district_code


def _lists(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_lists(v) for v in value]
    return float(value)


@transaction.atomic
def save_feature(layer_code: str, code: str, geometry: Mapping[str, Any], *, name: str = "",
                 properties: Mapping[str, Any] | None = None, status: str = "") -> Feature:
    """Create or update one feature of a layer."""
    layer = get_layer(layer_code)
    feature = Feature.objects.filter(layer=layer, code=code).first() or Feature(
        layer=layer, code=code)
    feature.name, feature.status = name, status
    feature.properties = dict(properties or {})
    feature.geometry = dict(geometry)
    _derive(feature)
    feature.full_clean(exclude=["layer"])
    feature.save()
    return feature


def load_features(layer_code: str, rows: Iterable[Mapping[str, Any]],
                  progress: Callable[[int], None] | None = None) -> int:
    """Create or update many features (``code``, ``geometry``, ``name``, ``properties``,
    ``status``) in batches; every row is checked, and a bad one stops the load naming its
    code (the batches before it stay)."""
    layer = get_layer(layer_code)
    count = 0
    batch: list[Feature] = []

    def flush() -> None:
        with transaction.atomic():
            Feature.objects.bulk_create(
                batch, update_conflicts=True, unique_fields=["layer", "code"],
                update_fields=["name", "properties", "status", "geometry", "lon", "lat",
                               "min_lon", "min_lat", "max_lon", "max_lat", "grid_code",
                               "district_code", "updated_at"])
        if progress:
            progress(len(batch))
        batch.clear()

    for row in rows:
        feature = Feature(layer=layer, code=str(row.get("code") or ""),
                          name=str(row.get("name") or ""),
                          properties=dict(row.get("properties") or {}),
                          status=str(row.get("status") or ""), geometry=row.get("geometry"))
        if not feature.code:
            raise _error(_("第 %(n)s 个要素缺少编码") % {"n": count + 1}, "no_code", "code")
        _derive(feature)
        batch.append(feature)
        count += 1
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    return count


def _box_q(min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> Q:
    return Q(min_lon__lte=max_lon, max_lon__gte=min_lon, min_lat__lte=max_lat,
             max_lat__gte=min_lat)


def features(layer_code: str, *, bbox: Sequence[float] | None = None) -> QuerySet[Feature]:
    """A layer's features, ordered by code, whose bounding box meets ``bbox``."""
    rows = Feature.objects.filter(layer__code=layer_code)
    if bbox is not None:
        rows = rows.filter(_box_q(*bbox))
    return rows.order_by("code")


def nearby(lon: float, lat: float, metres: float, *, layer_codes: Sequence[str] | None = None,
           limit: int = 50) -> list[NearbyFeature]:
    """Features within ``metres`` of a point (by their nearest part), nearest first."""
    if not 0 < metres <= 50_000:
        raise _error(_("半径须在 0 至 50000 米之间"), "bad_radius", "metres")
    rows = Feature.objects.filter(_box_q(*around(lon, lat, metres)))
    if layer_codes:
        rows = rows.filter(layer__code__in=layer_codes)
    here = Point(lon, lat)
    found = []
    for feature in rows.select_related("layer")[:5000]:
        geometry = shape(feature.geometry)
        nearest = shapely.ops.nearest_points(geometry, here)[0] if geometry.geom_type != \
            "Point" else geometry
        d = distance_m(lon, lat, nearest.x, nearest.y)
        if d <= metres:
            found.append(NearbyFeature(feature, d))
    found.sort(key=lambda f: (f.metres, f.feature.code))
    return found[:limit]


def within(area: Mapping[str, Any], *, layer_codes: Sequence[str] | None = None,
           limit: int = 1000) -> list[Feature]:
    """Features lying within a polygon (GeoJSON), ordered by layer and code."""
    polygon = parse_geometry(area)
    if polygon.geom_type not in ("Polygon", "MultiPolygon"):
        raise _error(_("范围须为多边形"), "bad_area", "geometry")
    rows = Feature.objects.filter(_box_q(*polygon.bounds))
    if layer_codes:
        rows = rows.filter(layer__code__in=layer_codes)
    prepared = prep(polygon)
    out = [f for f in rows.select_related("layer").order_by("layer__code", "code")[:20000]
           if prepared.contains(shape(f.geometry))]
    return out[:limit]


def grid_at(lon: float, lat: float) -> Any:
    """The grid containing the point, or None (the regions app's index)."""
    return regions.grid_at(lon, lat)


def feature_geojson(feature: Feature) -> dict[str, Any]:
    """A GeoJSON Feature: ``id`` ``layer/code``; properties code, name, layer, status,
    grid, district and the feature's own properties."""
    return {"type": "Feature", "id": f"{feature.layer.code}.{feature.code}",
            "geometry": feature.geometry,
            "properties": {**feature.properties, "code": feature.code, "name": feature.name,
                           "layer": feature.layer.code, "status": feature.status,
                           "grid": feature.grid_code, "district": feature.district_code}}
