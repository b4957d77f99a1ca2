"""The city simulator runs the platform's own service functions at simulated times."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from yiwang.demo.simulate import simulate_city
from yiwang.industry.city import service as city
from yiwang.industry.city.testing import make_city
from yiwang.platform.perception import service as perception
from yiwang.platform.perception.testing import make_device

pytestmark = pytest.mark.django_db


@pytest.fixture
def people() -> dict[str, Any]:
    people = make_city()
    Group.objects.create(name="城管指挥中心").user_set.add(people["dispatcher"])
    Group.objects.create(name="网格监督员").user_set.add(people["inspector"])
    make_device("WL-001")
    perception.create_rule("积水", kind="threshold", metric="level", type_code="water_level",
                           value=20.0, category_code="city.e.emergency.waterlogging")
    return people


def test_a_simulated_week_fills_the_city(people: dict[str, Any]) -> None:
    end = timezone.now()
    outcome = simulate_city(24 * 6, seed=3, per_hour=1.0, end=end)
    assert outcome.readings > 1000 and outcome.skipped == []
    assert outcome.reports == 144
    cases = city.Case.objects.exclude(source="iot")
    assert cases.count() == 144
    assert all(end - timedelta(days=6) <= c.reported_at <= end for c in cases)
    assert outcome.closed > 10
    closed = cases.filter(state="closed")
    assert closed.count() == outcome.closed
    assert all(c.closed_at is not None and c.closed_at <= end for c in closed)
    # the statistics follow the simulated days, not the moment it ran
    figures = city.cockpit_summary("339900000000", ["339901000000"],
                                   (end - timedelta(days=6)).date(), end.date())
    assert figures["indicators"]["closed"] == outcome.closed
    assert sum(day["reported"] for day in figures["trend"]) >= 100
    assert len([d for d in figures["trend"] if d["reported"]]) >= 5


def test_periods_of_whole_months_read_the_monthly_rows_with_the_same_result() -> None:
    from django.db.models import Sum

    stats = city.CaseStat.objects

    people = make_city()
    Group.objects.create(name="城管指挥中心").user_set.add(people["dispatcher"])
    Group.objects.create(name="网格监督员").user_set.add(people["inspector"])
    end = timezone.now()
    simulate_city(24 * 75, seed=5, per_hour=0.15, end=end)
    today = timezone.localdate(end)
    for days in (7, 31, 45, 62, 75):
        start = today - timedelta(days=days - 1)
        figures = city.cockpit_summary("339900000000", ["339901000000"], start, today)
        daily = stats.filter(region_code="339900000000", dimension="total",
                                        day__gte=start, day__lte=today)
        expected = daily.aggregate(filed=Sum("filed"), closed=Sum("closed"))
        assert figures["indicators"]["filed"] == (expected["filed"] or 0), days
        assert figures["indicators"]["closed"] == (expected["closed"] or 0), days
        hot = stats.filter(region_code="339900000000", dimension="hotspot",
                                      day__gte=start, day__lte=today).aggregate(
            n=Sum("reported"))["n"] or 0
        assert sum(h["count"] for h in figures["hotspots"]) <= hot
        assert figures["areas"][0]["filed"] == figures["indicators"]["filed"]


def test_the_simulator_uploads_count_against_nobody(people: dict[str, Any],
                                                    settings: Any) -> None:
    from yiwang.industry.city.testing import photo

    settings.YIWANG_UPLOADS_PER_10_MINUTES = 3
    outcome = simulate_city(12, seed=4, per_hour=4.0)
    assert outcome.skipped == [] and outcome.reports == 48
    # the people the simulator acted as can still upload at once
    for name in ("citizen", "inspector", "handler"):
        assert photo(people[name])


def test_the_simulator_reads_the_cameras_whose_streams_are_files(people: dict[str, Any],
                                                                 tmp_path: Any) -> None:
    from yiwang.enablement.ai.testing import street_video

    video = street_video(str(tmp_path / "cam.avi"), seconds=50,
                         objects=((10, (120, 150, 60, 40), (30, 60, 200)),), walkers=2)
    zones = [{"name": "人行道", "polygon": [[0, 120], [320, 120], [320, 240], [0, 240]],
              "detect": "static_object", "dwell_seconds": 20,
              "category_code": "city.e.street_order.vending"}]
    for code, url in (("CAM-1", video), ("CAM-2", "rtsp://127.0.0.1:1/live")):
        perception.register_camera(code, code, department_code="cgj", lon=120.005,
                                   lat=30.005, stream_url=url, zones=zones)
    end = timezone.now()
    outcome = simulate_city(1, seed=2, per_hour=0, end=end)
    assert outcome.detections == 1  # the live stream is not read by the simulator
    camera = perception.Camera.objects.get(code="CAM-1")
    assert camera.snapshot and end - timedelta(minutes=2) <= camera.snapshot_at <= end
    assert not perception.Camera.objects.get(code="CAM-2").snapshot
    assert city.Case.objects.filter(source="ai", category__code="city.e.street_order.vending"
                                    ).count() == 1
