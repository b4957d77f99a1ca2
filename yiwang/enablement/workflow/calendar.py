"""The working calendar (工作日历): weekends, public holidays and make-up working days (调休).

Lookups are hot (every timer, every due date), so each process keeps the special days of a
calendar in memory for ``_TTL`` seconds; ``set_day`` / ``load_calendar`` clear the local copy
at once (other processes see a change within ``_TTL``).
"""

from __future__ import annotations

import json
import threading
import time
from datetime import date, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.enablement.workflow.models import CalendarDay, DayKind

_TTL = 60.0
_MAX_DAYS = 3650
_MAX_SEARCH = 400  # a calendar without a working day in 400 days is broken
DATA_2026 = Path(__file__).parent / "data" / "calendar-2026.json"

_cache: dict[str, tuple[float, dict[date, str]]] = {}
_lock = threading.Lock()


def clear_cache() -> None:
    """Forget the in-memory copies (after a change; tests)."""
    with _lock:
        _cache.clear()


def _days(calendar: str) -> dict[date, str]:
    now = time.monotonic()
    with _lock:
        found = _cache.get(calendar)
        if found and now - found[0] < _TTL:
            return found[1]
    days = dict(CalendarDay.objects.filter(calendar=calendar).values_list("day", "kind"))
    with _lock:
        _cache[calendar] = (now, days)
    return days


def _is_workday(day: date, special: dict[date, str]) -> bool:
    kind = special.get(day)
    if kind is not None:
        return kind == DayKind.WORKDAY
    return day.weekday() < 5


def calendar_days(year: int, calendar: str = "default") -> list[dict[str, Any]]:
    """The special days of ``year`` in ``calendar`` by date: ``{"day", "kind", "name"}``."""
    return [{"day": row.day, "kind": row.kind, "name": row.name}
            for row in CalendarDay.objects.filter(calendar=calendar, day__year=year)
            .order_by("day")]


def is_workday(day: date, calendar: str = "default") -> bool:
    """See ``service.is_workday``."""
    if isinstance(day, datetime):
        day = _local(day).date()
    return _is_workday(day, _days(calendar))


def _local(value: datetime) -> datetime:
    return timezone.localtime(value) if timezone.is_aware(value) else value


def _step_to_workday(day: date, special: dict[date, str], step: int) -> date:
    for _i in range(_MAX_SEARCH):
        if _is_workday(day, special):
            return day
        day += timedelta(days=step)
    raise ValueError("working calendar has no working day within 400 days")


def add_working_days(start: datetime, days: int, calendar: str = "default") -> datetime:
    """See ``service.add_working_days``."""
    if not isinstance(days, int) or isinstance(days, bool) or abs(days) > _MAX_DAYS:
        raise ValueError(f"days must be an int within ±{_MAX_DAYS}")
    special = _days(calendar)
    local = _local(start)
    day = local.date()
    if days == 0:
        target = _step_to_workday(day, special, 1)
    else:
        step = 1 if days > 0 else -1
        remaining = abs(days)
        target = day
        while remaining:
            target = _step_to_workday(target + timedelta(days=step), special, step)
            remaining -= 1
    if target == day:
        return start
    # zoneinfo: combine with the local zone (no pytz localize needed)
    return datetime.combine(target, local.time(), tzinfo=local.tzinfo)


def office_hours() -> list[tuple[time_of_day, time_of_day]]:
    """The working periods of a working day, from ``YIWANG_OFFICE_HOURS``."""
    from django.conf import settings

    periods = []
    for part in str(settings.YIWANG_OFFICE_HOURS).split(","):
        begin, _dash, end = part.strip().partition("-")
        periods.append((time_of_day.fromisoformat(begin.strip()),
                        time_of_day.fromisoformat(end.strip())))
    return sorted(periods)


def add_working_hours(start: datetime, hours: float, calendar: str = "default") -> datetime:
    """See ``service.add_working_hours``."""
    if hours < 0 or hours > _MAX_DAYS * 24:
        raise ValueError("hours must be between 0 and the calendar's reach")
    special = _days(calendar)
    periods = office_hours()
    local = _local(start)
    remaining = timedelta(hours=hours)
    for _i in range(_MAX_DAYS):
        day = local.date()
        if _is_workday(day, special):
            for begin, end in periods:
                period_start = datetime.combine(day, begin, tzinfo=local.tzinfo)
                period_end = datetime.combine(day, end, tzinfo=local.tzinfo)
                if local >= period_end:
                    continue
                local = max(local, period_start)
                available = period_end - local
                if remaining <= available:
                    return local + remaining
                remaining -= available
                local = period_end
        local = datetime.combine(day + timedelta(days=1), time_of_day(0),
                                 tzinfo=local.tzinfo)
    raise ValueError("working calendar has no working hours within its reach")


def working_days_between(
    start: datetime | date, end: datetime | date, calendar: str = "default"
) -> int:
    """See ``service.working_days_between``."""
    first = _local(start).date() if isinstance(start, datetime) else start
    last = _local(end).date() if isinstance(end, datetime) else end
    if last == first:
        return 0
    sign = 1
    if last < first:
        first, last, sign = last, first, -1
    if (last - first).days > _MAX_DAYS * 2:
        raise ValueError("range too long")
    special = _days(calendar)
    count = 0
    day = first + timedelta(days=1)
    while day <= last:
        count += _is_workday(day, special)
        day += timedelta(days=1)
    return sign * count


@transaction.atomic
def set_day(
    day: date, kind: str, name: str, actor: Any = None, *, calendar: str = "default"
) -> None:
    """See ``service.set_day``."""
    from yiwang.core.audit import service as audit

    if kind not in (DayKind.HOLIDAY, DayKind.WORKDAY, "normal"):
        raise ValidationError(_("日期类型须为节假日、调休上班或普通日"), code="kind")
    if not isinstance(day, date) or isinstance(day, datetime):
        raise ValidationError(_("日期格式不正确"), code="day")
    name = (name or "").strip()
    if len(name) > 64:
        raise ValidationError(_("名称不能超过 64 个字"), code="name")
    user = actor if getattr(actor, "pk", None) else None
    if kind == "normal":
        CalendarDay.objects.filter(calendar=calendar, day=day).delete()
    else:
        CalendarDay.objects.update_or_create(
            calendar=calendar, day=day, defaults={"kind": kind, "name": name, "updated_by": user}
        )
    audit.record(
        "workflow.calendar_day",
        ("workflow.calendarday", f"{calendar}:{day.isoformat()}"),
        actor=actor,
        detail={"calendar": calendar, "day": day.isoformat(), "kind": kind, "name": name},
    )
    transaction.on_commit(clear_cache)
    clear_cache()


def _entries(source: dict[str, Any]) -> list[tuple[date, str, str]]:
    out: list[tuple[date, str, str]] = []
    problems: list[str] = []
    for key, kind in (("holidays", DayKind.HOLIDAY), ("workdays", DayKind.WORKDAY), ("days", None)):
        for item in source.get(key, []) or []:
            try:
                item_kind = kind or item["kind"]
                if item_kind not in (DayKind.HOLIDAY, DayKind.WORKDAY):
                    raise ValueError(item_kind)
                first = date.fromisoformat(item.get("from") or item["date"])
                last = date.fromisoformat(item.get("to") or item.get("date") or item["from"])
                if last < first or (last - first).days > 60:
                    raise ValueError("range")
            except (KeyError, TypeError, ValueError, AttributeError):
                problems.append(_("日历条目格式不正确：%(item)s") % {"item": str(item)[:80]})
                continue
            day = first
            while day <= last:
                out.append((day, str(item_kind), str(item.get("name") or "")[:64]))
                day += timedelta(days=1)
    if problems:
        raise ValidationError(problems, code="calendar")
    return out


@transaction.atomic
def load_calendar(path_or_dict: str | Path | dict[str, Any], *, actor: Any = None) -> int:
    """See ``service.load_calendar``."""
    from yiwang.core.audit import service as audit

    if isinstance(path_or_dict, dict):
        source = path_or_dict
    else:
        try:
            source = json.loads(Path(path_or_dict).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValidationError(
                _("无法读取日历文件：%(error)s") % {"error": exc}, code="calendar"
            ) from None
    if not isinstance(source, dict):
        raise ValidationError(_("日历文件格式不正确"), code="calendar")
    calendar = str(source.get("calendar") or "default")
    entries = _entries(source)
    user = actor if getattr(actor, "pk", None) else None
    written = 0
    existing = {
        d.day: d
        for d in CalendarDay.objects.filter(calendar=calendar, day__in=[e[0] for e in entries])
    }
    for day, kind, name in entries:
        current = existing.get(day)
        if current is not None and current.kind == kind and current.name == name:
            continue
        CalendarDay.objects.update_or_create(
            calendar=calendar, day=day, defaults={"kind": kind, "name": name, "updated_by": user}
        )
        written += 1
    if written:
        audit.record(
            "workflow.calendar_loaded",
            ("workflow.calendar", calendar),
            actor=actor,
            detail={"calendar": calendar, "days": written, "year": source.get("year")},
        )
    transaction.on_commit(clear_cache)
    clear_cache()
    return written


def month(year: int, month: int, calendar: str = "default") -> list[dict[str, Any]]:
    """Every day of a month with its kind (for the calendar page)."""
    special = {
        d.day: d
        for d in CalendarDay.objects.filter(calendar=calendar, day__year=year, day__month=month)
    }
    day = date(year, month, 1)
    out = []
    while day.month == month:
        entry = special.get(day)
        out.append(
            {
                "day": day,
                "workday": _is_workday(day, {k: v.kind for k, v in special.items()}),
                "kind": entry.kind if entry else ("normal"),
                "name": entry.name if entry else "",
            }
        )
        day += timedelta(days=1)
    return out
