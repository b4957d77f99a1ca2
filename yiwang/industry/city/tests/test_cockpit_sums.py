"""The cockpit's sums of past days are kept between calls, and a change to a past day (a
late event, a rebuild) is seen at once; today's events are always counted live."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db.models import F
from django.utils import timezone

from yiwang.industry.city import service as city
from yiwang.industry.city import stats
from yiwang.industry.city.testing import PLACE, make_city, photo

pytestmark = pytest.mark.django_db
CITY, DISTRICTS = "339900000000", ["339901000000"]


@pytest.fixture
def people() -> dict[str, Any]:
    return make_city()


def _report(people: dict[str, Any], at: Any, lon: float = PLACE[0]) -> Any:
    citizen = people["citizen"]
    return city.report(source="citizen", category_code="city.e.street_order.vending",
                       title="摆摊", lon=lon, lat=PLACE[1], reporter=citizen,
                       photos=[photo(citizen)], at=at).case


def _filed(start: Any, end: Any) -> int:
    return city.cockpit_summary(CITY, DISTRICTS, start, end)["indicators"]["reported"]


def test_past_days_are_summed_once_and_a_late_change_is_seen(people: Any) -> None:
    today = timezone.localdate()
    week_ago = today - timedelta(days=7)
    three_days_ago = timezone.now() - timedelta(days=3)
    _report(people, three_days_ago)
    assert _filed(week_ago, today) == 1
    # a row of a past day changed behind the statistics' back is not read again …
    day = timezone.localtime(three_days_ago).date()
    rows = city.CaseStat.objects.filter(region_code=CITY, dimension="total", day=day)
    rows.update(reported=F("reported") + 40)
    assert _filed(week_ago, today) == 1
    # … until the version of past days moves, as every late event and a rebuild move it
    _report(people, three_days_ago - timedelta(days=1), lon=PLACE[0] + 0.02)
    assert _filed(week_ago, today) == 42
    stats.rebuild()
    assert _filed(week_ago, today) == 2
    # today's reports count at once, with the kept past
    _report(people, timezone.now(), lon=PLACE[0] + 0.01)
    summary = city.cockpit_summary(CITY, DISTRICTS, week_ago, today)
    assert summary["indicators"]["reported"] == 3
    assert summary["trend"][-1] == {"day": today.isoformat(), "reported": 1, "filed": 0,
                                    "closed": 0}
    assert summary["areas"][0]["reported"] == 3
    assert sum(h["count"] for h in summary["hotspots"]) == 3
    assert summary["by"]["source"][0] == {**summary["by"]["source"][0], "key": "citizen",
                                          "reported": 3}


def test_the_kept_sums_are_not_changed_by_merging_today(people: Any) -> None:
    today = timezone.localdate()
    _report(people, timezone.now() - timedelta(days=2))
    _report(people, timezone.now(), lon=PLACE[0] + 0.01)
    first = city.cockpit_summary(CITY, DISTRICTS, today - timedelta(days=6), today)
    again = city.cockpit_summary(CITY, DISTRICTS, today - timedelta(days=6), today)
    assert first == again and first["indicators"]["reported"] == 2
    only_past = city.cockpit_summary(CITY, DISTRICTS, today - timedelta(days=6),
                                     today - timedelta(days=1))
    assert only_past["indicators"]["reported"] == 1


def test_todays_single_query_sums_what_the_general_one_sums(people: Any) -> None:
    today = timezone.localdate()
    for k in range(3):
        case = _report(people, timezone.now(), lon=PLACE[0] + 0.01 * k)
        city.transition(case, "file", actor=people["dispatcher"])
    general = stats._sums(CITY, DISTRICTS, today, today)
    assert general["totals"]["filed"] == 3 and general["breakdown"]["department"]
    assert stats._day_sums(CITY, DISTRICTS, today) == general
