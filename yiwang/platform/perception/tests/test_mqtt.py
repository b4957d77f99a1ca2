"""The MQTT bridge against a real Mosquitto: a device publishes at QoS 1, the reading is
stored and raises an alarm; the broker's ACL keeps devices to their own topic; rejected
payloads are answered on the errors topic; a busy database loses nothing."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from yiwang.platform.perception import mqtt as bridge_module
from yiwang.platform.perception import service
from yiwang.platform.perception.models import Alarm, Reading
from yiwang.platform.perception.testing import make_city, make_device, now_ms

pytestmark = [pytest.mark.mqtt, pytest.mark.django_db(transaction=True)]


def _wait(condition: Callable[[], bool], seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def city(mosquitto: Any) -> Any:
    make_city()
    device = make_device()
    service.create_rule("水位超警戒", kind="threshold", metric="level",
                        type_code="water_level", value=5.0, severity="critical")
    token = service.issue_token(device)
    mosquitto.add_user("WL-001", token)
    return device, token


@pytest.fixture
def bridge(mosquitto: Any, city: Any) -> Iterator[bridge_module.Bridge]:
    running = bridge_module.Bridge(mosquitto.url(), client_id=f"test-{time.monotonic_ns()}")
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    assert running.connected.wait(10), "the bridge did not connect"
    time.sleep(0.2)  # the subscription is in place
    yield running
    running.stop()
    thread.join(10)


def _device_client(mosquitto: Any, username: str, password: str) -> Any:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{username}-{time.time_ns()}",
                         protocol=mqtt.MQTTv5)
    client.username_pw_set(username, password)
    client.received = []  # type: ignore[attr-defined]
    client.on_message = lambda c, u, m: c.received.append((m.topic, json.loads(m.payload)))
    client.connect(mosquitto.host, mosquitto.port)
    client.loop_start()
    return client


def test_a_reading_published_over_mqtt_is_stored_and_raises_an_alarm(
        mosquitto: Any, city: Any, bridge: Any) -> None:
    _device, token = city
    client = _device_client(mosquitto, "WL-001", token)
    try:
        t = now_ms() - 2000
        client.publish("yiwang/v1/devices/WL-001/telemetry",
                       json.dumps({"ts": t, "values": {"level": 3.2}}), qos=1).wait_for_publish(5)
        client.publish("yiwang/v1/devices/WL-001/telemetry",
                       json.dumps([{"ts": t + 1000, "values": {"level": 5.8}}]),
                       qos=1).wait_for_publish(5)
        assert _wait(lambda: Alarm.objects.exists())
    finally:
        client.loop_stop()
        client.disconnect()
    assert sorted(Reading.objects.values_list("value", flat=True)) == [3.2, 5.8]
    alarm = Alarm.objects.get()
    assert alarm.severity == "critical" and alarm.value == 5.8
    assert bridge.stats.stored == 2


def test_the_broker_keeps_a_device_to_its_own_topic(mosquitto: Any, city: Any,
                                                   bridge: Any) -> None:
    make_device("WL-002", lon=120.015)
    _device, token = city
    client = _device_client(mosquitto, "WL-001", token)
    try:
        client.publish("yiwang/v1/devices/WL-002/telemetry",
                       json.dumps({"ts": now_ms() - 10, "values": {"level": 1}}), qos=1)
        client.publish("yiwang/v1/devices/WL-001/telemetry",
                       json.dumps({"ts": now_ms() - 5, "values": {"level": 1}}), qos=1)
        assert _wait(lambda: Reading.objects.exists())
        time.sleep(0.5)
    finally:
        client.loop_stop()
        client.disconnect()
    assert list(Reading.objects.values_list("device__code", flat=True)) == ["WL-001"]


def test_rejected_readings_are_answered_on_the_errors_topic(mosquitto: Any, city: Any,
                                                           bridge: Any) -> None:
    device, token = city
    client = _device_client(mosquitto, "WL-001", token)
    try:
        client.subscribe("yiwang/v1/devices/WL-001/telemetry/errors", qos=0)
        time.sleep(0.3)
        client.publish("yiwang/v1/devices/WL-001/telemetry", b"not json", qos=1)
        client.publish("yiwang/v1/devices/WL-001/telemetry",
                       json.dumps({"ts": now_ms(), "values": {"level": 500}}), qos=1)
        assert _wait(lambda: len(client.received) >= 1)
        assert _wait(lambda: sum(len(p["rejected"]) for _t, p in client.received) >= 2)
    finally:
        client.loop_stop()
        client.disconnect()
    codes = sorted(r["code"] for _t, p in client.received for r in p["rejected"])
    assert codes == ["malformed", "out_of_range"]
    device.refresh_from_db()
    assert device.rejections == {"out_of_range": 1}
    assert not Reading.objects.exists()


def test_a_busy_database_delays_but_loses_nothing(mosquitto: Any, city: Any, bridge: Any,
                                                  monkeypatch: Any) -> None:
    _device, token = city
    real = bridge_module.ingest_readings
    calls = []

    def busy_twice(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) <= 2:
            raise service.Busy("database is locked")
        return real(*args, **kwargs)

    monkeypatch.setattr(bridge_module, "ingest_readings", busy_twice)
    client = _device_client(mosquitto, "WL-001", token)
    try:
        client.publish("yiwang/v1/devices/WL-001/telemetry",
                       json.dumps({"ts": now_ms() - 10, "values": {"level": 2.5}}), qos=1)
        assert _wait(lambda: Reading.objects.exists())
    finally:
        client.loop_stop()
        client.disconnect()
    assert bridge.stats.busy_retries == 2
    assert list(Reading.objects.values_list("value", flat=True)) == [2.5]


def test_the_broker_url_is_checked() -> None:
    assert bridge_module.parse_url("mqtt://u:p%40ss@broker:1884") == {
        "host": "broker", "port": 1884, "username": "u", "password": "p@ss", "tls": False}
    assert bridge_module.parse_url("mqtts://broker")["port"] == 8883
    with pytest.raises(ValueError):
        bridge_module.parse_url("http://broker")
