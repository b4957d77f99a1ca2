"""The digital cockpit's API (数字驾驶舱): /api/v1/cockpit on the internal listener.

``GET /summary?region=<code>&days=30`` — a city, district, street or community: the
indicators of its cases over the last ``days`` days (see ``city.stats``), broken down by
source, category, department and child area, the daily trend, the high-frequency events,
the live open and overdue cases, and the perception platform's open alarms and device
health there. ``GET /levels`` — the regions the official may open.

Who sees what: an official with ``city.view_cockpit`` sees the regions their departments
govern and everything below them (a street office its street, a district its district and
streets, the city everything); a superuser sees all. Anything else answers 404.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext
from ninja import Field, Query, Router, Schema, Status

from yiwang.industry.city import service as city
from yiwang.platform.orgs import service as orgs
from yiwang.platform.perception import service as perception
from yiwang.platform.regions import service as regions

internal_router = Router(tags=["cockpit"])
VIEW = "city.view_cockpit"
LEVEL_NAMES = {"city": "市级", "district": "区县级", "street": "街道级", "community": "社区级"}


class Message(Schema):
    detail: str = Field(description="错误说明")


def top_regions(user: Any) -> list[str]:
    """The regions whose cockpits ``user`` may open (with everything below them)."""
    if user.is_superuser:
        return [r.code for r in regions.list_regions(level="city")]
    if not user.has_perm(VIEW):
        return []
    return sorted({d.region_id for d in orgs.departments_of(user)})


def may_view(user: Any, code: str, tops: list[str] | None = None) -> bool:
    """Whether ``user`` may open the cockpit of region ``code`` (``tops``: their
    :func:`top_regions`, when the caller has them already)."""
    return any(regions.covers(top, code) for top in (tops if tops is not None
                                                      else top_regions(user)))


class SummaryQuery(Schema):
    region: str = Field("", max_length=12, description="区划代码（默认：可查看的最高一级）")
    days: int = Field(30, ge=1, le=366, description="统计最近多少天")


def _names(codes: list[str]) -> dict[str, Any]:
    return regions.regions_by_code(codes)


@internal_router.get("/levels", response=list[dict[str, Any]],
                     summary="The regions whose cockpit I may open")
def levels(request: HttpRequest) -> Any:
    found = _names(top_regions(request.auth))
    return [{"code": code, "name": r.name, "level": r.level} for code, r in found.items()]


@internal_router.get("/summary", response={200: dict[str, Any], 404: Message},
                     summary="Indicators, breakdowns, trend, hotspots, alarms of a region")
def summary(request: HttpRequest, params: Query[SummaryQuery]) -> Any:
    user = request.auth
    tops = top_regions(user)
    code = params.region or next(iter(tops), "")
    try:
        region = regions.get_region(code) if code else None
    except Exception:  # a malformed or unknown code: the same answer as one out of reach
        region = None
    if region is None or not may_view(user, region.code, tops):
        return Status(404, {"detail": gettext("没有可查看的驾驶舱区域")})
    children = [r for r in regions.children(region.code)]
    end = timezone.localdate()
    start = end - timedelta(days=params.days - 1)
    figures = city.cockpit_summary(region.code, [c.code for c in children], start, end)
    categories = {c.code: c.name for c in city.CaseCategory.objects.all()}
    departments = {d.code: d.name for d in orgs.list_departments()}
    sources = dict(city.Source.choices)
    for dimension, names in (("category", categories), ("major", categories),
                             ("department", departments), ("source", sources)):
        for row in figures["by"].get(dimension, []):
            row["name"] = str(names.get(row["key"], row["key"] or gettext("未派遣")))
    child_by_code = {c.code: c for c in children}
    for area in figures["areas"]:
        child = child_by_code[area["code"]]
        area.update(name=child.name, lon=child.centroid_lon, lat=child.centroid_lat)
    communities = _names([h["community"] for h in figures["hotspots"]])
    for hotspot in figures["hotspots"]:
        place = communities.get(hotspot["community"])
        hotspot["community_name"] = place.name if place else hotspot["community"]
        hotspot["category_name"] = categories.get(hotspot["category"], hotspot["category"])
    ancestors = [r for r in regions.ancestors(region) if may_view(user, r.code, tops)]
    return {
        "region": {"code": region.code, "name": region.name, "level": region.level,
                   "level_name": LEVEL_NAMES.get(region.level, region.level),
                   "bbox": [region.min_lon, region.min_lat, region.max_lon, region.max_lat]
                   if region.min_lon is not None else None},
        "path": [{"code": r.code, "name": r.name} for r in ancestors],
        "children_level": children[0].level if children else None,
        "period": {"start": start.isoformat(), "end": end.isoformat(), "days": params.days},
        **figures,
        "perception": perception.region_summary(region.code),
    }
