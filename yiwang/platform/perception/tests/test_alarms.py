"""Rules and alarms: raise, de-duplicate, clear with hysteresis, rates, absence,
acknowledgement within scope, and the handlers that act on alarms."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from yiwang.core.tasks.service import list_recent, run_pending
from yiwang.platform.perception import service
from yiwang.platform.perception.models import Alarm, Reading
from yiwang.platform.perception.testing import make_city, make_device, now_ms

pytestmark = pytest.mark.django_db


@pytest.fixture
def device():  # type: ignore[no-untyped-def]
    make_city()
    return make_device()


def _send(t: int, level: float, code: str = "WL-001") -> service.IngestResult:
    return service.ingest_readings([{"device": code, "ts": t, "values": {"level": level}}])


def test_threshold_raises_once_deduplicates_and_clears_with_hysteresis(device) -> None:
    service.create_rule("水位超警戒", kind="threshold", metric="level", type_code="water_level",
                        operator="gt", value=5.0, clear_value=4.5, severity="critical")
    t = now_ms() - 60_000
    assert _send(t, 4.9).raised == []
    first = _send(t + 1000, 5.2)
    assert len(first.raised) == 1
    alarm = Alarm.objects.get()
    assert alarm.severity == "critical" and alarm.value == 5.2 and alarm.count == 1
    assert "水位" in alarm.message and "5.2" in alarm.message and "5" in alarm.message
    assert alarm.department_code == "swj" and alarm.grid_code == device.grid_code
    assert _send(t + 2000, 5.6).raised == []  # the same alarm, counted
    assert _send(t + 3000, 4.8).cleared == []  # below the threshold, above the clear value
    alarm.refresh_from_db()
    assert alarm.count == 2 and alarm.last_value == 5.6 and alarm.cleared_at is None
    assert _send(t + 4000, 4.4).cleared == [alarm.pk]
    alarm.refresh_from_db()
    assert alarm.cleared_at is not None and alarm.status == "cleared_unack"
    assert len(_send(t + 5000, 6.0).raised) == 1  # a new episode, a new alarm
    assert Alarm.objects.count() == 2


def test_rate_of_change_rule(device) -> None:
    service.create_rule("水位猛涨", kind="rate", metric="level", device_code="WL-001",
                        operator="gt", value=0.5, seconds=60)
    t = now_ms() - 600_000
    _send(t, 1.0)
    assert _send(t + 60_000, 1.3).raised == []  # +0.3 per minute
    raised = _send(t + 120_000, 2.0).raised  # +0.7 per minute
    assert len(raised) == 1
    alarm = Alarm.objects.get(pk=raised[0])
    assert alarm.kind == "rate" and round(alarm.value, 6) == 0.7
    assert _send(t + 180_000, 2.1).cleared == [alarm.pk]


def test_absence_alarm_raised_for_silent_devices_and_cleared_by_a_reading(device) -> None:
    service.create_rule("设备离线", kind="absence", type_code="water_level", seconds=600,
                        severity="minor")
    _send(now_ms() - 1000, 1.0)
    assert service.check_absence()["raised"] == 0
    later = timezone.now() + timedelta(minutes=11)
    assert service.check_absence(later)["raised"] == 1
    assert service.check_absence(later)["raised"] == 0  # still open: not raised twice
    alarm = Alarm.objects.get()
    assert alarm.kind == "absence" and "无数据" in alarm.message
    assert _send(now_ms(), 1.1).cleared == [alarm.pk]


def test_acknowledge_and_clear_only_within_scope(device, django_user_model) -> None:
    from yiwang.platform.orgs import service as orgs

    service.create_rule("水位超警戒", kind="threshold", metric="level", type_code="water_level",
                        value=5.0)
    alarm_id = _send(now_ms() - 1000, 6.0).raised[0]
    water = django_user_model.objects.create_user(username="w1", password="x", is_staff=True)
    other = django_user_model.objects.create_user(username="c1", password="x", is_staff=True)
    orgs.add_member(water, "swj")
    orgs.add_member(other, "cgj")
    scope_other = service.department_scope(other)
    assert service.list_alarms(scope_other).count() == 0
    with pytest.raises(Alarm.DoesNotExist):
        service.acknowledge_alarm(alarm_id, other, scope_other)
    scope = service.department_scope(water)
    alarm = service.acknowledge_alarm(alarm_id, water, scope)
    assert alarm.acknowledged_by == water and alarm.status == "active_ack"
    first = alarm.acknowledged_at
    assert service.acknowledge_alarm(alarm_id, water, scope).acknowledged_at == first
    alarm = service.clear_alarm(alarm_id, water, scope)
    assert alarm.status == "cleared_ack" and alarm.cleared_by == water
    assert list(service.list_alarms(scope, state="cleared")) == [alarm]


def test_handlers_act_on_alarms_in_the_same_transaction(device) -> None:
    seen = []

    def open_case(alarm):  # type: ignore[no-untyped-def]
        seen.append((alarm.pk, alarm.category_code))
        return f"case:{alarm.pk}"

    service.register_handler("test", open_case)
    try:
        service.create_rule("水位超警戒", kind="threshold", metric="level",
                            type_code="water_level", value=5.0)
        alarm_id = _send(now_ms() - 1000, 6.0).raised[0]
    finally:
        service.unregister_handler("test")
    assert seen == [(alarm_id, "")]
    assert Alarm.objects.get(pk=alarm_id).handled_ref == f"case:{alarm_id}"


def test_a_failing_handler_keeps_the_readings_and_is_retried(device) -> None:
    attempts = []

    def flaky(alarm):  # type: ignore[no-untyped-def]
        attempts.append(alarm.pk)
        if len(attempts) == 1:
            raise RuntimeError("city service down")
        return "case:ok"

    service.register_handler("flaky", flaky)
    try:
        service.create_rule("水位超警戒", kind="threshold", metric="level",
                            type_code="water_level", value=5.0)
        result = _send(now_ms() - 1000, 6.0)
        assert result.accepted == 1 and Reading.objects.count() == 1
        alarm = Alarm.objects.get()
        assert "city service down" in alarm.handler_error and alarm.handled_ref == ""
        assert [j.name for j in list_recent(name="perception.deliver_alarm")] == [
            "perception.deliver_alarm"]
        assert run_pending(isolated=False) >= 1
    finally:
        service.unregister_handler("flaky")
    alarm.refresh_from_db()
    assert alarm.handled_ref == "case:ok" and alarm.handler_error == ""
    assert attempts == [alarm.pk, alarm.pk]


def test_rules_are_validated(device) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        service.create_rule("x", kind="threshold", metric="speed", type_code="water_level",
                            value=1)
    with pytest.raises(ValidationError):
        service.create_rule("x", kind="threshold", metric="level", type_code="water_level")
    with pytest.raises(ValidationError):
        service.create_rule("x", kind="absence", type_code="water_level")
    with pytest.raises(ValidationError):
        service.create_rule("x", kind="threshold", metric="level", value=1)
    with pytest.raises(ValidationError):
        service.create_rule("x", kind="threshold", metric="level", value=1,
                            type_code="water_level", category_code="no.such")
