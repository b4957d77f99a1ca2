"""The closed loop as issue 6 tries it: a real MQTT client publishes through Mosquitto, the
reading crosses a threshold, the alarm opens a case, and the case is dispatched to the
right department and person."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from yiwang.industry.city import service as city
from yiwang.industry.city.testing import make_city
from yiwang.platform.perception import service as perception
from yiwang.platform.perception import testing as perception_testing

pytestmark = [pytest.mark.mqtt, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def broker(tmp_path: Any) -> Iterator[Any]:
    if perception_testing.mosquitto_binary() is None:
        message = "no Mosquitto: install the Debian package mosquitto"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with perception_testing.mosquitto(tmp_path) as running:
        yield running


def test_a_published_reading_opens_a_dispatched_case(broker: Any) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    people = make_city()
    device = perception_testing.make_device("WL-001")
    perception.create_rule("道路积水超警戒", kind="threshold", metric="level",
                           type_code="water_level", value=5.0, severity="critical",
                           category_code="city.e.emergency.waterlogging")
    token = perception.issue_token(device)
    broker.add_user("WL-001", token)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="WL-001-test",
                         protocol=mqtt.MQTTv5)
    client.username_pw_set("WL-001", token)
    client.connect(broker.host, broker.port)
    client.loop_start()
    with perception_testing.running_bridge(broker.url()):
        client.publish("yiwang/v1/devices/WL-001/telemetry",
                       json.dumps({"ts": perception_testing.now_ms() - 500,
                                   "values": {"level": 8.5}}), qos=1).wait_for_publish(5)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not city.Case.objects.exists():
            time.sleep(0.05)
    client.loop_stop()
    client.disconnect()
    case = city.Case.objects.get()
    alarm = perception.Alarm.objects.get()
    assert alarm.handled_ref == f"case:{case.number}" and alarm.severity == "critical"
    assert case.source == "iot" and case.state == "dispatched"
    assert (case.department_code, case.assignee) == ("swj", people["water"])
    assert case.due_at is not None
