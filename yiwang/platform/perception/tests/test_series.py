"""Series, roll-ups (late readings included), retention and the health filter."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from yiwang.platform.perception import service
from yiwang.platform.perception.models import Reading, Rollup
from yiwang.platform.perception.testing import make_city, make_device, now_ms

pytestmark = pytest.mark.django_db
HOUR = 3_600_000


@pytest.fixture
def device():  # type: ignore[no-untyped-def]
    make_city()
    return make_device()


def _hour_start(ms: int) -> int:
    return ms - ms % HOUR


def test_hourly_and_daily_rollups_follow_the_readings(device) -> None:
    base = _hour_start(now_ms()) - 3 * HOUR
    items = [{"device": "WL-001", "ts": base + i * 600_000, "values": {"level": float(i)}}
             for i in range(12)]  # two hours, 6 readings each: 0..5 and 6..11
    assert service.ingest_readings(items).accepted == 12
    service.roll_up()
    hours = {r.bucket: r for r in Rollup.objects.filter(period="h", metric="level")}
    assert sorted(hours) == [base, base + HOUR]
    first = hours[base]
    assert (first.count, first.total, first.minimum, first.maximum, first.last_value) == (
        6, 15.0, 0.0, 5.0, 5.0)
    days = list(Rollup.objects.filter(period="d", metric="level"))
    assert sum(d.count for d in days) == 12
    assert max(d.maximum for d in days) == 11.0
    out = service.series(device, "level", start_ms=base, end_ms=base + 2 * HOUR,
                         resolution="h")
    assert [p["mean"] for p in out["points"]] == [2.5, 8.5]
    # running again changes nothing (idempotent)
    service.roll_up()
    assert Rollup.objects.get(period="h", bucket=base, metric="level").count == 6


def test_a_late_reading_of_a_rolled_up_hour_is_rolled_up_again(device) -> None:
    base = _hour_start(now_ms()) - 5 * HOUR
    service.ingest_readings([{"device": "WL-001", "ts": base, "values": {"battery": 80}}])
    service.roll_up()
    # the device's level arrives late for the same hour (another metric, so not out of order)
    service.ingest_readings([{"device": "WL-001", "ts": base + 60_000,
                              "values": {"level": 2.0}}])
    service.roll_up()
    assert Rollup.objects.get(period="h", bucket=base, metric="level").count == 1
    assert Rollup.objects.get(period="h", bucket=base, metric="battery").count == 1


def test_raw_series_and_errors(device) -> None:
    t = now_ms() - 10_000
    service.ingest_readings([{"device": "WL-001", "ts": t + i, "values": {"level": i}}
                             for i in range(5)])
    out = service.series(device, "level", start_ms=t, end_ms=t + 5)
    assert out["resolution"] == "raw"
    assert [p["value"] for p in out["points"]] == [0, 1, 2, 3, 4]
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        service.series(device, "speed", start_ms=t, end_ms=t + 5)
    with pytest.raises(ValidationError):
        service.series(device, "level", start_ms=t, end_ms=t)


def test_prune_keeps_rollups_of_deleted_readings(device) -> None:
    old = _hour_start(now_ms()) - 3 * 86_400_000
    service.ingest_readings([{"device": "WL-001", "ts": old, "values": {"level": 1.0}},
                             {"device": "WL-001", "ts": now_ms() - 1000,
                              "values": {"level": 2.0}}])
    with override_settings(YIWANG_PERCEPTION_RAW_DAYS=2):
        out = service.prune()
    assert out["readings"] == 1
    assert list(Reading.objects.values_list("value", flat=True)) == [2.0]
    assert Rollup.objects.get(period="h", bucket=old, metric="level").count == 1


def test_health_status_filter(device) -> None:
    quiet = make_device("WL-002", lon=120.015)
    make_device("WL-003", lon=120.025)
    service.ingest_readings([{"device": "WL-001", "ts": now_ms() - 1000,
                              "values": {"level": 1}},
                             {"device": "WL-002", "ts": now_ms() - 1000,
                              "values": {"level": 1}}])
    type(quiet).objects.filter(pk=quiet.pk).update(
        last_seen_at=timezone.now() - timedelta(minutes=10))
    codes = {status: [d.code for d in service.list_devices(None, status=status)]
             for status in ("online", "silent", "never")}
    assert codes == {"online": ["WL-001"], "silent": ["WL-002"], "never": ["WL-003"]}
    quiet.refresh_from_db()
    assert service.device_health(quiet)["status"] == "silent"
