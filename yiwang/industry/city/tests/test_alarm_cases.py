"""The closed loop from a sensor: a reading crosses a threshold, the alarm opens a case
that is filed and dispatched to the responsible department and person at once."""

from __future__ import annotations

from typing import Any

import pytest

from yiwang.industry.city import service
from yiwang.industry.city.testing import make_city
from yiwang.platform.perception import service as perception
from yiwang.platform.perception.testing import make_device, now_ms

pytestmark = pytest.mark.django_db


@pytest.fixture
def people() -> dict[str, Any]:
    people = make_city()
    make_device("WL-001")
    perception.create_rule("道路积水超警戒", kind="threshold", metric="level",
                           type_code="water_level", value=5.0, severity="critical",
                           category_code="city.e.emergency.waterlogging")
    return people


def _send(level: float, t: int) -> perception.IngestResult:
    return perception.ingest_readings([{"device": "WL-001", "ts": t, "values": {"level": level}}])


def test_an_alarm_opens_a_dispatched_case_once(people) -> None:
    t = now_ms() - 10_000
    raised = _send(6.2, t).raised
    alarm = perception.Alarm.objects.get(pk=raised[0])
    case = service.Case.objects.get()
    assert alarm.handled_ref == f"case:{case.number}"
    assert case.source == "iot" and case.external_ref == f"alarm:{alarm.pk}"
    assert case.state == "dispatched"
    assert (case.department_code, case.assignee) == ("swj", people["water"])
    assert case.category.code == "city.e.emergency.waterlogging"
    assert case.grid_code == "339901001001001"
    assert "6.2" in case.description
    # the same alarm goes on: no second case; handling the alarm again changes nothing
    _send(6.5, t + 1000)
    assert service.Case.objects.count() == 1
    assert service.case_from_alarm(alarm) == f"case:{case.number}"
    assert service.Case.objects.count() == 1
    # urgent categories count in working hours: 2 working hours for waterlogging
    assert case.due_at is not None and case.due_at > case.dispatched_at


def test_an_alarm_without_a_category_opens_no_case(people) -> None:
    perception.create_rule("电量低", kind="threshold", metric="battery", device_code="WL-001",
                           operator="lt", value=10)
    perception.ingest_readings([{"device": "WL-001", "ts": now_ms() - 1000,
                                 "values": {"battery": 5}}])
    assert perception.Alarm.objects.filter(rule_name="电量低").exists()
    assert not service.Case.objects.exists()
