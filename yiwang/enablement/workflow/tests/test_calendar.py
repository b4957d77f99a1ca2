from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from yiwang.core.audit import service as audit
from yiwang.enablement.workflow import calendar
from yiwang.enablement.workflow import service as wf
from yiwang.enablement.workflow.models import CalendarDay

SH = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, h: int = 10) -> datetime:
    return datetime(y, m, d, h, 30, tzinfo=SH)


def test_weekdays_and_weekends_without_special_days(db: Any) -> None:
    assert wf.is_workday(date(2026, 3, 6))  # Friday
    assert not wf.is_workday(date(2026, 3, 7))  # Saturday
    assert not wf.is_workday(date(2026, 3, 8))  # Sunday
    assert wf.add_working_days(at(2026, 3, 6), 1) == at(2026, 3, 9)


def test_demo_calendar_holidays_and_make_up_days(demo_calendar: None) -> None:
    assert not wf.is_workday(date(2026, 1, 1))  # 元旦, a Thursday
    assert wf.is_workday(date(2026, 1, 4))  # Sunday, 调休上班
    assert not wf.is_workday(date(2026, 2, 16))  # 春节, a Monday
    assert wf.is_workday(date(2026, 2, 14))  # Saturday, 调休上班
    assert wf.is_workday(date(2026, 2, 28))
    assert not wf.is_workday(date(2026, 10, 5))


def test_across_spring_festival_with_make_up_saturdays(demo_calendar: None) -> None:
    friday = at(2026, 2, 13)
    assert wf.add_working_days(friday, 1) == at(2026, 2, 14)  # the make-up Saturday
    assert wf.add_working_days(friday, 2) == at(2026, 2, 24)  # holiday 15–23 skipped
    assert wf.add_working_days(friday, 6) == at(2026, 2, 28)  # 24..27, then Saturday 28
    assert wf.working_days_between(friday, at(2026, 2, 28)) == 6
    assert wf.working_days_between(at(2026, 2, 28), friday) == -6


def test_start_on_a_holiday_counts_from_the_next_working_day(demo_calendar: None) -> None:
    new_year = at(2026, 1, 1, 9)
    assert wf.add_working_days(new_year, 1) == at(2026, 1, 4, 9)  # make-up Sunday
    assert wf.add_working_days(new_year, 2) == at(2026, 1, 5, 9)
    # zero days: moved forward to a working day, unchanged on a working day
    assert wf.add_working_days(new_year, 0) == at(2026, 1, 4, 9)
    assert wf.add_working_days(at(2026, 1, 5), 0) == at(2026, 1, 5)


def test_negative_days_go_back(demo_calendar: None) -> None:
    assert wf.add_working_days(at(2026, 2, 24), -1) == at(2026, 2, 14)
    assert wf.add_working_days(at(2026, 2, 24), -2) == at(2026, 2, 13)
    assert wf.add_working_days(at(2026, 3, 9), -1) == at(2026, 3, 6)


def test_local_date_is_used_for_aware_datetimes(demo_calendar: None) -> None:
    # 2026-02-13 17:00 UTC is already Saturday 14th 01:00 in Shanghai (a make-up workday)
    utc = datetime(2026, 2, 13, 17, 0, tzinfo=ZoneInfo("UTC"))
    assert wf.is_workday(utc)  # type: ignore[arg-type]
    moved = wf.add_working_days(utc, 1)
    assert moved.astimezone(SH) == datetime(2026, 2, 24, 1, 0, tzinfo=SH)


def test_bounds_and_bad_input(db: Any) -> None:
    with pytest.raises(ValueError):
        wf.add_working_days(at(2026, 3, 6), 100000)
    with pytest.raises(ValidationError):
        wf.set_day(date(2026, 3, 6), "party", "x")


def test_set_day_is_audited_and_seen_at_once(db: Any) -> None:
    assert wf.is_workday(date(2026, 3, 6))
    wf.set_day(date(2026, 3, 6), "holiday", "临时休假")
    assert not wf.is_workday(date(2026, 3, 6))
    wf.set_day(date(2026, 3, 7), "workday", "调休上班")
    assert wf.is_workday(date(2026, 3, 7))
    wf.set_day(date(2026, 3, 6), "normal", "")
    assert wf.is_workday(date(2026, 3, 6))
    assert audit.search(audit.AuditFilter(action="workflow.calendar_day")).count() == 3


def test_load_calendar_is_idempotent(db: Any, tmp_path: Any) -> None:
    written = wf.load_calendar(calendar.DATA_2026)
    assert written == CalendarDay.objects.count() > 30
    assert wf.load_calendar(calendar.DATA_2026) == 0
    data = json.loads(calendar.DATA_2026.read_text(encoding="utf-8"))
    assert "State Council" in data["note"]
    bad = tmp_path / "bad.json"
    bad.write_text('{"holidays": [{"from": "2026-13-01"}]}', encoding="utf-8")
    with pytest.raises(ValidationError):
        wf.load_calendar(bad)


def test_a_calendar_without_working_days_is_an_error(db: Any) -> None:
    start = date(2030, 1, 1)
    wf.load_calendar(
        {
            "calendar": "broken",
            "holidays": [
                {
                    "from": (start + timedelta(days=60 * i)).isoformat(),
                    "to": (start + timedelta(days=60 * i + 60)).isoformat(),
                    "name": "x",
                }
                for i in range(8)
            ],
        }
    )
    with pytest.raises(ValueError):
        calendar.add_working_days(at(2030, 1, 2), 1, "broken")


def test_demo_loader_is_idempotent(db: Any) -> None:
    from yiwang.demo.workflow import load_workflow

    ticks: list[int] = []
    progress = lambda label, total: ticks.append  # noqa: E731
    assert load_workflow(progress) > 30
    assert load_workflow(progress) == 0
    assert ticks == [1, 1]


# 国务院办公厅关于2026年部分节假日安排的通知: every block with its dates off and the make-up
# working days (调休上班) the notice names. The file must say exactly this.
NOTICE_2026 = {
    "元旦": (("2026-01-01", "2026-01-03"), ["2026-01-04"]),
    "春节": (("2026-02-15", "2026-02-23"), ["2026-02-14", "2026-02-28"]),
    "清明节": (("2026-04-04", "2026-04-06"), []),
    "劳动节": (("2026-05-01", "2026-05-05"), ["2026-05-09"]),
    "端午节": (("2026-06-19", "2026-06-21"), []),
    "中秋节": (("2026-09-25", "2026-09-27"), []),
    "国庆节": (("2026-10-01", "2026-10-07"), ["2026-09-20", "2026-10-10"]),
}


def test_demo_calendar_file_matches_the_2026_notice() -> None:
    data = json.loads(calendar.DATA_2026.read_text(encoding="utf-8"))
    blocks = {h["name"]: (h["from"], h["to"]) for h in data["holidays"]}
    assert blocks == {name: span for name, (span, _make_up) in NOTICE_2026.items()}
    make_up: dict[str, list[str]] = {}
    for w in data["workdays"]:
        assert w["name"].endswith("调休上班"), w
        make_up.setdefault(w["name"].removesuffix("调休上班"), []).append(w["date"])
    for name, (_span, days) in NOTICE_2026.items():
        assert sorted(make_up.get(name, [])) == days, name
        for d in days:  # a make-up day is a weekend day, else it changes nothing
            assert date.fromisoformat(d).weekday() >= 5, d
    assert "notice" in data["note"]  # the demo data still says to check the notice itself


def test_working_hours_skip_lunch_evenings_weekends_and_holidays(demo_calendar: None) -> None:
    def hm(y: int, m: int, d: int, h: int, mi: int = 0) -> datetime:
        return datetime(y, m, d, h, mi, tzinfo=SH)

    # Friday 17:00 + 2 h: one hour on Friday, one on Monday from 08:30
    assert wf.add_working_hours(hm(2026, 3, 6, 17), 2) == hm(2026, 3, 9, 9, 30)
    # across lunch (12:00–13:30)
    assert wf.add_working_hours(hm(2026, 3, 9, 11), 2) == hm(2026, 3, 9, 14, 30)
    # before office hours: counting starts at 08:30; a whole day is 8 hours
    assert wf.add_working_hours(hm(2026, 3, 9, 7), 8) == hm(2026, 3, 9, 18)
    # the Spring Festival holiday is skipped and the make-up Saturday counts
    assert wf.add_working_hours(hm(2026, 2, 13, 17), 2) == hm(2026, 2, 14, 9, 30)
    assert wf.add_working_hours(hm(2026, 2, 14, 17), 2) == hm(2026, 2, 24, 9, 30)
    with pytest.raises(ValueError):
        wf.add_working_hours(hm(2026, 3, 9, 9), -1)
