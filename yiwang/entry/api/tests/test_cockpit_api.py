"""The cockpit API as a leader's screen uses it: indicators that follow the cases, drill-down
by area, hotspots, live alarms; each official only the levels their position covers."""

from __future__ import annotations

from typing import Any

import pytest

from yiwang.industry.city import service as city
from yiwang.industry.city.testing import PLACE, make_city, official, photo
from yiwang.platform.orgs import service as orgs
from yiwang.platform.perception import service as perception
from yiwang.platform.perception.testing import make_device, now_ms
from yiwang.platform.regions import testing as region_testing
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db
URL = "/api/v1/cockpit/summary"


@pytest.fixture
def people() -> dict[str, Any]:
    people = make_city()
    orgs.create_department("dhjd", "东湖街道办事处", region_code=region_testing.STREET)
    people["leader"] = official("city.leader", "szcg", "city.view_cockpit")
    people["street_leader"] = official("street.leader", "dhjd", "city.view_cockpit")
    return people


def _close_one(people: dict[str, Any], at: tuple[float, float], category: str) -> Any:
    citizen = people["citizen"]
    case = city.report(source="citizen", category_code=category, title="问题", lon=at[0],
                       lat=at[1], reporter=citizen, photos=[photo(citizen)]).case
    case = city.transition(case, "file", actor=people["dispatcher"])
    return case


def test_indicators_follow_the_cases(internal_client: Any, people: Any) -> None:
    a = _close_one(people, PLACE, "city.e.street_order.vending")
    _close_one(people, (120.035, 30.035), "city.e.environment.litter")
    a = city.transition(a, "handle", actor=people["handler"], note="好",
                        photos=[photo(people["handler"])])
    city.transition(a, "verify_pass", actor=people["inspector"],
                    photos=[photo(people["inspector"])], lon=PLACE[0], lat=PLACE[1])
    make_device("WL-001")
    perception.create_rule("积水", kind="threshold", metric="level", type_code="water_level",
                           value=5.0, severity="critical")
    perception.ingest_readings([{"device": "WL-001", "ts": now_ms() - 1000,
                                 "values": {"level": 7}}])
    sign_in_client(internal_client, people["leader"])
    body = internal_client.get(URL, {"region": region_testing.CITY}).json()
    kpi = body["indicators"]
    assert (kpi["reported"], kpi["filed"], kpi["closed"], kpi["closed_on_time"]) == (2, 2, 1, 1)
    assert kpi["closure_rate"] == 0.5 and kpi["on_time_rate"] == 1.0
    assert body["live"] == {"open": 1, "overdue": 0}
    sources = {r["key"]: r["reported"] for r in body["by"]["source"]}
    assert sources == {"citizen": 2}
    majors = {r["name"]: r["filed"] for r in body["by"]["major"]}
    assert majors == {"街面秩序": 1, "市容环境": 1}
    assert [a["code"] for a in body["areas"]] == [region_testing.DISTRICT]
    assert body["areas"][0]["filed"] == 2 and body["areas"][0]["name"] == "东城区"
    assert body["trend"][-1]["filed"] == 2 and len(body["trend"]) == 30
    assert {h["category_name"] for h in body["hotspots"]} == {"占道经营", "暴露垃圾"}
    assert body["perception"]["alarms"]["critical"] == 1
    assert body["perception"]["devices"]["online"] == 1
    # drill down to the street: the same cases, its communities as areas
    street = internal_client.get(URL, {"region": region_testing.STREET}).json()
    assert street["indicators"]["filed"] == 2
    assert [p["code"] for p in street["path"]][-1] == region_testing.DISTRICT


def test_each_official_sees_only_the_levels_their_position_covers(
        internal_client: Any, people: Any) -> None:
    sign_in_client(internal_client, people["street_leader"])
    assert internal_client.get(URL, {"region": region_testing.STREET}).status_code == 200
    assert internal_client.get(URL).json()["region"]["code"] == region_testing.STREET
    assert internal_client.get(URL, {"region": region_testing.DISTRICT}).status_code == 404
    assert internal_client.get(URL, {"region": region_testing.CITY}).status_code == 404
    assert internal_client.get(URL, {"region": "nonsense"}).status_code == 404
    sign_in_client(internal_client, people["handler"])  # no cockpit permission
    assert internal_client.get(URL, {"region": region_testing.CITY}).status_code == 404
