"""Public facade of the portal app: the region browsing and the server-side SVG map, shared
with the workbench (which shows the same tree to officials, with its own links).

The pages themselves stay in ``views.py``; what lives here is the part that does not depend
on the zone: fetching a region with its ancestors, children and child counts, the city
overview, and rendering the map; from ``labels.py``, names and labels in the page's
language (``local_name``, ``level_label``…); and, from ``articles.py``, 政务公开 — the
departments' policy documents and notices (``save_article``, ``publish_article``…).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _

from yiwang.entry.portal.articles import (
    ON_CHANGE,
    PUBLISH_PERMISSION,
    department_articles,
    departments_of_writer,
    get_published,
    may_write,
    publish_article,
    published_articles,
    save_article,
    withdraw_article,
)
from yiwang.entry.portal.labels import (
    COUNT_LABELS,
    GRID,
    department_kind_label,
    enterprise_status_label,
    grid_name_en,
    grid_number,
    level_label,
    local_name,
)
from yiwang.entry.portal.models import Article, ArticleKind, ArticleState, Topic
from yiwang.entry.portal.svgmap import Feature, build_svg_map, render_svg_map
from yiwang.platform.orgs import service as orgs
from yiwang.platform.regions import service as regions

__all__ = [
    "ON_CHANGE",
    "PUBLISH_PERMISSION",
    "Article",
    "ArticleKind",
    "ArticleState",
    "Crumb",
    "Row",
    "Topic",
    "build_svg_map",
    "city_overview",
    "department_articles",
    "department_kind_label",
    "department_or_404",
    "departments_of_writer",
    "enterprise_status_label",
    "get_published",
    "grid_name_en",
    "grid_page_context",
    "home_region",
    "level_label",
    "local_name",
    "may_write",
    "publish_article",
    "published_articles",
    "region_or_404",
    "region_page_context",
    "render_svg_map",
    "save_article",
    "withdraw_article",
]

# Link to a region or a grid page of the caller's zone: link(code, is_grid).
Linker = Callable[[str, bool], str]

_NEXT_LEVEL = {
    regions.Level.PROVINCE: regions.Level.CITY,
    regions.Level.CITY: regions.Level.DISTRICT,
    regions.Level.DISTRICT: regions.Level.STREET,
    regions.Level.STREET: regions.Level.COMMUNITY,
}


@dataclass(frozen=True)
class Crumb:
    name: str
    href: str


@dataclass(frozen=True)
class Row:
    """One child of the region on the page: a region or a grid."""

    code: str
    name: str
    name_en: str
    level: str
    level_label: str
    href: str
    count: int | None  # its own children (regions, or grids for a community)


def region_or_404(code: str) -> Any:
    """The region, or Http404 for a malformed or unknown code."""
    try:
        return regions.get_region(code)
    except (ValidationError, ObjectDoesNotExist):
        raise Http404("no such region") from None


def grid_or_404(code: str) -> Any:
    try:
        return regions.get_grid(code)
    except (ValidationError, ObjectDoesNotExist):
        raise Http404("no such grid") from None


def department_or_404(code: str) -> Any:
    try:
        department = orgs.get_department(code)
    except (ValidationError, ObjectDoesNotExist):
        department = None
    if department is None:
        raise Http404("no such department")
    return department


def home_region() -> Any | None:
    """The region a city portal starts from: the single top-level region, or the city
    below a single province; None when there are several (or none)."""
    top = list(regions.children(None)[:2])
    while len(top) == 1 and top[0].level == regions.Level.PROVINCE:
        below = list(regions.children(top[0].code)[:2])
        if len(below) != 1:
            break
        top = below
    return top[0] if len(top) == 1 else None


def city_overview() -> list[tuple[str, int]]:
    """(label, count) of the home region's divisions, grids and departments, for the home
    page's 城市概况; empty when no region is loaded."""
    city = home_region()
    if city is None:
        return []
    figures = regions.stats(city.code)
    overview = [(str(COUNT_LABELS[level]), n) for level, n in _level_counts(figures)
                if level in COUNT_LABELS]
    overview.append((str(COUNT_LABELS[GRID]), int(figures.get("grids", 0))))
    overview.append((str(COUNT_LABELS["departments"]), orgs.list_departments().count()))
    return overview


def _level_counts(figures: dict[str, Any]) -> list[tuple[str, int]]:
    """(level, count) of the divisions below a region, top-down, from ``regions.stats``."""
    return [(level.value, int(figures[level.value])) for level in regions.Level
            if level.value in figures]


def _child_counts(region: Any, children: list[Any]) -> dict[str, int]:
    """How many regions (or, below communities, grids) each child has, in one query."""
    if not children:
        return {}
    counts: Counter[str] = Counter()
    next_levels = {_NEXT_LEVEL[c.level] for c in children if c.level in _NEXT_LEVEL}
    for level in next_levels:
        counts.update(regions.descendants(region, level=level)
                      .values_list("parent_id", flat=True))
    if any(c.level == regions.Level.COMMUNITY for c in children):
        counts.update(code[:12] for code in regions.grids_in(region)
                      .values_list("code", flat=True))
    return counts


def _grid_number(feature: Feature) -> str:
    """A grid's number within its community (the last 3 digits of its code), as a label."""
    return str(grid_number(str((feature.get("properties") or {}).get("code", "0"))))


def _feature_name(feature: Feature) -> str:
    """A region feature's name in the active language (its properties carry name_en)."""
    return local_name(feature.get("properties") or {})


def _community_names_en(known: dict[str, str]) -> Callable[[str], str]:
    """The English name of a community by code: from ``known``, else looked up (once)."""

    def english(code: str) -> str:
        if code not in known:
            try:
                known[code] = regions.get_region(code).name_en
            except (ValidationError, ObjectDoesNotExist):
                known[code] = ""
        return known[code]

    return english


def _grid_namer(community_en: Callable[[str], str]) -> Callable[[Feature], str]:
    """The name of a grid feature in the active language."""

    def name(feature: Feature) -> str:
        properties = feature.get("properties") or {}
        code = str(properties.get("code", ""))
        english = grid_name_en(code, community_en(str(properties.get("community") or code[:12])))
        return local_name({"name": properties.get("name", ""), "name_en": english})

    return name


def region_page_context(region: Any | None, link: Linker, *, index_href: str,
                        index_label: str | None = None) -> dict[str, Any]:
    """Everything a region page shows: breadcrumbs, facts, the map and the table of children.

    ``region`` None means the top of the tree. ``link(code, is_grid)`` is the caller's URL of
    a region or grid page; the breadcrumbs start with ``index_label`` (default 首页) linking to
    ``index_href``."""
    index_label = index_label or _("首页")
    crumbs = [Crumb(index_label, index_href)]
    if region is None:
        child_regions = list(regions.children(None))
        geojson = regions.regions_geojson(None)
        title = _("城市区划")
    else:
        crumbs += [Crumb(local_name(a), link(a.code, False)) for a in regions.ancestors(region)]
        child_regions = list(regions.children(region.code))
        geojson = regions.regions_geojson(region.code)
        title = local_name(region)

    rows: list[Row]
    name_for: Callable[[Feature], str] = _feature_name
    if child_regions or region is None:
        counts = _child_counts(region, child_regions) if region is not None else None
        rows = [Row(c.code, c.name, c.name_en, c.level, level_label(c.level),
                    link(c.code, False), None if counts is None else counts.get(c.code, 0))
                for c in child_regions]
        kind = "regions"
    else:
        grids = list(regions.grids_in(region))
        geojson = regions.grids_geojson(region.code)
        community_en = _community_names_en({region.code: region.name_en})
        name_for = _grid_namer(community_en)
        rows = [Row(g.code, g.name, grid_name_en(g.code, community_en(g.community_id)),
                    GRID, level_label(GRID), link(g.code, True), None)
                for g in grids]
        kind = "grids"

    def href(feature: Feature) -> str:
        properties = feature.get("properties") or {}
        return link(str(properties.get("code")), properties.get("level") == GRID)

    svg = render_svg_map(
        geojson, href, label_for=_grid_number if kind == "grids" else None, name_for=name_for,
        title=_("%(name)s的下级区划地图") % {"name": title} if kind == "regions"
        else _("%(name)s的网格地图") % {"name": title},
    )
    return {
        "region": region,
        "level_label": level_label(region.level) if region is not None else "",
        "crumbs": crumbs,
        "rows": rows,
        "kind": kind,
        "svg_map": svg,
        "facts": _facts(region) if region is not None else [],
    }


def _facts(region: Any) -> list[tuple[str, int]]:
    """(label, count) of the divisions and grids below a region."""
    figures = regions.stats(region.code)
    facts = [(str(COUNT_LABELS[level]), n) for level, n in _level_counts(figures)
             if n and level in COUNT_LABELS]
    if figures.get("grids"):
        facts.append((str(COUNT_LABELS[GRID]), int(figures["grids"])))
    return facts


def grid_page_context(grid: Any, link: Linker, *, index_href: str,
                      index_label: str | None = None) -> dict[str, Any]:
    """A grid page: breadcrumbs up to its community, and the map of the community's grids
    with this one marked."""
    index_label = index_label or _("首页")
    community = region_or_404(grid.code[:12])
    crumbs = [Crumb(index_label, index_href)]
    crumbs += [Crumb(local_name(a), link(a.code, False)) for a in regions.ancestors(community)]
    crumbs.append(Crumb(local_name(community), link(community.code, False)))

    def href(feature: Feature) -> str:
        return link(str((feature.get("properties") or {}).get("code")), True)

    svg = render_svg_map(
        regions.grids_geojson(community.code), href, current=grid.code, label_for=_grid_number,
        name_for=_grid_namer(_community_names_en({community.code: community.name_en})),
        title=_("%(name)s的网格地图") % {"name": local_name(community)},
        caption=_("深色区域是本网格。地图上的每个网格都是一个链接,可用键盘 Tab 键逐个选择。"),
    )
    return {"grid": grid, "community": community, "crumbs": crumbs, "svg_map": svg}

