"""Ingestion: valid readings stored, every kind of bad input rejected with its reason and
counted in the device's health, nothing half-written."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import OperationalError
from django.test import override_settings

from yiwang.platform.perception import ingest as ingest_module
from yiwang.platform.perception import service
from yiwang.platform.perception.models import Reading
from yiwang.platform.perception.testing import make_city, make_device, now_ms

pytestmark = pytest.mark.django_db


@pytest.fixture
def device():  # type: ignore[no-untyped-def]
    make_city()
    return make_device()


def _codes(result: service.IngestResult) -> list[str]:
    return [r.code for r in result.rejected]


def test_valid_readings_are_stored_and_update_health(device) -> None:
    t = now_ms() - 60_000
    result = service.ingest_readings([
        {"device": "WL-001", "ts": t, "values": {"level": 1.5, "battery": 90}},
        {"device": "WL-001", "ts": t + 1000, "values": {"level": 1.6}},
    ])
    assert result.accepted == 3 and result.rejected == []
    rows = list(Reading.objects.filter(device=device).order_by("ts", "metric")
                .values_list("metric", "ts", "value"))
    assert rows == [("battery", t, 90.0), ("level", t, 1.5), ("level", t + 1000, 1.6)]
    device.refresh_from_db()
    assert device.accepted_count == 3
    assert device.last_ts == t + 1000
    assert device.latest == {"level": [t + 1000, 1.6], "battery": [t, 90.0]}
    assert service.health_status(device) == "online"


def test_iso_timestamps_with_offset_are_accepted_and_naive_ones_rejected(device) -> None:
    from datetime import timedelta, timezone

    from django.utils import timezone as dj_timezone

    shanghai = timezone(timedelta(hours=8))
    moment = (dj_timezone.now().astimezone(shanghai).replace(microsecond=0)
              - timedelta(minutes=5))
    result = service.ingest_readings([
        {"device": "WL-001", "ts": moment.isoformat(), "values": {"level": 1}},
        {"device": "WL-001", "ts": moment.replace(tzinfo=None).isoformat(),
         "values": {"level": 2}},
    ])
    assert result.accepted == 1
    assert _codes(result) == ["bad_timestamp"]
    assert Reading.objects.get(device=device).ts == int(moment.timestamp() * 1000)


@pytest.mark.parametrize(("item", "code"), [
    ("not an object", "malformed"),
    ({"ts": 1, "values": {"level": 1}}, "malformed"),
    ({"device": "NOPE", "ts": 1, "values": {"level": 1}}, "unknown_device"),
    ({"device": "WL-001", "values": {"level": 1}}, "bad_timestamp"),
    ({"device": "WL-001", "ts": True, "values": {"level": 1}}, "bad_timestamp"),
    ({"device": "WL-001", "ts": "yesterday", "values": {"level": 1}}, "bad_timestamp"),
    ({"device": "WL-001", "ts": "FUTURE", "values": {"level": 1}}, "future"),
    ({"device": "WL-001", "ts": "OLD", "values": {"level": 1}}, "too_old"),
    ({"device": "WL-001", "ts": "NOW", "values": {}}, "malformed"),
    ({"device": "WL-001", "ts": "NOW", "values": [1]}, "malformed"),
    ({"device": "WL-001", "ts": "NOW", "values": {"speed": 1}}, "unknown_metric"),
    ({"device": "WL-001", "ts": "NOW", "values": {"level": "high"}}, "bad_value"),
    ({"device": "WL-001", "ts": "NOW", "values": {"level": float("nan")}}, "bad_value"),
    ({"device": "WL-001", "ts": "NOW", "values": {"level": True}}, "bad_value"),
    ({"device": "WL-001", "ts": "NOW", "values": {"level": 99}}, "out_of_range"),
    ({"device": "WL-001", "ts": "NOW", "values": {"level": 1}, "lon": "x", "lat": 30},
     "bad_location"),
    ({"device": "WL-001", "ts": "NOW", "values": {"level": 1}, "lon": 121.5, "lat": 31.2},
     "outside_city"),
])
def test_bad_input_is_rejected_with_its_reason(device, item, code) -> None:
    now = now_ms()
    if isinstance(item, dict) and isinstance(item.get("ts"), str) and item["ts"].isupper():
        item = {**item, "ts": {"FUTURE": now + 3_600_000, "OLD": now - 30 * 86_400_000,
                               "NOW": now - 1000}[item["ts"]]}
    result = service.ingest_readings([item])
    assert result.accepted == 0
    assert _codes(result) == [code]
    assert result.rejected[0].detail  # a sentence a person can act on
    assert not Reading.objects.exists()
    device.refresh_from_db()
    if isinstance(item, dict) and item.get("device") == "WL-001":
        assert device.rejected_count == 1
        assert device.rejections == {code: 1}
        assert device.last_rejection.startswith(code)


def test_one_bad_reading_does_not_stop_the_good_ones(device) -> None:
    t = now_ms() - 10_000
    result = service.ingest_readings([
        {"device": "WL-001", "ts": t, "values": {"level": 1}},
        {"device": "WL-001", "ts": t + 1, "values": {"level": 500}},
        {"device": "WL-001", "ts": t + 2, "values": {"level": 2}},
    ])
    assert result.accepted == 2
    assert [(r.index, r.code) for r in result.rejected] == [(1, "out_of_range")]


def test_duplicates_and_out_of_order_readings_are_rejected(device) -> None:
    t = now_ms() - 10_000
    service.ingest_readings([{"device": "WL-001", "ts": t, "values": {"level": 1}}])
    result = service.ingest_readings([
        {"device": "WL-001", "ts": t, "values": {"level": 1}},
        {"device": "WL-001", "ts": t - 5, "values": {"level": 1}},
        {"device": "WL-001", "ts": t + 5, "values": {"level": 2}},
        {"device": "WL-001", "ts": t + 5, "values": {"level": 3}},
    ])
    assert result.accepted == 1
    assert sorted(_codes(result)) == ["duplicate", "duplicate", "out_of_order"]
    assert Reading.objects.get(ts=t + 5).value == 2.0
    device.refresh_from_db()
    assert device.rejections == {"duplicate": 2, "out_of_order": 1}


def test_a_batch_in_any_order_is_stored_in_time_order(device) -> None:
    t = now_ms() - 10_000
    result = service.ingest_readings([
        {"device": "WL-001", "ts": t + 2, "values": {"level": 3}},
        {"device": "WL-001", "ts": t, "values": {"level": 1}},
        {"device": "WL-001", "ts": t + 1, "values": {"level": 2}},
    ])
    assert result.accepted == 3 and result.rejected == []
    device.refresh_from_db()
    assert device.latest["level"] == [t + 2, 3.0]


def test_device_credentials_post_only_for_their_device(device) -> None:
    make_device("WL-002", lon=120.015)
    credential = ("device", device.pk)
    t = now_ms() - 1000
    result = service.ingest_readings([
        {"ts": t, "values": {"level": 1}},
        {"device": "WL-002", "ts": t, "values": {"level": 1}},
    ], credential=credential)
    assert result.accepted == 1
    assert _codes(result) == ["not_allowed"]


def test_gateways_post_only_for_their_devices(device) -> None:
    gateway = service.register_gateway("GW-1", "网关一", department_code="swj")
    make_device("WL-002", lon=120.015, gateway_code="GW-1")
    t = now_ms() - 1000
    result = service.ingest_readings([
        {"device": "WL-002", "ts": t, "values": {"level": 1}},
        {"device": "WL-001", "ts": t, "values": {"level": 1}},
        {"device": "GHOST", "ts": t, "values": {"level": 1}},
    ], credential=("gateway", gateway.pk))
    assert result.accepted == 1
    assert _codes(result) == ["not_allowed", "unknown_device"]
    gateway.refresh_from_db()
    assert gateway.rejected_count == 1 and gateway.last_seen_at is not None


def test_inactive_devices_are_refused(device) -> None:
    service.update_device("WL-001", active=False)
    result = service.ingest_readings([{"device": "WL-001", "ts": now_ms(), "values": {"level": 1}}])
    assert _codes(result) == ["inactive"]


def test_a_moving_device_reports_its_position(device) -> None:
    t = now_ms() - 1000
    result = service.ingest_readings([{"device": "WL-001", "ts": t, "values": {"level": 1},
                                       "lon": 120.035, "lat": 30.035}])
    assert result.accepted == 1
    device.refresh_from_db()
    assert device.latest["@position"] == [t, 120.035, 30.035, "339901001001016"]


def test_too_large_a_batch_is_refused_whole(device) -> None:
    with override_settings(YIWANG_PERCEPTION_MAX_BATCH=2), \
            pytest.raises(ValidationError) as caught:
        service.ingest_readings([{}, {}, {}])
    assert caught.value.code == "batch_too_large"


def test_a_busy_database_stores_nothing_and_says_so(device, monkeypatch) -> None:
    calls = []

    def busy(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        raise OperationalError("database is locked")

    monkeypatch.setattr(ingest_module, "_store", busy)
    monkeypatch.setattr(ingest_module, "RETRIES", (0.0, 0.0))
    with pytest.raises(service.Busy):
        service.ingest_readings([{"device": "WL-001", "ts": now_ms(), "values": {"level": 1}}])
    assert not Reading.objects.exists()


def test_credentials_authenticate_until_replaced(device) -> None:
    token = service.issue_token(device)
    assert token.startswith("ywd_")
    assert service.authenticate(token) == ("device", device.pk)
    newer = service.issue_token(device)
    assert service.authenticate(token) is None
    assert service.authenticate(newer) == ("device", device.pk)
    assert service.authenticate("ywd_forged") is None
    service.update_device("WL-001", active=False)
    assert service.authenticate(newer) is None


def test_registration_refuses_a_place_outside_the_city(device) -> None:
    with pytest.raises(ValidationError) as caught:
        make_device("WL-9", lon=121.5, lat=31.2)
    assert "lon" in caught.value.message_dict


def test_registration_finds_grid_street_and_district(device) -> None:
    assert device.grid_code == "339901001001001"
    assert device.street_code == "339901001000"
    assert device.district_code == "339901000000"


def test_a_device_deleted_since_the_registry_was_loaded_is_unknown(device,
                                                                   monkeypatch) -> None:
    from yiwang.platform.perception import registry
    from yiwang.platform.perception.models import Device

    stale = registry.current()  # this process knows the device…
    Device.objects.filter(pk=device.pk).delete()  # …then it is gone
    real, calls = registry.current, []

    def current():  # type: ignore[no-untyped-def]
        calls.append(1)
        return stale if len(calls) == 1 else real()

    monkeypatch.setattr(registry, "current", current)
    result = service.ingest_readings([{"device": "WL-001", "ts": now_ms(), "values": {"level": 1}}])
    assert len(calls) == 2  # the stale registry was noticed and reloaded
    assert result.accepted == 0 and _codes(result) == ["unknown_device"]
    assert not Reading.objects.exists()


def test_a_credential_of_a_deleted_device_posts_nothing(device) -> None:
    other = make_device("WL-002", lon=120.015)
    result = service.ingest_readings([{"device": "WL-002", "ts": now_ms(),
                                       "values": {"level": 1}}],
                                     credential=("device", 999_999))
    assert _codes(result) == ["not_allowed"]
    assert not Reading.objects.filter(device=other).exists()
