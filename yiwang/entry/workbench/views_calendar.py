"""工作日历 in the workbench: the working calendar the statutory clock (法定时限) runs on.

A year as twelve month grids — public holidays (节假日), make-up working days (调休上班) and
weekends told apart by colour *and* by a text mark and a pattern —, editing one day's kind and
name, importing a year's list (CSV or JSON, pasted or uploaded; validated line by line and
saved all or nothing) and a checker that counts the working days between two dates.

Writes go through ``workflow.set_day`` / ``workflow.load_calendar``, which audit them.
Access: ``workflow.manage_calendar`` (管理工作日历), so an official without it gets 403.
"""

from __future__ import annotations

import calendar as pycalendar
import csv
import io
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from yiwang.enablement.workflow import service as workflow
from yiwang.entry.workbench.access import permission_required
from yiwang.entry.workbench.views import render_page

PERM = "workflow.manage_calendar"
NAV = "calendar"
CALENDAR = "default"
MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_IMPORT_BYTES = 256 * 1024
MAX_IMPORT_LINES = 400
HOLIDAY, WORKDAY, NORMAL = "holiday", "workday", "normal"
# What an import line may call a kind (the codes, and the words people write).
KIND_WORDS = {
    "holiday": HOLIDAY, "节假日": HOLIDAY, "假": HOLIDAY, "休": HOLIDAY, "放假": HOLIDAY,
    "workday": WORKDAY, "调休上班": WORKDAY, "调休": WORKDAY, "班": WORKDAY, "上班": WORKDAY,
}
WEEKDAYS = (gettext_lazy("一"), gettext_lazy("二"), gettext_lazy("三"), gettext_lazy("四"),
            gettext_lazy("五"), gettext_lazy("六"), gettext_lazy("日"))
WEEKDAY_NAMES = (gettext_lazy("星期一"), gettext_lazy("星期二"), gettext_lazy("星期三"),
                 gettext_lazy("星期四"), gettext_lazy("星期五"), gettext_lazy("星期六"),
                 gettext_lazy("星期日"))


# --- reading the calendar ------------------------------------------------------------------

def special_days(year: int) -> dict[date, tuple[str, str]]:
    """The year's special days (holidays, make-up workdays) as ``{day: (kind, name)}``."""
    return {d["day"]: (d["kind"], d.get("name") or "")
            for d in workflow.calendar_days(year, CALENDAR)}


@dataclass(frozen=True)
class Cell:
    day: date
    kind: str  # holiday / workday / weekend / normal
    name: str
    today: bool

    @property
    def works(self) -> bool:
        return self.kind in (WORKDAY, NORMAL)


def _kind_label(kind: str) -> str:
    return {HOLIDAY: _("节假日"), WORKDAY: _("调休上班"), "weekend": _("周末"),
            NORMAL: _("工作日")}[kind]


def year_grid(year: int) -> list[dict[str, Any]]:
    """Twelve months, each a list of weeks (Monday first) of :class:`Cell` or None."""
    special = special_days(year)
    today = timezone.localdate()
    months = []
    for month in range(1, 13):
        weeks = []
        for week in pycalendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
            row: list[Cell | None] = []
            for day in week:
                if day.month != month:
                    row.append(None)
                    continue
                kind, name = special.get(day, ("", ""))
                if not kind:
                    kind = "weekend" if day.weekday() >= 5 else NORMAL
                row.append(Cell(day, kind, name, day == today))
            weeks.append(row)
        months.append({"number": month, "weeks": weeks,
                       "holidays": sum(1 for d in special if d.month == month
                                       and special[d][0] == HOLIDAY),
                       "workdays": sum(1 for d in special if d.month == month
                                       and special[d][0] == WORKDAY)})
    return months


def _year(request: HttpRequest) -> int:
    try:
        year = int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        year = timezone.localdate().year
    return min(max(year, MIN_YEAR), MAX_YEAR)


# --- the counting checker ----------------------------------------------------------------

class CountForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("起始日期"),
                            widget=forms.DateInput(attrs={"type": "date", "class": "input"}))
    end = forms.DateField(label=gettext_lazy("截止日期"),
                          widget=forms.DateInput(attrs={"type": "date", "class": "input",
                                                        "aria-describedby": "count_end-hint"}),
                          help_text=gettext_lazy("按法定时限的算法:不算起始当天,算截止当天。"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and abs((end - start).days) > 3650 * 2:
            raise ValidationError(_("两个日期相隔不能超过二十年。"))
        return data


# --- pages ------------------------------------------------------------------------------------

@require_safe
@never_cache
@permission_required(PERM)
def calendar_year(request: HttpRequest) -> HttpResponse:
    """A year as month grids, and the working-days checker (``?start=&end=``)."""
    year = _year(request)
    count_form = CountForm(request.GET if "start" in request.GET else None,
                           auto_id="count_%s")
    result = None
    if count_form.is_bound and count_form.is_valid():
        start, end = count_form.cleaned_data["start"], count_form.cleaned_data["end"]
        result = {"start": start, "end": end,
                  "days": workflow.working_days_between(start, end, CALENDAR)}
    months = year_grid(year)
    return render_page(request, "workbench/calendar_year.html", NAV, {
        "year": year, "months": months, "weekdays": list(zip(WEEKDAYS, WEEKDAY_NAMES, strict=True)),
        "previous": year - 1 if year > MIN_YEAR else None,
        "next": year + 1 if year < MAX_YEAR else None,
        "holidays": sum(m["holidays"] for m in months),
        "workdays": sum(m["workdays"] for m in months),
        "count_form": count_form, "result": result,
    })


class DayForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("这一天是"), widget=forms.RadioSelect, choices=(
        (HOLIDAY, gettext_lazy("节假日(休息)")), (WORKDAY, gettext_lazy("调休上班")),
        (NORMAL, gettext_lazy("按星期计算(周一至周五上班,周末休息)"))))
    name = forms.CharField(label=gettext_lazy("名称"), max_length=64, required=False,
                           help_text=gettext_lazy("如“春节”“国庆节调休”;按星期计算时不保存。"),
                           widget=forms.TextInput(attrs={"class": "input",
                                                         "aria-describedby": "id_name-hint"}))


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@permission_required(PERM)
def calendar_day(request: HttpRequest, day: str) -> HttpResponse:
    """Set one day's kind and name, or clear it back to the weekday rule (删除)."""
    try:
        when = date.fromisoformat(day)
    except ValueError:
        raise Http404("not a date") from None
    if not MIN_YEAR <= when.year <= MAX_YEAR:
        raise Http404("year out of range")
    kind, name = special_days(when.year).get(when, (NORMAL, ""))
    form = DayForm(request.POST or None, initial={"kind": kind, "name": name})
    if request.method == "POST" and request.POST.get("action") == "delete":
        form = DayForm({"kind": NORMAL, "name": ""})
    if request.method == "POST" and form.is_valid():
        new_kind, new_name = form.cleaned_data["kind"], form.cleaned_data["name"]
        try:
            workflow.set_day(when, new_kind, new_name if new_kind != NORMAL else "",
                             request.user, calendar=CALENDAR)
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("%(day)s 已设为“%(kind)s”。") % {
                "day": when.isoformat(), "kind": _kind_label(
                    new_kind if new_kind != NORMAL
                    else ("weekend" if when.weekday() >= 5 else NORMAL))})
            return redirect(reverse("workbench:calendar") + f"?year={when.year}"
                            + f"#month-{when.month}")
    return render_page(request, "workbench/calendar_day.html", NAV, {
        "day": when, "weekday": WEEKDAY_NAMES[when.weekday()], "form": form,
        "special": kind != NORMAL, "current": _kind_label(
            kind if kind != NORMAL else ("weekend" if when.weekday() >= 5 else NORMAL)),
    })


# --- import --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    line: int
    day: date
    kind: str
    name: str


def _rows(text: str) -> list[tuple[int, Any]]:
    """``(line number, raw item)`` from JSON (a list, or ``{"days": [...]}``) or CSV."""
    stripped = text.lstrip("\ufeff").strip()
    if stripped.startswith(("[", "{")):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise ValidationError(_("JSON 格式错误(第 %(line)d 行):%(msg)s")
                                  % {"line": exc.lineno, "msg": exc.msg}) from None
        if isinstance(data, dict):
            data = data.get("days")
        if not isinstance(data, list):
            raise ValidationError(_("JSON 须是一个列表,或含 days 列表的对象。"))
        return [(n, item) for n, item in enumerate(data, start=1)]
    rows = []
    for n, cells in enumerate(csv.reader(io.StringIO(stripped)), start=1):
        if not cells or not "".join(cells).strip() or cells[0].strip().startswith("#"):
            continue
        if n == 1 and cells[0].strip().lower() in ("date", "日期"):
            continue  # a header line
        rows.append((n, {"date": cells[0], "kind": cells[1] if len(cells) > 1 else "",
                         "name": cells[2] if len(cells) > 2 else "", "_cells": len(cells)}))
    return rows


def parse_import(text: str, year: int) -> tuple[list[Entry], list[str]]:
    """Every line checked: a date of ``year``, a kind, a name of at most 64 characters, no
    date twice. Returns the entries and the problems (one message per line at fault)."""
    problems: list[str] = []
    try:
        rows = _rows(text)
    except ValidationError as exc:
        return [], list(exc.messages)
    if not rows:
        return [], [_("没有可导入的内容。")]
    if len(rows) > MAX_IMPORT_LINES:
        return [], [_("一次最多导入 %(n)d 行。") % {"n": MAX_IMPORT_LINES}]
    entries: list[Entry] = []
    seen: dict[date, int] = {}
    for line, item in rows:
        where = _("第 %(n)d 行") % {"n": line}
        if not isinstance(item, dict):
            problems.append(_("%(where)s:须是含 date、kind、name 的对象。") % {"where": where})
            continue
        if item.get("_cells", 3) > 3:
            problems.append(_("%(where)s:列数过多(应为 日期,类型,名称)。") % {"where": where})
            continue
        raw_day = str(item.get("date") or "").strip()
        try:
            day = date.fromisoformat(raw_day)
        except ValueError:
            problems.append(_("%(where)s:日期“%(value)s”不是 YYYY-MM-DD 格式。")
                            % {"where": where, "value": raw_day[:20]})
            continue
        kind = KIND_WORDS.get(str(item.get("kind") or "").strip().lower())
        name = str(item.get("name") or "").strip()
        if day.year != year:
            problems.append(_("%(where)s:%(day)s 不在 %(year)d 年内。")
                            % {"where": where, "day": day.isoformat(), "year": year})
        elif day in seen:
            problems.append(_("%(where)s:%(day)s 与第 %(first)d 行重复。")
                            % {"where": where, "day": day.isoformat(), "first": seen[day]})
        elif kind is None:
            problems.append(_("%(where)s:类型“%(value)s”无效,应为 holiday(节假日)或 "
                              "workday(调休上班)。")
                            % {"where": where, "value": str(item.get("kind") or "")[:20]})
        elif len(name) > 64:
            problems.append(_("%(where)s:名称不能超过 64 个字。") % {"where": where})
        else:
            seen[day] = line
            entries.append(Entry(line, day, kind, name))
    return entries, problems


@transaction.atomic
def import_year(entries: list[Entry], year: int, *, replace: bool, actor: Any) -> int:
    """Save the entries (all or nothing); with ``replace``, the year's other special days
    go back to the weekday rule. Returns the number of days changed."""
    changed = 0
    if replace:
        keep = {e.day for e in entries}
        for day in special_days(year):
            if day not in keep:
                workflow.set_day(day, NORMAL, "", actor, calendar=CALENDAR)
                changed += 1
    changed += workflow.load_calendar({
        "calendar": CALENDAR, "year": year,
        "days": [{"date": e.day.isoformat(), "kind": e.kind, "name": e.name} for e in entries],
    }, actor=actor)
    return changed


class ImportForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("年份"), min_value=MIN_YEAR, max_value=MAX_YEAR,
                              widget=forms.NumberInput(attrs={"class": "input input--short"}))
    text = forms.CharField(label=gettext_lazy("粘贴清单"), required=False,
                           widget=forms.Textarea(attrs={"class": "input svc-json", "rows": 12,
                                                        "aria-describedby": "import-format"}))
    file = forms.FileField(label=gettext_lazy("或上传文件(CSV 或 JSON,UTF-8)"), required=False,
                           widget=forms.ClearableFileInput(attrs={
                               "accept": ".csv,.json,text/csv,application/json",
                               "aria-describedby": "import-format"}))
    replace = forms.BooleanField(
        label=gettext_lazy("替换该年已有的特殊日(清单里没有的恢复为按星期计算)"),
        required=False, initial=True)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@permission_required(PERM)
def calendar_import(request: HttpRequest) -> HttpResponse:
    """Import a year's holidays and make-up workdays; any error and nothing is saved."""
    form = ImportForm(request.POST or None, request.FILES or None,
                      initial={"year": _year(request), "replace": True})
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        year = form.cleaned_data["year"]
        upload = form.cleaned_data["file"]
        text = form.cleaned_data["text"] or ""
        if upload is not None:
            if upload.size > MAX_IMPORT_BYTES:
                problems.append(_("文件不能超过 256 KB。"))
            else:
                try:
                    text = upload.read().decode("utf-8")
                except UnicodeDecodeError:
                    problems.append(_("文件不是 UTF-8 编码。"))
        if not problems:
            entries, problems = parse_import(text, year)
        if not problems:
            try:
                changed = import_year(entries, year, replace=form.cleaned_data["replace"],
                                      actor=request.user)
            except ValidationError as exc:
                problems = list(exc.messages)
            else:
                messages.success(request, _("已导入 %(year)d 年的 %(n)d 个特殊日,%(c)d 天有变化。")
                                 % {"year": year, "n": len(entries), "c": changed})
                return redirect(reverse("workbench:calendar") + f"?year={year}")
    return render_page(request, "workbench/calendar_import.html", NAV, {
        "form": form, "problems": problems})
