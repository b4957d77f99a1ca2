"""Public API of the administrative tree and grids: /api/v1/regions, /api/v1/grids.

Thin: each endpoint validates its input and calls ``yiwang.platform.regions.service``.
Errors are ``{"detail": "..."}``: 400 for a malformed code or coordinates, 404 for an unknown
region or a point outside every grid (422 when a parameter cannot be parsed at all).
"""

from __future__ import annotations

from typing import Any, Literal

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import Field, Query, Router, Schema, Status

from yiwang.platform.regions import service as regions

router = Router(tags=["regions"])
grids_router = Router(tags=["grids"])


class Message(Schema):
    detail: str = Field(description="错误说明")


class RegionRef(Schema):
    code: str = Field(description="12位区划代码")
    name: str = Field(description="名称")
    level: regions.Level = Field(description="层级：province 省, city 市, district 区县, "
                                             "street 街道, community 社区")
    level_label: str = Field(description="层级名称")


class RegionOut(RegionRef):
    name_en: str = Field(description="英文名称")
    parent_code: str | None = Field(description="上级区划代码（顶级为空）")
    child_count: int = Field(description="直接下级区划数量")
    population: int | None = Field(description="人口")
    area_km2: float | None = Field(description="面积（平方公里）")
    centroid: list[float] | None = Field(description="中心点 [经度, 纬度]（WGS84）")


class RegionQuery(Schema):
    parent: str | None = Field(None, description="上级区划代码：列出其下级（与 level 同用时列出"
                                                 "该层级的全部下级）")
    level: regions.Level | None = Field(None, description="只列出该层级")
    limit: int = Field(50, ge=1, le=500, description="每页数量（1–500）")
    offset: int = Field(0, ge=0, le=1_000_000_000, description="起始位置")


class RegionPage(Schema):
    count: int = Field(description="符合条件的总数")
    limit: int = Field(description="每页数量")
    offset: int = Field(description="起始位置")
    items: list[RegionOut] = Field(description="本页区划")


class RegionDetail(RegionOut):
    ancestors: list[RegionRef] = Field(description="上级区划，自顶级起")
    counts: dict[str, int] = Field(description="下级数量：children 直接下级，各层级下级总数，"
                                               "grids 网格数")
    bbox: list[float] | None = Field(
        description="外接矩形 [最小经度, 最小纬度, 最大经度, 最大纬度]")


class PointQuery(Schema):
    # Ranges are checked by the service (400 with a message), not here (422).
    lon: float = Field(description="经度（WGS84，-180 至 180）")
    lat: float = Field(description="纬度（WGS84，-90 至 90）")


class GridOut(Schema):
    code: str = Field(description="15位网格编码（社区代码 + 3位序号）")
    name: str = Field(description="网格名称")
    community_code: str = Field(description="所属社区代码")
    street_code: str = Field(description="所属街道代码")
    district_code: str = Field(description="所属区县代码")
    area_km2: float = Field(description="面积（平方公里）")
    regions: list[RegionRef] = Field(description="所在区划，自顶级至社区")


class Feature(Schema):
    type: Literal["Feature"] = Field(description="GeoJSON 要素")
    id: str = Field(description="代码")
    geometry: dict[str, Any] | None = Field(description="边界（GeoJSON，WGS84），可为空")
    properties: dict[str, Any] = Field(description="属性：code 代码, name 名称, level 层级等")


class FeatureCollection(Schema):
    type: Literal["FeatureCollection"] = Field(description="GeoJSON 要素集合")
    features: list[Feature] = Field(description="要素")


def _problem(exc: Exception) -> Status[dict[str, str]]:
    if isinstance(exc, ValidationError):
        return Status(400, {"detail": "；".join(exc.messages)})
    return Status(404, {"detail": str(exc) or gettext("未找到")})


def _ref(region: regions.Region) -> dict[str, Any]:
    return {"code": region.code, "name": region.name, "level": region.level,
            "level_label": regions.level_label(region.level)}


def _out(region: regions.Region, child_count: int) -> dict[str, Any]:
    centroid = (None if region.centroid_lon is None
                else [region.centroid_lon, region.centroid_lat])
    return {**_ref(region), "name_en": region.name_en, "parent_code": region.parent_id,
            "child_count": child_count, "population": region.population,
            "area_km2": region.area_km2, "centroid": centroid}


@router.get("", response={200: RegionPage, 400: Message, 404: Message},
            summary="List regions (top-level, children of a parent, or by level)")
def list_regions(request: HttpRequest, params: Query[RegionQuery]) -> Any:
    try:
        qs = regions.list_regions(params.parent, params.level)
        count = qs.count()
    except (ValidationError, ObjectDoesNotExist) as exc:
        return _problem(exc)
    page = qs[params.offset:params.offset + params.limit]
    items = [_out(r, r.child_count) for r in page]  # type: ignore[attr-defined]
    return {"count": count, "limit": params.limit, "offset": params.offset, "items": items}


@router.get("/{code}", response={200: RegionDetail, 400: Message, 404: Message},
            summary="One region with its ancestors and counts below it")
def get_region(request: HttpRequest, code: str) -> Any:
    try:
        region = regions.get_region(code)
    except (ValidationError, ObjectDoesNotExist) as exc:
        return _problem(exc)
    counts = regions.stats(region.code)
    bbox = (None if region.min_lon is None
            else [region.min_lon, region.min_lat, region.max_lon, region.max_lat])
    return {**_out(region, counts["children"]),
            "ancestors": [_ref(r) for r in regions.ancestors(region)],
            "counts": counts, "bbox": bbox}


@router.get("/{code}/geojson", response={200: FeatureCollection, 400: Message, 404: Message},
            summary="The children of a region as a GeoJSON FeatureCollection")
def region_children_geojson(request: HttpRequest, code: str) -> Any:
    try:
        return regions.regions_geojson(code)
    except (ValidationError, ObjectDoesNotExist) as exc:
        return _problem(exc)


@router.get("/{code}/grids", response={200: FeatureCollection, 400: Message, 404: Message},
            summary="The grids inside a region as a GeoJSON FeatureCollection")
def region_grids_geojson(request: HttpRequest, code: str) -> Any:
    try:
        return regions.grids_geojson(code)
    except (ValidationError, ObjectDoesNotExist) as exc:
        return _problem(exc)


@grids_router.get("/at", response={200: GridOut, 400: Message, 404: Message},
                  summary="Which grid contains a point")
def grid_at(request: HttpRequest, point: Query[PointQuery]) -> Any:
    try:
        grid = regions.grid_at(point.lon, point.lat)
    except ValidationError as exc:
        return _problem(exc)
    if grid is None:
        return Status(404, {"detail": gettext("该位置不在任何网格内")})
    community = regions.get_region(grid.community_id)
    return {"code": grid.code, "name": grid.name, "community_code": grid.community_id,
            "street_code": grid.street_code, "district_code": grid.district_code,
            "area_km2": grid.area_km2,
            "regions": [_ref(r) for r in [*regions.ancestors(community), community]]}
