"""Grids: validation, point-in-grid, index invalidation, bulk loads, GeoJSON."""

from __future__ import annotations

import random
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from yiwang.platform.regions import index, service
from yiwang.platform.regions.spatial import BucketIndex, TreeIndex
from yiwang.platform.regions.testing import (
    COMMUNITY,
    DISTRICT,
    STREET,
    box,
    make_chain,
    tile_grids,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain() -> dict[str, service.Region]:
    return make_chain()


@pytest.fixture(params=["index", "database"])
def lookup_mode(request: pytest.FixtureRequest, settings) -> str:  # type: ignore[no-untyped-def]
    """Run a test against the in-process index and against the database fallback."""
    settings.YIWANG_GRID_INDEX = request.param == "index"
    return str(request.param)


def test_create_grid_derives_shard_codes_and_area(chain: dict) -> None:
    grid = service.create_grid(f"{COMMUNITY}001", "一号网格", box(120.0, 30.0, 120.01, 30.01))
    assert grid.community_id == COMMUNITY
    assert grid.street_code == STREET and grid.district_code == DISTRICT
    assert grid.area_km2 == pytest.approx(1.07, rel=0.02)  # 0.01° squares shrink with cos(30°)
    assert [g.code for g in service.grids_in(DISTRICT)] == [grid.code]
    assert service.get_grid(grid.code).name == "一号网格"


@pytest.mark.parametrize(("code", "fragment"), [
    (f"{COMMUNITY}000", "000"),
    (f"{COMMUNITY}01", "15位"),
    (f"{STREET}001", "社区级"),
    ("339901001002001", "不存在"),  # a community that was never created
])
def test_bad_grid_codes_are_refused(chain: dict, code: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as exc:
        service.create_grid(code, "网格", box(120.0, 30.0, 120.01, 30.01))
    assert fragment in "".join(exc.value.messages)


def test_bad_grid_geometry_is_refused(chain: dict) -> None:
    with pytest.raises(ValidationError) as exc:
        service.create_grid(f"{COMMUNITY}001", "网格", box(120.0, 30.0, 120.0, 30.01))
    assert "面积为零" in "".join(exc.value.messages) or "无效" in "".join(exc.value.messages)
    assert not service.Grid.objects.exists()


def _two_by_two() -> None:
    # 001 | 002 on the bottom row, 003 | 004 on top; 0.01° squares from (120.0, 30.0).
    service.load_grids(tile_grids(COMMUNITY, 2, 2))


def _code(lon: float, lat: float) -> str | None:
    grid = service.grid_at(lon, lat)
    return grid.code if grid else None


def test_grid_at_inside_outside_edge_and_vertex(chain: dict, lookup_mode: str) -> None:
    _two_by_two()
    g = COMMUNITY
    assert _code(120.005, 30.005) == f"{g}001"
    assert _code(120.015, 30.015) == f"{g}004"
    assert _code(120.03, 30.005) is None  # east of every grid
    assert _code(0.0, 0.0) is None
    # On the edge shared by 001 and 002: the smaller code wins.
    assert _code(120.01, 30.005) == f"{g}001"
    # On the edge shared by 002 and 004.
    assert _code(120.015, 30.01) == f"{g}002"
    # The vertex shared by all four.
    assert _code(120.01, 30.01) == f"{g}001"
    # An outer edge and an outer corner belong to their only grid.
    assert _code(120.02, 30.015) == f"{g}004"
    assert _code(120.02, 30.02) == f"{g}004"


def test_grid_at_with_a_hole(chain: dict, lookup_mode: str) -> None:
    ring = box(120.0, 30.0, 120.03, 30.03)["coordinates"][0]
    hole = box(120.01, 30.01, 120.02, 30.02)["coordinates"][0][::-1]
    service.create_grid(f"{COMMUNITY}005", "环形网格",
                        {"type": "Polygon", "coordinates": [ring, hole]})
    assert _code(120.005, 30.005) == f"{COMMUNITY}005"
    assert _code(120.015, 30.015) is None  # inside the hole
    assert _code(120.01, 30.015) == f"{COMMUNITY}005"  # on the hole's boundary
    # A grid filling the hole takes its inside; the shared ring goes to the smaller code.
    service.create_grid(f"{COMMUNITY}009", "岛网格", box(120.01, 30.01, 120.02, 30.02))
    assert _code(120.015, 30.015) == f"{COMMUNITY}009"
    assert _code(120.01, 30.015) == f"{COMMUNITY}005"


def test_bad_coordinates_are_refused(chain: dict) -> None:
    for lon, lat in [(181, 30), (120, -91), (float("nan"), 30), ("x", 30)]:
        with pytest.raises(ValidationError):
            service.grid_at(lon, lat)  # type: ignore[arg-type]


def test_index_follows_a_grid_that_moves(chain: dict) -> None:
    _two_by_two()
    code = f"{COMMUNITY}001"
    assert _code(120.005, 30.005) == code
    assert _code(120.055, 30.005) is None
    service.update_grid(code, geometry=box(120.05, 30.0, 120.06, 30.01))
    assert _code(120.055, 30.005) == code
    assert _code(120.005, 30.005) is None
    service.Grid.objects.filter(pk=code).delete()
    assert _code(120.055, 30.005) is None


def test_a_rolled_back_grid_leaves_no_trace_in_the_index(chain: dict) -> None:
    _two_by_two()
    assert _code(120.055, 30.005) is None

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        service.create_grid(f"{COMMUNITY}009", "临时网格", box(120.05, 30.0, 120.06, 30.01))
        assert _code(120.055, 30.005) == f"{COMMUNITY}009"  # the transaction sees its own
        raise Abort
    assert _code(120.055, 30.005) is None
    assert _code(120.005, 30.005) == f"{COMMUNITY}001"


@pytest.mark.django_db(transaction=True)
def test_a_transaction_open_in_another_thread_never_shows_in_this_one(
        chain: dict, settings) -> None:  # type: ignore[no-untyped-def]
    # gunicorn gthread: threads of one process share the index. A thread whose transaction
    # adds a grid sees it; the others must not, before or after it rolls back.
    settings.YIWANG_GRID_INDEX_RECHECK = 3600  # a stale index would stay for the test
    _two_by_two()
    index.reset()
    inside: list[str | None] = []
    outside: list[str | None] = []
    failure: list[BaseException] = []
    added, looked_again, rolled_back = threading.Event(), threading.Event(), threading.Event()
    go_on, finish = threading.Event(), threading.Event()

    class Abort(Exception):
        pass

    def writer() -> None:
        try:
            with transaction.atomic():
                service.create_grid(f"{COMMUNITY}009", "临时网格", box(120.05, 30.0, 120.06, 30.01))
                inside.append(_code(120.055, 30.005))
                added.set()
                go_on.wait(10)
                inside.append(_code(120.055, 30.005))
                looked_again.set()
                finish.wait(10)
                raise Abort
        except Abort:
            pass
        except BaseException as exc:  # reported by the main thread
            failure.append(exc)
        finally:
            added.set()
            looked_again.set()
            rolled_back.set()
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        added.wait(10)
        outside.append(_code(120.055, 30.005))
        go_on.set()
        looked_again.wait(10)
        outside.append(_code(120.055, 30.005))
        outside.append(_code(120.005, 30.005))
    finally:
        go_on.set()
        finish.set()
        thread.join(10)
    assert not failure, failure
    assert rolled_back.is_set()
    outside.append(_code(120.055, 30.005))
    assert inside == [f"{COMMUNITY}009", f"{COMMUNITY}009"]  # the writer sees its own grid
    assert outside == [None, None, f"{COMMUNITY}001", None]

    # A commit in another thread shows at once, without waiting for the recheck interval.
    def committer() -> None:
        try:
            service.create_grid(f"{COMMUNITY}009", "新网格", box(120.05, 30.0, 120.06, 30.01))
        finally:
            connection.close()

    thread = threading.Thread(target=committer)
    thread.start()
    thread.join(10)
    assert _code(120.055, 30.005) == f"{COMMUNITY}009"
    index.reset()


def test_index_notices_a_change_made_by_another_process(chain: dict, settings) -> None:  # type: ignore[no-untyped-def]
    # Outside transactions the token is read every RECHECK seconds; inside one (as this
    # test is) on every lookup, whatever the interval.
    settings.YIWANG_GRID_INDEX_RECHECK = 3600
    _two_by_two()
    assert _code(120.005, 30.005) == f"{COMMUNITY}001"
    index._local.uncommitted = False  # as if this process had never written grids
    index.current()
    # Another process moves the grid: only the version row tells this one.
    service.Grid.objects.filter(pk=f"{COMMUNITY}001").update(
        geometry=box(120.05, 30.0, 120.06, 30.01), min_lon=120.05, max_lon=120.06)
    assert _code(120.055, 30.005) is None  # the stale index, until the token changes
    index.grids_changed()
    index._local.uncommitted = False
    assert _code(120.055, 30.005) == f"{COMMUNITY}001"


def test_bulk_load_of_grids_is_idempotent(chain: dict) -> None:
    rows = tile_grids(COMMUNITY, 3, 2)
    assert service.load_grids(rows) == service.LoadResult(created=6, updated=0)
    assert service.load_grids(rows) == service.LoadResult(created=0, updated=6)
    assert service.Grid.objects.count() == 6
    assert service.stats(DISTRICT)["grids"] == 6


def test_bulk_load_of_grids_refuses_an_unknown_community(chain: dict) -> None:
    rows = tile_grids("339901001009", 1, 1)
    with pytest.raises(ValidationError, match="339901001009"):
        service.load_grids(rows)


def test_geojson_feature_collections(chain: dict) -> None:
    _two_by_two()
    grids = service.grids_geojson(STREET)
    assert grids["type"] == "FeatureCollection" and len(grids["features"]) == 4
    feature = grids["features"][0]
    assert feature["type"] == "Feature" and feature["id"] == f"{COMMUNITY}001"
    assert feature["geometry"]["type"] == "Polygon"
    assert feature["geometry"]["coordinates"][0][0] == [120.0, 30.0]
    assert feature["properties"]["code"] == f"{COMMUNITY}001"
    assert feature["properties"]["community"] == COMMUNITY
    regions = service.regions_geojson(STREET)
    assert [f["properties"]["code"] for f in regions["features"]] == [COMMUNITY]
    assert regions["features"][0]["properties"]["level"] == "community"
    assert regions["features"][0]["geometry"]["type"] == "Polygon"
    roots = service.regions_geojson(None)
    assert [f["id"] for f in roots["features"]] == ["330000000000"]


def _expected_code(lon: float, lat: float, n: int, step: float) -> str | None:
    """Which box of the tiling contains the point, from the box arithmetic alone."""
    hits = []
    for j in range(n):
        for i in range(n):
            x0, y0 = 120.0 + i * step, 30.0 + j * step
            if x0 <= lon <= 120.0 + (i + 1) * step and y0 <= lat <= 30.0 + (j + 1) * step:
                hits.append(f"{COMMUNITY}{j * n + i + 1:03d}")
    return min(hits) if hits else None


def test_a_20_by_20_tiling_resolves_10000_random_points(chain: dict) -> None:
    n, step = 20, 0.005
    service.load_grids(tile_grids(COMMUNITY, n, n, step=step))
    rng = random.Random(20)
    margin = 0.01
    points = [(120.0 - margin + rng.random() * (n * step + 2 * margin),
               30.0 - margin + rng.random() * (n * step + 2 * margin)) for _ in range(9_900)]
    # And 100 points exactly on grid lines and vertices.
    points += [(120.0 + rng.randrange(n + 1) * step, 30.0 + rng.random() * n * step)
               for _ in range(50)]
    points += [(120.0 + rng.randrange(n + 1) * step, 30.0 + rng.randrange(n + 1) * step)
               for _ in range(50)]
    outside = 0
    for lon, lat in points:
        expected = _expected_code(lon, lat, n, step)
        outside += expected is None
        assert _code(lon, lat) == expected, (lon, lat)
    assert 2000 < outside < 4000  # about 30% of the area is margin: outside was exercised


def test_bucket_and_tree_indexes_agree_on_irregular_polygons() -> None:
    import shapely

    rng = random.Random(3)
    seeds = shapely.MultiPoint([(rng.random(), rng.random()) for _ in range(60)])
    frame = shapely.box(0, 0, 1, 1)
    cells = [c.intersection(frame)
             for c in shapely.voronoi_polygons(seeds, extend_to=frame).geoms]
    entries = [(f"{i:03d}", cell, i) for i, cell in enumerate(cells)]
    bucket, tree = BucketIndex(entries), TreeIndex(entries)
    vertices = [tuple(xy) for xy in shapely.get_coordinates(cells)]
    points = [(rng.uniform(-0.1, 1.1), rng.uniform(-0.1, 1.1)) for _ in range(3000)]
    for x, y in points + vertices:
        assert bucket.code_at(x, y) == tree.code_at(x, y), (x, y)
    assert sum(bucket.code_at(x, y) is None for x, y in points) > 0


def test_the_benchmark_the_index_docs_point_to_exists() -> None:
    import importlib.util
    import re
    from pathlib import Path

    from yiwang.platform.regions import spatial

    root = Path(__file__).resolve().parents[4]
    doc = spatial.__doc__ or ""
    paths = re.findall(r"benchmarks/[\w/]+\.py", doc)
    modules = re.findall(r"python -m ([\w.]+)", doc)
    assert paths or modules
    assert all((root / path).is_file() for path in paths), paths
    assert all(importlib.util.find_spec(module) for module in modules), modules
