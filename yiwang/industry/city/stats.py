"""Case statistics for the cockpit (数字驾驶舱): counters per local day, region and
dimension, bumped in the transaction of every case event (see ``models.CaseStat``), and the
indicators read from them.

Indicators, as Chinese cities publish them (数字城管 评价指标), for a region and a period:

- 上报数 reported, 立案数 filed, 结案数 closed, 按期结案数 closed on time;
- 结案率 closure rate = closed / filed; 按期结案率 on-time rate = closed on time / closed;
- 返工率 rework rate = reworked / closed; 延期率 extension rate = extended / filed;
- 超期数 overdue (became overdue in the period) and, live, the open cases past due now;
- by source, major and minor category, department and child area; the daily trend; the
  places and kinds of high-frequency events (高频事件: community × category).
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from yiwang.industry.city.models import OPEN_STATES, Case, CaseStat, StatsVersion

#: the prefix of the monthly rows' dimensions (their day is the month's first): a period of
#: many months reads twelve rows a key, not 365
MONTH = "m:"
#: counters of events before a case has a department (they are not counted by department)
UNDISPATCHED = {"reported", "duplicates"}
COUNTERS = ("reported", "duplicates", "filed", "closed", "closed_on_time", "reworked",
            "extended", "returned", "overdue", "evaluations", "satisfaction_sum")
_UPSERT: dict[str, str] = {}
#: events this close to midnight may commit after it: they count as changing a past day
MIDNIGHT_MARGIN = timedelta(minutes=10)
DAY_DIMENSIONS = ("total", "category", "major", "source", "department", "hotspot")
PAST_SECONDS = 3600  # how long cached sums of past days live (the version keeps them right)


def _sql() -> str:
    sql = _UPSERT.get(connection.vendor)
    if sql is None:
        columns = ", ".join(COUNTERS)
        marks = ", ".join(["%s"] * (4 + len(COUNTERS)))
        updates = ", ".join(f"{c} = city_casestat.{c} + excluded.{c}" for c in COUNTERS)
        sql = (f"INSERT INTO city_casestat (day, region_code, dimension, key, {columns}) "  # noqa: S608
               f"VALUES ({marks}) ON CONFLICT (region_code, dimension, day, key) "
               f"DO UPDATE SET {updates}")
        _UPSERT[connection.vendor] = sql
    return sql


def city_code(code: str) -> str:
    return code[:4] + "0" * 8


def _regions(case: Case) -> list[str]:
    return [case.community_code, case.street_code, case.district_code,
            city_code(case.district_code)]


def _keys(case: Case) -> list[tuple[str, str]]:
    category = case.category
    major = category.parent.code if category.parent_id and category.parent else ""
    return [("total", ""), ("category", category.code), ("major", major),
            ("source", case.source), ("department", case.department_code or ""),
            ("hotspot", f"{case.community_code}|{category.code}")]


def bump(case: Case, at: datetime, **counts: int) -> None:
    """Add ``counts`` (counter name → amount) to the case's rows for the day of ``at``;
    call inside the transaction of the event."""
    if not counts:
        return
    day = timezone.localtime(at).date()
    values = [int(counts.get(c, 0)) for c in COUNTERS]
    keys = _keys(case)
    if set(counts) <= UNDISPATCHED:  # no department yet: nothing to count under one
        keys = [k for k in keys if k[0] != "department"]
    adapt = connection.ops.adapt_datefield_value
    rows = [(adapt(when), region, prefix + dimension, key, *values)
            for when, prefix in ((day, ""), (day.replace(day=1), MONTH))
            for region in _regions(case) for dimension, key in keys]
    with connection.cursor() as cursor:
        cursor.executemany(_sql(), rows)
    if day < timezone.localdate(timezone.now() + MIDNIGHT_MARGIN):
        past_changed()


def past_changed() -> None:
    """Note that statistics of a past day changed (in the caller's transaction)."""
    if not StatsVersion.objects.filter(key="past").update(version=F("version") + 1):
        _version_row()


def _version_row() -> StatsVersion:
    row, _created = StatsVersion.objects.get_or_create(
        key="past", defaults={"version": 1, "epoch": secrets.token_hex(8)})
    return row


def _past_version() -> str:
    found = StatsVersion.objects.filter(key="past").values_list("epoch", "version").first()
    epoch, version = found if found else (_version_row().epoch, 1)
    return f"{epoch}.{version}"


#: what each case action adds to the counters
ON_ACTION: dict[str, tuple[str, ...]] = {
    "report": ("reported",), "duplicate": ("duplicates",), "file": ("filed",),
    "return": ("returned",), "extend": ("extended",), "verify_fail": ("reworked",),
    "overdue": ("overdue",),
}


def record(case: Case, action: str, at: datetime) -> None:
    """Count one case event (from the transition that made it). A duplicate report counts
    on the case it duplicates (its ``duplicate`` event), not as a problem of its own."""
    if action == "report" and case.duplicate_of_id is not None:
        return
    counts = {name: 1 for name in ON_ACTION.get(action, ())}
    if action == "verify_pass":
        counts["closed"] = 1
        if case.closed_on_time:
            counts["closed_on_time"] = 1
    elif action == "evaluate" and case.satisfaction:
        counts["evaluations"] = 1
        counts["satisfaction_sum"] = int(case.satisfaction)
    bump(case, at, **counts)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _indicators(row: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {c: int(row.get(c) or 0) for c in COUNTERS}
    out["closure_rate"] = _rate(out["closed"], out["filed"])
    out["on_time_rate"] = _rate(out["closed_on_time"], out["closed"])
    out["rework_rate"] = _rate(out["reworked"], out["closed"])
    out["extension_rate"] = _rate(out["extended"], out["filed"])
    out["satisfaction"] = (round(out["satisfaction_sum"] / out["evaluations"], 2)
                           if out["evaluations"] else None)
    return out


def _sums(region_code: str, children: list[str], start: date, end: date) -> dict[str, Any]:
    """The statistics rows of ``start``…``end`` summed: totals, breakdowns by dimension and
    key, hotspots, the daily trend and the children's totals (plain data, cacheable)."""
    sums = {c: Sum(c) for c in COUNTERS}
    in_period = _period(start, end)
    mine = CaseStat.objects.filter(region_code=region_code)
    totals = mine.filter(in_period("total")).aggregate(**sums)
    breakdown: dict[str, dict[str, dict[str, int]]] = defaultdict(dict)
    wanted = Q()
    for dimension in ("category", "major", "source", "department"):
        wanted |= in_period(dimension)
    row: Any
    for row in mine.filter(wanted).values("dimension", "key").annotate(**sums):
        dimension = row["dimension"].removeprefix(MONTH)
        slot = breakdown[dimension].setdefault(row["key"], dict.fromkeys(COUNTERS, 0))
        for name in COUNTERS:
            slot[name] += int(row[name] or 0)
    hot: dict[str, int] = defaultdict(int)
    for row in mine.filter(in_period("hotspot")).values("key").annotate(count=Sum("reported")):
        hot[row["key"]] += int(row["count"] or 0)
    trend = {r["day"].isoformat(): (r["reported"], r["filed"], r["closed"])
             for r in mine.filter(dimension="total", day__gte=start, day__lte=end).values(
                 "day", "reported", "filed", "closed")}
    child_rows: Any = CaseStat.objects.filter(in_period("total"), region_code__in=children
                                              ).values("region_code").annotate(**sums)
    by_child = {r["region_code"]: {c: int(r[c] or 0) for c in COUNTERS} for r in child_rows}
    return {"totals": {c: int(totals[c] or 0) for c in COUNTERS},
            "breakdown": {d: dict(keyed) for d, keyed in breakdown.items()},
            "hot": dict(hot), "trend": trend, "children": by_child}


def _day_sums(region_code: str, children: list[str], day: date) -> dict[str, Any]:
    """:func:`_sums` of one day in one query (today's, read on every call): the region's
    rows of the day (about a thousand for a busy city: mostly hotspots) and its children's
    totals, summed here."""
    columns = ", ".join(COUNTERS)
    marks = ", ".join(["%s"] * len(children)) or "NULL"
    # every column of the (region, dimension, day, key) index constrained: seeks, not a
    # scan of the region's whole history; the children's totals only
    sql = (f"SELECT region_code, dimension, key, {columns} FROM city_casestat "  # noqa: S608
           f"WHERE region_code = %s AND dimension IN ({', '.join(['%s'] * 6)}) AND day = %s "
           f"UNION ALL SELECT region_code, dimension, key, {columns} FROM city_casestat "
           f"WHERE region_code IN ({marks}) AND dimension = 'total' AND day = %s")
    out: dict[str, Any] = {"totals": dict.fromkeys(COUNTERS, 0), "breakdown": {}, "hot": {},
                           "trend": {}, "children": {}}
    when = connection.ops.adapt_datefield_value(day)
    with connection.cursor() as cursor:
        cursor.execute(sql, [region_code, *DAY_DIMENSIONS, when, *children, when])
        rows = cursor.fetchall()
    hot = out["hot"]
    for row in rows:
        region, dimension, key = row[0], row[1], row[2]
        if dimension == "hotspot":  # most rows: only the reports count
            if region == region_code:
                hot[key] = hot.get(key, 0) + int(row[3] or 0)
            continue
        if region != region_code and dimension != "total":
            continue
        counts = dict(zip(COUNTERS, (int(v or 0) for v in row[3:]), strict=True))
        if region != region_code:
            _add(out["children"].setdefault(region, {}), counts)
        elif dimension == "total":
            _add(out["totals"], counts)
            out["trend"][day.isoformat()] = (counts["reported"], counts["filed"],
                                             counts["closed"])
        else:
            _add(out["breakdown"].setdefault(dimension, {}).setdefault(key, {}), counts)
    return out


def _add(into: dict[str, int], more: Mapping[str, int]) -> None:
    for name in COUNTERS:
        into[name] = into.get(name, 0) + int(more.get(name, 0))


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """The sums of two disjoint periods (``a`` is not changed: it may be a cached value)."""
    totals = dict(a["totals"])
    _add(totals, b["totals"])
    breakdown = {d: {k: dict(v) for k, v in keyed.items()} for d, keyed in a["breakdown"].items()}
    for dimension, keyed in b["breakdown"].items():
        for key, values in keyed.items():
            _add(breakdown.setdefault(dimension, {}).setdefault(key, {}), values)
    hot = dict(a["hot"])
    for key, count in b["hot"].items():
        hot[key] = hot.get(key, 0) + count
    children = {code: dict(values) for code, values in a["children"].items()}
    for code, values in b["children"].items():
        _add(children.setdefault(code, {}), values)
    return {"totals": totals, "breakdown": breakdown, "hot": hot,
            "trend": {**a["trend"], **b["trend"]}, "children": children}


def _past_sums(region_code: str, children: list[str], start: date, end: date
               ) -> dict[str, Any]:
    """:func:`_sums` of days before today, from the cache when nothing of them changed
    since (the version of past days is in the key)."""
    key = (f"city:stats:{_past_version()}:{region_code}:{start}:{end}:"
           f"{','.join(children)}")
    found = cache.get(key)
    if found is None:
        found = _sums(region_code, children, start, end)
        cache.set(key, found, PAST_SECONDS)
    return found


def summary(region_code: str, children: list[str], start: date, end: date,
            *, top: int = 10) -> dict[str, Any]:
    """The indicators of ``region_code`` (a city, district or street code) for the days
    ``start``…``end`` (inclusive), with breakdowns, the trend, the children's figures and
    the high-frequency events; plus the live open and overdue counts.

    The days before today are summed once and kept (their rows only change by a late event,
    which moves the version of past days); only today's rows are read on every call."""
    today = timezone.localdate()
    if end < today:
        sums = _past_sums(region_code, children, start, end)
    elif start >= today:
        sums = _sums(region_code, children, start, end)
    else:
        sums = _merge(_past_sums(region_code, children, start, today - timedelta(days=1)),
                      _day_sums(region_code, children, today))
    by = {dimension: sorted(({"key": key, **_indicators(values)}
                              for key, values in keyed.items()),
                             key=lambda r: (-r["reported"], -r["filed"], r["key"]))
          for dimension, keyed in sums["breakdown"].items()}
    hotspots = sorted(sums["hot"].items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    trend = []
    day = start
    while day <= end:
        reported, filed, closed = sums["trend"].get(day.isoformat(), (0, 0, 0))
        trend.append({"day": day.isoformat(), "reported": reported, "filed": filed,
                      "closed": closed})
        day += timedelta(days=1)
    areas = [{"code": code, **_indicators(sums["children"].get(code, {}))}
             for code in children]
    return {"indicators": _indicators(sums["totals"]), "by": by, "trend": trend,
            "areas": areas, "hotspots": [{"community": key.split("|")[0],
                                          "category": key.split("|")[1],
                                          "count": count} for key, count in hotspots],
            "live": live(region_code, children)}


def _period(start: date, end: date) -> Any:
    """A function of a dimension giving the filter of its rows for ``start``…``end``: the
    monthly rows of the whole months inside the period, the daily rows of the days around
    them."""
    months: list[date] = []
    first = start if start.day == 1 else (start.replace(day=28) + timedelta(days=4)).replace(
        day=1)
    while True:
        following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        if following - timedelta(days=1) > end:
            break
        months.append(first)
        first = following
    if not months:
        return lambda dimension: Q(dimension=dimension, day__gte=start, day__lte=end)
    head_end = months[0] - timedelta(days=1)
    tail_start = (months[-1].replace(day=28) + timedelta(days=4)).replace(day=1)

    def rows(dimension: str) -> Q:
        q = Q(dimension=MONTH + dimension, day__in=months)
        if start <= head_end:
            q |= Q(dimension=dimension, day__gte=start, day__lte=head_end)
        if tail_start <= end:
            q |= Q(dimension=dimension, day__gte=tail_start, day__lte=end)
        return q

    return rows


def _area_filter(region_code: str, children: list[str]) -> dict[str, Any]:
    """Equality filters the (state, district, street) index serves: a city by its
    districts, not by a code prefix (which would scan every case)."""
    if region_code.endswith("00000000"):
        return {"district_code__in": children}
    if region_code.endswith("000000"):
        return {"district_code": region_code}
    if region_code.endswith("000"):
        return {"district_code": region_code[:6] + "000000", "street_code": region_code}
    return {"street_code": region_code[:9] + "000", "community_code": region_code}


def live(region_code: str, children: list[str]) -> dict[str, int]:
    """Open cases and those past their deadline now, in the region (``children``: its
    child regions, for a city its districts)."""
    # one pass over the open cases of the area (the state and area index), both counts
    late = Q(due_at__lt=timezone.now())
    found = Case.objects.filter(state__in=OPEN_STATES, **_area_filter(region_code, children)
                                ).aggregate(open=Count("id"), overdue=Count("id", filter=late))
    return {"open": int(found["open"] or 0), "overdue": int(found["overdue"] or 0)}


def rebuild(progress: Any = None) -> int:
    """Recompute every statistics row from the cases themselves (after a bulk import, or
    to repair drifted counters): the cases are counted in the database by community,
    category, source, department and day of each date (reported, filed, closed, overdue),
    then spread to the street, district and city rows and the dimensions in Python.
    Counters without a date of their own count on a related one: returns and extensions on
    the filing day, rework and evaluations on the closing day; the department is the one
    the case has now (the kept counters use the one it had at each event, so they differ
    only for cases returned and dispatched elsewhere). Returns the rows written."""
    from django.db.models.functions import TruncDate

    from yiwang.industry.city.models import CaseCategory, State

    categories = {c.pk: (c.code, c.parent.code if c.parent else "")
                  for c in CaseCategory.objects.select_related("parent")}
    counts: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0] * len(COUNTERS))
    index = {name: i for i, name in enumerate(COUNTERS)}
    base = ("community_code", "street_code", "district_code", "category_id", "source",
            "department_code")
    plans: list[tuple[str, Q, dict[str, Any]]] = [
        ("reported_at", Q(), {"reported": Count("id", filter=Q(duplicate_of__isnull=True)),
                              "duplicates": Count("id", filter=Q(duplicate_of__isnull=False))}),
        ("filed_at", Q(filed_at__isnull=False), {"filed": Count("id"),
                                                  "returned": Sum("return_count"),
                                                  "extended": Sum("extension_count")}),
        ("closed_at", Q(state=State.CLOSED), {
            "closed": Count("id"), "closed_on_time": Count("id", filter=Q(closed_on_time=True)),
            "reworked": Sum("rework_count"),
            "evaluations": Count("id", filter=Q(satisfaction__isnull=False)),
            "satisfaction_sum": Sum("satisfaction")}),
        ("overdue_at", Q(overdue_at__isnull=False), {"overdue": Count("id")}),
    ]
    for column, condition, sums in plans:
        rows = (Case.objects.filter(condition).annotate(day=TruncDate(column))
                .values(*base, "day").annotate(**sums).order_by())
        for row in rows.iterator(chunk_size=20_000):
            code, major = categories.get(row["category_id"], ("", ""))
            keys = [("total", ""), ("category", code), ("major", major),
                    ("source", row["source"]), ("department", row["department_code"] or ""),
                    ("hotspot", f"{row['community_code']}|{code}")]
            district = row["district_code"]
            if set(sums) <= UNDISPATCHED:
                keys = [k for k in keys if k[0] != "department"]
            for region in (row["community_code"], row["street_code"], district,
                           city_code(district)):
                for dimension, key in keys:
                    for when, prefix in ((row["day"], ""), (row["day"].replace(day=1), MONTH)):
                        slot = counts[(when, region, prefix + dimension, key)]
                        for name in sums:
                            slot[index[name]] += int(row[name] or 0)
        if progress:
            progress(column)
    with transaction.atomic():
        CaseStat.objects.all().delete()
        batch: list[CaseStat] = []
        for (day, region, dimension, key), values in counts.items():
            batch.append(CaseStat(day=day, region_code=region, dimension=dimension, key=key,
                                  **dict(zip(COUNTERS, values, strict=True))))
            if len(batch) >= 5000:
                CaseStat.objects.bulk_create(batch)
                batch.clear()
        CaseStat.objects.bulk_create(batch)
        past_changed()
    return len(counts)
