"""OGC API – Features – Part 1: Core, with GeoJSON, under ``/ogcapi/`` on both listeners.

Collections: ``districts``, ``streets``, ``communities`` (the administrative divisions),
``grids`` (万米单元网格) and every GIS layer (``manholes``, ``streetlights``…) — on the
public listener only the layers marked public. ``items`` takes ``limit`` (1–10,000,
default 10), ``offset``, ``bbox`` (CRS84: ``minLon,minLat,maxLon,maxLat``) and
``datetime`` (accepted; the collections have no time dimension); any other parameter is a
400, as the standard requires. Items are ``application/geo+json`` with ``numberMatched``,
``numberReturned``, ``timeStamp`` and ``next``/``prev`` links.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from yiwang.platform.regions import service as regions
from yiwang.platform.zones.service import Zone, zone_of
from yiwang.support.gis import service as gis

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
]
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
ALLOWED = {"limit", "offset", "bbox", "bbox-crs", "datetime", "f"}
MAX_LIMIT = 10_000
LEVELS = {"districts": ("district", "区县", "Districts"),
          "streets": ("street", "街道（乡镇）", "Streets and towns"),
          "communities": ("community", "社区（村）", "Communities and villages")}


def _json(data: Any, status: int = 200, content_type: str = "application/json") -> HttpResponse:
    response = HttpResponse(json.dumps(data, ensure_ascii=False, default=str), status=status,
                            content_type=f"{content_type}; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _problem(status: int, title: str, detail: str) -> HttpResponse:
    return _json({"code": status, "title": title, "description": detail}, status)


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/ogcapi")


def _public(request: HttpRequest) -> bool:
    return zone_of(request) != Zone.INTERNAL


def guarded(view: Any) -> Any:
    """On the internal listener (which also serves the layers that are not public) only a
    signed-in official reads; on the public listener anyone reads the public data."""
    from functools import wraps

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not _public(request):
            user = getattr(request, "user", None)
            if user is None or not user.is_authenticated or not user.is_staff:
                return _problem(401, "Unauthorized", "请先登录工作台")
        response: HttpResponse = view(request, *args, **kwargs)
        return response

    return wrapper


def _collections(request: HttpRequest) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for cid, (_level, title, _en) in LEVELS.items():
        out[cid] = {"title": title, "description": f"{title}边界（GB/T 2260 区划代码）"}
    out["grids"] = {"title": "网格", "description": "万米单元网格（15位网格编码）"}
    for layer in gis.layers(public_only=_public(request)):
        out[layer.code] = {"title": layer.name, "description": layer.description or layer.name}
    return out


def _collection(request: HttpRequest, cid: str, meta: dict[str, Any]) -> dict[str, Any]:
    base = f"{_base(request)}/collections/{cid}"
    return {"id": cid, "title": meta["title"], "description": meta["description"],
            "itemType": "feature", "crs": [CRS84],
            "extent": {"spatial": {"bbox": [[-180, -90, 180, 90]], "crs": CRS84}},
            "links": [{"href": base, "rel": "self", "type": "application/json",
                       "title": meta["title"]},
                      {"href": f"{base}/items", "rel": "items",
                       "type": "application/geo+json", "title": meta["title"]}]}


@require_GET
def landing(request: HttpRequest) -> HttpResponse:
    base = _base(request)
    return _json({"title": "一网 GIS — OGC API Features",
                  "description": "行政区划、网格、城市部件与兴趣点",
                  "links": [
                      {"href": f"{base}/", "rel": "self", "type": "application/json"},
                      {"href": f"{base}/conformance", "rel": "conformance",
                       "type": "application/json"},
                      {"href": f"{base}/collections", "rel": "data",
                       "type": "application/json"}]})


@require_GET
def conformance(request: HttpRequest) -> HttpResponse:
    return _json({"conformsTo": CONFORMANCE})


@require_GET
def collections(request: HttpRequest) -> HttpResponse:
    found = _collections(request)
    return _json({"links": [{"href": f"{_base(request)}/collections", "rel": "self",
                             "type": "application/json"}],
                  "collections": [_collection(request, cid, meta)
                                  for cid, meta in found.items()]})


@require_GET
def collection(request: HttpRequest, cid: str) -> HttpResponse:
    found = _collections(request)
    if cid not in found:
        return _problem(404, "Not Found", f"没有名为 {cid[:48]} 的数据集")
    return _json(_collection(request, cid, found[cid]))


def _box(rows: QuerySet[Any], bbox: tuple[float, float, float, float] | None) -> QuerySet[Any]:
    if bbox is None:
        return rows
    min_lon, min_lat, max_lon, max_lat = bbox
    return rows.filter(Q(min_lon__lte=max_lon, max_lon__gte=min_lon, min_lat__lte=max_lat,
                         max_lat__gte=min_lat))


def _region_feature(region: Any) -> dict[str, Any]:
    return {"type": "Feature", "id": region.code, "geometry": region.geometry,
            "properties": {"code": region.code, "name": region.name,
                           "name_en": region.name_en, "level": region.level,
                           "parent": region.parent_id, "population": region.population}}


def _grid_feature(grid: Any) -> dict[str, Any]:
    return {"type": "Feature", "id": grid.code, "geometry": grid.geometry,
            "properties": {"code": grid.code, "name": grid.name,
                           "community": grid.community_id, "street": grid.street_code,
                           "district": grid.district_code, "area_km2": grid.area_km2}}


def _source(request: HttpRequest, cid: str) -> tuple[QuerySet[Any], Any] | None:
    if cid in LEVELS:
        rows = regions.list_regions(level=LEVELS[cid][0]).filter(min_lon__isnull=False)
        return rows, _region_feature
    if cid == "grids":
        return regions.all_grids(), _grid_feature
    layer = gis.layers(public_only=_public(request)).filter(code=cid).first()
    if layer is None:
        return None
    return gis.features(layer.code).select_related("layer"), gis.feature_geojson


def _params(request: HttpRequest) -> tuple[int, int, tuple[float, float, float, float] | None]:
    unknown = set(request.GET) - ALLOWED
    if unknown:
        raise ValidationError(f"不支持的参数：{', '.join(sorted(unknown))[:100]}")
    try:
        limit = int(request.GET.get("limit", 10))
        offset = int(request.GET.get("offset", 0))
    except ValueError:
        raise ValidationError("limit 与 offset 须为整数") from None
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise ValidationError(f"limit 须在 1 至 {MAX_LIMIT} 之间，offset 不能为负")
    crs = request.GET.get("bbox-crs")
    if crs and crs != CRS84:
        raise ValidationError(f"bbox-crs 只支持 {CRS84}")
    bbox = gis.parse_bbox(request.GET["bbox"]) if request.GET.get("bbox") else None
    return limit, offset, bbox


@require_GET
def items(request: HttpRequest, cid: str) -> HttpResponse:
    source = _source(request, cid)
    if source is None:
        return _problem(404, "Not Found", f"没有名为 {cid[:48]} 的数据集")
    try:
        limit, offset, bbox = _params(request)
    except ValidationError as exc:
        return _problem(400, "Bad Request", "；".join(exc.messages))
    rows, render = source
    rows = _box(rows, bbox)
    matched = rows.count()
    page = [render(row) for row in rows[offset:offset + limit]]
    base = f"{_base(request)}/collections/{cid}/items"
    keep = {k: v for k, v in request.GET.items() if k not in ("offset", "limit")}

    def link(rel: str, start: int) -> dict[str, Any]:
        query = "&".join(f"{k}={v}" for k, v in {**keep, "limit": limit,
                                                  "offset": start}.items())
        return {"href": f"{base}?{query}", "rel": rel, "type": "application/geo+json"}

    links = [link("self", offset),
             {"href": f"{_base(request)}/collections/{cid}", "rel": "collection",
              "type": "application/json"}]
    if offset + limit < matched:
        links.append(link("next", offset + limit))
    if offset > 0:
        links.append(link("prev", max(0, offset - limit)))
    return _json({"type": "FeatureCollection", "features": page, "numberMatched": matched,
                  "numberReturned": len(page),
                  "timeStamp": timezone.now().isoformat(timespec="seconds"), "links": links},
                 content_type="application/geo+json")


@require_GET
def item(request: HttpRequest, cid: str, fid: str) -> HttpResponse:
    source = _source(request, cid)
    if source is None:
        return _problem(404, "Not Found", f"没有名为 {cid[:48]} 的数据集")
    rows, render = source
    if cid in LEVELS or cid == "grids":
        found = rows.filter(pk=fid).first()
    else:
        found = rows.filter(code=fid.removeprefix(f"{cid}.")).first()
    if found is None:
        return _problem(404, "Not Found", f"数据集 {cid[:48]} 中没有要素 {fid[:64]}")
    feature = render(found)
    feature["links"] = [{"href": f"{_base(request)}/collections/{cid}/items/{fid}",
                         "rel": "self", "type": "application/geo+json"},
                        {"href": f"{_base(request)}/collections/{cid}", "rel": "collection",
                         "type": "application/json"}]
    return _json(feature, content_type="application/geo+json")


urlpatterns = [
    path("", guarded(landing), name="ogcapi-landing"),
    path("conformance", guarded(conformance), name="ogcapi-conformance"),
    path("collections", guarded(collections), name="ogcapi-collections"),
    path("collections/<str:cid>", guarded(collection), name="ogcapi-collection"),
    path("collections/<str:cid>/items", guarded(items), name="ogcapi-items"),
    path("collections/<str:cid>/items/<str:fid>", guarded(item), name="ogcapi-item"),
]
