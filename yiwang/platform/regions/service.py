"""Public facade of the regions app: the administrative tree (行政区划) and grids (网格).

Other apps import this module only. Read functions return model instances for read-only use
(never save them); writes go through the verb-named functions below. Codes are the 12-digit
division codes described in ``codes.py``; grid codes add a 3-digit number to a community's.

Point-in-grid (``grid_at``) tie rule: a point on an edge or vertex shared by several grids
belongs to the grid with the smallest code among those whose closed polygon contains it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, QuerySet, Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext

from yiwang.core.audit.service import record
from yiwang.platform.regions import codes, index
from yiwang.platform.regions.codes import Level, normalize_code
from yiwang.platform.regions.geometry import check_point
from yiwang.platform.regions.models import Grid, Region

__all__ = [
    "Grid",
    "Level",
    "LoadResult",
    "Region",
    "all_grids",
    "ancestors",
    "children",
    "code_prefix",
    "covers",
    "create_grid",
    "create_region",
    "descendants",
    "get_grid",
    "get_region",
    "grid_at",
    "grids_by_code",
    "grids_geojson",
    "grids_in",
    "level_label",
    "list_regions",
    "load_grids",
    "load_regions",
    "normalize_code",
    "region_tree",
    "regions_by_code",
    "regions_geojson",
    "stats",
    "update_grid",
]

Progress = Callable[[int], None]
BATCH_SIZE = 500


@dataclass(frozen=True)
class LoadResult:
    """What a bulk load did."""

    created: int = 0
    updated: int = 0


# --- reads -------------------------------------------------------------------------------

def _as_region(code: str | Region) -> Region:
    return code if isinstance(code, Region) else get_region(code)


def level_label(level: str) -> str:
    """The Chinese name of a level (省, 市, 区县, 街道, 社区), translated."""
    return str(Level(level).label)


def get_region(code: str) -> Region:
    """The region with this code (12 digits, or a 2/4/6/9-digit prefix padded with zeros).

    Raises ValidationError for a malformed code, Region.DoesNotExist for an unknown one."""
    code = normalize_code(code)
    try:
        return Region.objects.get(pk=code)
    except Region.DoesNotExist:
        raise Region.DoesNotExist(gettext("行政区划 %(code)s 不存在") % {"code": code}) from None


def children(code: str | None = None) -> QuerySet[Region]:
    """The regions directly below ``code``, or the top-level regions when ``code`` is None."""
    if code is None:
        return Region.objects.filter(parent__isnull=True).order_by("code")
    return Region.objects.filter(parent=get_region(code)).order_by("code")


def list_regions(parent_code: str | None = None, level: str | None = None
                 ) -> QuerySet[Region]:
    """Regions for browsing, ordered by code, each annotated with ``child_count``.

    No argument: the top-level regions. ``parent_code``: its children, or with ``level``
    its descendants of that level. ``level`` alone: every region of that level."""
    if parent_code is not None:
        qs = children(parent_code) if level is None else descendants(parent_code, level)
    elif level is not None:
        qs = Region.objects.filter(level=Level(level))
    else:
        qs = children()
    return qs.annotate(child_count=Count("children")).order_by("code")


def ancestors(code: str | Region) -> list[Region]:
    """The regions above ``code``, root first, excluding the region itself."""
    region = _as_region(code)
    found = {r.code: r for r in Region.objects.filter(code__in=region.ancestor_codes)}
    return [found[c] for c in region.ancestor_codes if c in found]


def descendants(code: str | Region, level: str | None = None) -> QuerySet[Region]:
    """Every region below ``code`` (optionally only those of ``level``), ordered by code."""
    region = _as_region(code)
    qs = Region.objects.filter(path__startswith=region.path).exclude(pk=region.pk)
    if level is not None:
        qs = qs.filter(level=Level(level))
    return qs.order_by("code")


def code_prefix(code: str) -> str:
    """The prefix every region and grid code below region ``code`` starts with (for
    ``LIKE 'prefix%'`` filters)."""
    return codes.prefix(normalize_code(code))


def covers(ancestor_code: str, code: str) -> bool:
    """Whether region ``code`` (or grid code) is ``ancestor_code`` or lies below it.

    Decided from the codes alone (no query): codes are hierarchical by construction."""
    ancestor_code = normalize_code(ancestor_code)
    return code.startswith(codes.prefix(ancestor_code))


def _node(region: Region) -> dict[str, Any]:
    return {"code": region.code, "name": region.name, "name_en": region.name_en,
            "level": region.level, "children": []}


def region_tree(code: str, depth: int = 1) -> dict[str, Any]:
    """``code`` and the ``depth`` levels below it as nested dicts (two queries)::

        {"code": ..., "name": ..., "name_en": ..., "level": ..., "children": [...]}
    """
    root = get_region(code)
    nodes = {root.code: _node(root)}
    below = (Region.objects.filter(path__startswith=root.path, depth__gt=root.depth,
                                   depth__lte=root.depth + max(depth, 0))
             .only("code", "name", "name_en", "level", "parent_id")
             .order_by("depth", "code"))
    for region in below:
        node = nodes[region.code] = _node(region)
        nodes[region.parent_id]["children"].append(node)  # type: ignore[index]
    return nodes[root.code]


def stats(code: str) -> dict[str, int]:
    """Counts below ``code``: ``children`` (direct), one key per lower level (``street``,
    ``community``…: all descendants of that level) and ``grids``."""
    region = get_region(code)
    by_level = dict(descendants(region).order_by().values_list("level")
                    .annotate(n=Count("code")).values_list("level", "n"))
    lower = codes.LEVELS[codes.LEVELS.index(Level(region.level)) + 1:]
    return {
        "children": Region.objects.filter(parent=region).count(),
        **{lvl.value: int(by_level.get(lvl.value, 0)) for lvl in lower},
        "grids": grids_in(region).count(),
    }


def all_grids() -> QuerySet[Grid]:
    """Every grid, ordered by code."""
    return Grid.objects.order_by("code")


def grids_in(region_code: str | Region) -> QuerySet[Grid]:
    """The grids inside a region (any level), ordered by code."""
    region = _as_region(region_code)
    return Grid.objects.filter(code__startswith=codes.prefix(region.code)).order_by("code")


def regions_by_code(codes: Iterable[str]) -> dict[str, Region]:
    """The regions with these codes, by code, in one query (unknown codes are left out;
    geometry is not loaded)."""
    wanted = {c for c in codes if c}
    if not wanted:
        return {}
    found = Region.objects.filter(code__in=wanted).defer("geometry")
    return {r.code: r for r in found}


def grids_by_code(codes: Iterable[str]) -> dict[str, Grid]:
    """The grids with these codes, by code, with their community, in one query (unknown
    codes are left out; geometry is not loaded)."""
    wanted = {c for c in codes if c}
    if not wanted:
        return {}
    found = (Grid.objects.filter(code__in=wanted).select_related("community")
             .defer("geometry", "community__geometry"))
    return {g.code: g for g in found}


def get_grid(code: str) -> Grid:
    """The grid with this 15-digit code; raises ValidationError / Grid.DoesNotExist."""
    codes.check_grid_code(code)
    try:
        return Grid.objects.get(pk=code)
    except Grid.DoesNotExist:
        raise Grid.DoesNotExist(gettext("网格 %(code)s 不存在") % {"code": code}) from None


def grid_at(lon: float, lat: float) -> Grid | None:
    """The grid containing the point (WGS84 degrees), or None if it is in no grid.

    Answered from the in-process index (see ``index.py``) unless ``YIWANG_GRID_INDEX`` is
    False. Raises ValidationError for non-finite or out-of-range coordinates."""
    lon, lat = check_point(lon, lat)
    if not index.enabled():
        return index.lookup_db(lon, lat)
    return index.current().lookup(lon, lat)


def _feature(geometry: Any, properties: dict[str, Any], code: str) -> dict[str, Any]:
    return {"type": "Feature", "id": code, "geometry": geometry, "properties": properties}


def regions_geojson(parent_code: str | None = None) -> dict[str, Any]:
    """The children of ``parent_code`` (top-level regions when None) as a GeoJSON
    FeatureCollection; properties: code, name, name_en, level, parent (geometry may be
    null for regions loaded without a boundary)."""
    features = [
        _feature(r.geometry, {"code": r.code, "name": r.name, "name_en": r.name_en,
                              "level": r.level, "parent": r.parent_id}, r.code)
        for r in children(parent_code)
    ]
    return {"type": "FeatureCollection", "features": features}


def grids_geojson(region_code: str) -> dict[str, Any]:
    """The grids inside a region as a GeoJSON FeatureCollection; properties: code, name,
    community, level ("grid"), area_km2."""
    features = [
        _feature(g.geometry, {"code": g.code, "name": g.name, "community": g.community_id,
                              "level": "grid", "area_km2": g.area_km2}, g.code)
        for g in grids_in(region_code)
    ]
    return {"type": "FeatureCollection", "features": features}


# --- writes ------------------------------------------------------------------------------

def _resolve_parent(code: str, parent_code: str | None) -> Region | None:
    if parent_code is None:
        return None
    parent = get_region(parent_code)
    expected = codes.structural_parent(code)
    if parent.code != expected:
        raise ValidationError(
            gettext("代码 %(code)s 的上级区划应为 %(expected)s，而不是 %(parent)s"),
            code="parent_mismatch",
            params={"code": code, "expected": expected or "-", "parent": parent.code},
        )
    return parent


def _move_subtree(old_path: str, new_path: str) -> None:
    """Rewrite the paths of the regions below ``old_path`` after their top moved."""
    if old_path == new_path:
        return
    delta = new_path.count("/") - old_path.count("/")
    Region.objects.filter(path__startswith=old_path).exclude(path=old_path).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
        depth=F("depth") + delta,
    )


def _adopt_orphans() -> None:
    """Attach top-level regions whose structural parent now exists below it (a city loaded
    before its province becomes the province's child), rewriting their subtrees' paths."""
    roots = list(Region.objects.filter(parent__isnull=True).exclude(level=Level.PROVINCE)
                 .values_list("code", "path"))
    wanted = {code: codes.structural_parent(code) for code, _ in roots}
    parents = dict(Region.objects.filter(code__in=set(wanted.values()) - {None})
                   .values_list("code", "path"))
    for code, old_path in roots:
        parent_path = parents.get(wanted[code] or "")
        if parent_path is None:
            continue
        new_path = f"{parent_path}{code}/"
        _move_subtree(old_path, new_path)
        Region.objects.filter(pk=code).update(parent_id=wanted[code], path=new_path,
                                              depth=new_path.count("/") - 1)


@transaction.atomic
def create_region(
    code: str,
    name: str,
    *,
    name_en: str = "",
    level: str | None = None,
    parent_code: str | Literal["auto"] | None = "auto",
    geometry: dict[str, Any] | None = None,
    population: int | None = None,
    area_km2: float | None = None,
) -> Region:
    """Create one region.

    The parent follows from the code: ``parent_code`` "auto" (the default) takes the
    structural parent if it exists, else makes the region top-level (a deployment may hold a
    city without its province). An explicit ``parent_code`` must be the structural parent;
    None asks for a top-level region. Whenever a region is created, top-level regions whose
    structural parent it is are attached below it. ``level`` if given must agree with
    the code. ``geometry`` is a GeoJSON Polygon/MultiPolygon in WGS84. ``area_km2`` is
    kept only when there is no geometry (otherwise computed from it).
    Raises ValidationError with Chinese messages."""
    codes.check_code(code)
    if parent_code == "auto":
        parent = Region.objects.filter(pk=codes.structural_parent(code) or "").first()
    else:
        parent = _resolve_parent(code, parent_code)
    region = Region(code=code, name=name, name_en=name_en, level=level or "", parent=parent,
                    geometry=geometry, population=population, area_km2=area_km2)
    region.full_clean(exclude=[*Region.DERIVED_FIELDS, *([] if level else ["level"])])
    region.save()
    _adopt_orphans()
    return region


def _community(code: str) -> Region:
    community = Region.objects.filter(pk=code).first()
    if community is None or community.level != Level.COMMUNITY:
        raise ValidationError(gettext("网格所属社区 %(code)s 不存在"), code="no_community",
                              params={"code": code})
    return community


@transaction.atomic
def create_grid(code: str, name: str, geometry: dict[str, Any]) -> Grid:
    """Create a grid of the community named by the first 12 digits of ``code``.

    Raises ValidationError for a malformed code, an unknown community or a bad geometry."""
    codes.check_grid_code(code)
    grid = Grid(code=code, name=name, community=_community(code[:12]), geometry=geometry)
    grid.full_clean(exclude=Grid.DERIVED_FIELDS)
    grid.save()  # the post_save signal invalidates the grid index
    return grid


@transaction.atomic
def update_grid(code: str, *, name: str | None = None,
                geometry: dict[str, Any] | None = None) -> Grid:
    """Rename a grid and/or replace its boundary."""
    grid = Grid.objects.select_for_update().get(pk=get_grid(code).pk)
    if name is not None:
        grid.name = name
    if geometry is not None:
        grid.geometry = geometry
    grid.full_clean(exclude=Grid.DERIVED_FIELDS, validate_unique=False)
    grid.save()
    return grid


def _row_error(row: Mapping[str, Any], exc: ValidationError) -> ValidationError:
    messages = "；".join(exc.messages)
    return ValidationError(gettext("%(code)s：%(messages)s"), code="invalid_row",
                           params={"code": row.get("code", "?"), "messages": messages})


def _batches(rows: list[Mapping[str, Any]], size: int) -> Iterable[list[Mapping[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


_REGION_UPDATE_FIELDS = ["name", "name_en", "level", "parent", "path", "depth", "geometry",
                         "min_lon", "min_lat", "max_lon", "max_lat", "centroid_lon",
                         "centroid_lat", "population", "area_km2", "updated_at"]


def load_regions(rows: Iterable[Mapping[str, Any]], progress: Progress | None = None,
                 *, batch_size: int = BATCH_SIZE) -> LoadResult:
    """Insert or update regions by code (idempotent: loading twice changes nothing).

    Each row has ``code`` and ``name`` and optionally ``name_en``, ``level``,
    ``parent_code`` (as in :func:`create_region`; absent means "auto"), ``geometry``,
    ``population``, ``area_km2``. Rows are sorted by code so parents come first; each batch
    is one transaction and a batch with an invalid row is not written (ValidationError names
    the row). ``progress`` is called with the number of rows done after each batch (e.g. a
    tqdm bar's ``update``)."""
    ordered = sorted(rows, key=lambda r: str(r.get("code", "")))
    paths: dict[str, str] = {}
    created = updated = 0
    for batch in _batches(ordered, batch_size):
        with transaction.atomic():
            c, u = _load_region_batch(batch, paths)
            created, updated = created + c, updated + u
        if progress:
            progress(len(batch))
    with transaction.atomic():
        _adopt_orphans()
        record("regions.load", ("regions.region", "*"),
               detail={"created": created, "updated": updated})
    return LoadResult(created, updated)


def _load_region_batch(batch: list[Mapping[str, Any]], paths: dict[str, str]) -> tuple[int, int]:
    batch_codes = [str(row.get("code", "")) for row in batch]
    existing = dict(Region.objects.filter(code__in=batch_codes).values_list("code", "path"))
    wanted = {codes.structural_parent(c) for c in batch_codes if codes.is_code(c)}
    missing = {c for c in wanted if c and c not in paths}
    paths.update(Region.objects.filter(code__in=missing).values_list("code", "path"))
    objs = []
    for row in batch:
        try:
            code = codes.check_code(row.get("code"))
            parent_code = row.get("parent_code", "auto")
            if parent_code == "auto":
                parent_code = codes.structural_parent(code)
                parent_code = parent_code if parent_code in paths else None
            elif parent_code is not None:
                expected = codes.structural_parent(code)
                if parent_code != expected or parent_code not in paths:
                    raise ValidationError(
                        gettext("上级区划 %(parent)s 不存在或与代码 %(code)s 不符"),
                        code="parent_mismatch", params={"parent": parent_code, "code": code})
            region = Region(code=code, name=row.get("name", ""),
                            name_en=row.get("name_en") or "", level=row.get("level") or "",
                            parent_id=parent_code, geometry=row.get("geometry"),
                            population=row.get("population"), area_km2=row.get("area_km2"))
            region.full_clean(
                exclude=[*Region.DERIVED_FIELDS, "parent",
                         *([] if region.level else ["level"])],
                validate_unique=False, validate_constraints=False,
            )
            region.derive(parent_path=paths.get(parent_code or ""))
        except ValidationError as exc:
            raise _row_error(row, exc) from None
        paths[code] = region.path
        objs.append(region)
    Region.objects.bulk_create(objs, update_conflicts=True, unique_fields=["code"],
                               update_fields=_REGION_UPDATE_FIELDS)
    for region in objs:
        old_path = existing.get(region.code)
        if old_path is not None:
            _move_subtree(old_path, region.path)
    return len(objs) - len(existing), len(existing)


_GRID_UPDATE_FIELDS = ["name", "community", "district_code", "street_code", "geometry",
                       "min_lon", "min_lat", "max_lon", "max_lat", "area_km2", "updated_at"]


def load_grids(rows: Iterable[Mapping[str, Any]], progress: Progress | None = None,
               *, batch_size: int = BATCH_SIZE) -> LoadResult:
    """Insert or update grids by code (idempotent). Each row has ``code``, ``name`` and
    ``geometry`` (optionally ``community_code``, which must then be the code's first 12
    digits); the community must exist. Batches are transactional as in
    :func:`load_regions`."""
    ordered = sorted(rows, key=lambda r: str(r.get("code", "")))
    created = updated = 0
    for batch in _batches(ordered, batch_size):
        with transaction.atomic():
            c, u = _load_grid_batch(batch)
            created, updated = created + c, updated + u
            index.grids_changed()
        if progress:
            progress(len(batch))
    record("regions.load_grids", ("regions.grid", "*"),
           detail={"created": created, "updated": updated})
    return LoadResult(created, updated)


def _load_grid_batch(batch: list[Mapping[str, Any]]) -> tuple[int, int]:
    batch_codes = [str(row.get("code", "")) for row in batch]
    existing = set(Grid.objects.filter(code__in=batch_codes).values_list("code", flat=True))
    communities = set(Region.objects.filter(code__in={c[:12] for c in batch_codes},
                                            level=Level.COMMUNITY)
                      .values_list("code", flat=True))
    objs = []
    for row in batch:
        try:
            code = codes.check_grid_code(row.get("code"))
            if row.get("community_code", code[:12]) != code[:12]:
                raise ValidationError(
                    gettext("网格编码 %(code)s 的前12位须为所属社区代码 %(community)s"),
                    code="community_mismatch",
                    params={"code": code, "community": row.get("community_code")},
                )
            if code[:12] not in communities:
                raise ValidationError(gettext("网格所属社区 %(code)s 不存在"),
                                      code="no_community", params={"code": code[:12]})
            grid = Grid(code=code, name=row.get("name", ""), community_id=code[:12],
                        geometry=row.get("geometry"))
            grid.full_clean(exclude=[*Grid.DERIVED_FIELDS, "community"],
                            validate_unique=False, validate_constraints=False)
            grid.derive()
        except ValidationError as exc:
            raise _row_error(row, exc) from None
        objs.append(grid)
    Grid.objects.bulk_create(objs, update_conflicts=True, unique_fields=["code"],
                             update_fields=_GRID_UPDATE_FIELDS)
    return len(objs) - len(existing), len(existing)
