"""Reporting and the life of a case (信息收集 → 立案 → 派遣 → 处置 → 反馈 → 核查结案 →
综合评价), every state change through :func:`transition`: checked (state, permission,
version), applied, put on the timeline, audited and appended to the ledger in one
transaction.

=========== ========================= ========================================= ============
action      from                      to                                        who
=========== ========================= ========================================= ============
file        reported                  filed, then dispatched when someone answers command centre
not_file    reported                  not_filed (with the reason)               command centre
dispatch    filed, returned           dispatched (department, person, deadline) command centre
accept      dispatched                handling                                  department
update      handling                  handling (progress, photos)               department
return      dispatched, handling      returned (not ours: reason)               department
extend      dispatched, handling      same (deadline moved)                     command centre
handle      dispatched, handling      handled (result, photos)                  department
verify_pass handled                   closed (photo at the place)               inspector
verify_fail handled                   handling (rework)                         inspector
evaluate    closed                    closed (satisfaction 1–5)                 reporter / hotline
=========== ========================= ========================================= ============
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from yiwang.core.audit import service as audit
from yiwang.enablement.ledger import service as ledger
from yiwang.enablement.workflow import service as workflow
from yiwang.industry.city import access, dispatch, stats
from yiwang.industry.city.models import (
    CLOCK_STATES,
    OPEN_STATES,
    Case,
    CaseCategory,
    CaseEvent,
    CaseSequence,
    LimitUnit,
    Source,
    State,
)
from yiwang.platform.regions import service as regions
from yiwang.support.gis import service as gis
from yiwang.support.notify import service as notify

logger = logging.getLogger("yiwang.city")

#: Sources whose reports are filed (and dispatched) at once: the platform's own sensors and
#: cameras, and grid inspectors, whose reports are verified by who they are.
TRUSTED_SOURCES = (Source.IOT, Source.AI, Source.INSPECTOR)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "file": ((State.REPORTED,), State.FILED),
    "not_file": ((State.REPORTED,), State.NOT_FILED),
    "dispatch": ((State.FILED, State.RETURNED), State.DISPATCHED),
    "accept": ((State.DISPATCHED,), State.HANDLING),
    "update": ((State.HANDLING,), None),
    "return": ((State.DISPATCHED, State.HANDLING), State.RETURNED),
    "extend": ((State.DISPATCHED, State.HANDLING), None),
    "handle": ((State.DISPATCHED, State.HANDLING), State.HANDLED),
    "verify_pass": ((State.HANDLED,), State.CLOSED),
    "verify_fail": ((State.HANDLED,), State.HANDLING),
    "reply": ((State.HANDLED, State.CLOSED), None),
    "evaluate": ((State.CLOSED,), None),
}
ACTION_LABELS = {
    "report": gettext_lazy("上报"), "file": pgettext_lazy("case action", "立案"),
    "not_file": pgettext_lazy("case action", "不予立案"), "dispatch": gettext_lazy("派遣"),
    "accept": gettext_lazy("接单处置"), "update": gettext_lazy("处置进展"),
    "return": gettext_lazy("退回"), "extend": gettext_lazy("延期"),
    "handle": gettext_lazy("处置完成"), "verify_pass": gettext_lazy("核查通过，结案"),
    "verify_fail": gettext_lazy("核查不通过，返工"), "reply": gettext_lazy("答复来电人"),
    "evaluate": gettext_lazy("评价"),
    "duplicate": gettext_lazy("重复上报"), "warned": gettext_lazy("即将超期"),
    "overdue": gettext_lazy("已超期"),
}
NEEDS_NOTE = ("not_file", "return", "verify_fail", "reply")


class Conflict(Exception):
    """Someone else changed the case first (its version moved on)."""


@dataclass(frozen=True)
class Reported:
    case: Case
    duplicate_of: Case | None


def _error(message: str, code: str, field: str | None = None) -> ValidationError:
    error = ValidationError(message, code=code)
    return ValidationError({field: [error]}) if field else error


# --- numbers ------------------------------------------------------------------------------

def _next_number(district_code: str, day: date) -> str:
    updated = CaseSequence.objects.filter(district_code=district_code, day=day).update(
        last=F("last") + 1)
    if not updated:
        try:
            with transaction.atomic():
                CaseSequence.objects.create(district_code=district_code, day=day, last=1)
        except IntegrityError:
            CaseSequence.objects.filter(district_code=district_code, day=day).update(
                last=F("last") + 1)
    last = CaseSequence.objects.filter(district_code=district_code, day=day).values_list(
        "last", flat=True).get()
    return f"{district_code[:6]}{day:%Y%m%d}{last:05d}"


# --- places -------------------------------------------------------------------------------

def _grid(lon: Any, lat: Any) -> Any:
    try:
        lon, lat = float(lon), float(lat)
        grid = regions.grid_at(lon, lat)
    except (TypeError, ValueError, ValidationError):
        raise _error(_("请在地图上选择问题所在位置（经纬度）"), "bad_location", "lon") from None
    if grid is None:
        raise _error(_("所选位置不在本市的网格范围内，请重新选择"), "outside_city", "lon")
    return grid


def nearby_open(category: CaseCategory, lon: float, lat: float, *, metres: float,
                since: datetime) -> Case | None:
    """The nearest open case of ``category`` within ``metres`` reported after ``since``."""
    min_lon, min_lat, max_lon, max_lat = gis.around(lon, lat, metres)
    candidates = Case.objects.filter(
        category=category, state__in=OPEN_STATES, lon__gte=min_lon, lon__lte=max_lon,
        lat__gte=min_lat, lat__lte=max_lat, reported_at__gte=since,
    ).only("pk", "lon", "lat", "number", "state")[:50]
    best, best_d = None, metres
    for case in candidates:
        d = gis.distance_m(lon, lat, case.lon, case.lat)
        if d <= best_d:
            best, best_d = case, d
    return best


# --- reporting ----------------------------------------------------------------------------

def _category(code: str) -> CaseCategory:
    category = CaseCategory.objects.filter(code=code, active=True).first()
    if category is None or category.parent_id is None:
        raise _error(_("请选择问题的具体类别（小类）"), "no_category", "category_code")
    return category


def _event(case: Case, action: str, actor: Any, *, at: datetime, note: str = "",
           photos: Sequence[str] = (), lon: float | None = None, lat: float | None = None,
           department_code: str = "") -> CaseEvent:
    label = _actor_label(actor)
    receipt = ledger.append("city.case", {
        "case": case.number, "action": action, "state": case.state,
        "category": case.category.code, "district": case.district_code,
        "department": case.department_code or None,
        "actor": f"user:{actor.pk}" if actor is not None else "system",
        "at": at.isoformat(timespec="seconds"), "photos": len(photos),
        "version": case.row_version})
    event = CaseEvent.objects.create(
        case=case, action=action, state=case.state, actor=actor, actor_label=label,
        department_code=department_code or case.department_code, note=note[:500],
        photos=list(photos), lon=lon, lat=lat, at=at, ledger_index=receipt.index)
    audit.record(f"city.case.{action}", case, actor=actor,
                 detail={"number": case.number, "state": case.state})
    stats.record(case, action, at)
    return event


def _actor_label(actor: Any) -> str:
    if actor is None:
        return str(_("系统"))
    name = getattr(actor, "display_name", "") or actor.get_username()
    return str(name)[:64]


def _claim_photos(photos: Sequence[str], owner_key: str) -> list[str]:
    from yiwang.core.uploads import service as uploads

    claimed = []
    for token in photos:
        upload = uploads.get_upload(token)
        if upload is None or upload.owner_key != owner_key:
            raise _error(_("照片已失效，请重新上传"), "bad_photo", "photos")
        uploads.claim_upload(upload, owner_key)
        claimed.append(upload.token)
    return claimed


@transaction.atomic
def report(*, source: str, category_code: str, title: str, lon: Any, lat: Any,
           description: str = "", address: str = "", reporter: Any = None,
           reporter_name: str = "", reporter_phone: str = "", photos: Sequence[str] = (),
           photo_owner: str = "", external_ref: str = "", actor: Any = None,
           at: datetime | None = None) -> Reported:
    """Record a report from any source. A report of the same category within
    ``YIWANG_CASE_DEDUP_METRES`` of an open case reported in the last
    ``YIWANG_CASE_DEDUP_HOURS`` becomes a duplicate of it (its reporter follows that case);
    reports from trusted sources (sensors, cameras, inspectors) are filed and dispatched
    at once."""
    if source not in Source.values:
        raise _error(_("未知的上报来源"), "bad_source", "source")
    category = _category(category_code)
    title = (title or "").strip()
    if not title:
        raise _error(_("请填写问题标题"), "no_title", "title")
    if len(title) > 100 or len(description or "") > 2000 or len(address or "") > 200:
        raise _error(_("标题最多100字，描述最多2000字，地址最多200字"), "too_long", "title")
    grid = _grid(lon, lat)
    lon, lat = float(lon), float(lat)
    now = at or timezone.now()
    since = now - timedelta(hours=float(settings.YIWANG_CASE_DEDUP_HOURS))
    existing = nearby_open(category, lon, lat, metres=float(settings.YIWANG_CASE_DEDUP_METRES),
                           since=since)
    case = Case(
        number=_next_number(grid.district_code, timezone.localdate(now)), title=title,
        description=description or "", category=category, source=source, lon=lon, lat=lat,
        address=address or "", grid_code=grid.code, community_code=grid.community_id,
        street_code=grid.street_code, district_code=grid.district_code, reporter=reporter,
        reporter_name=reporter_name or "", reporter_phone=reporter_phone or "",
        external_ref=external_ref[:64], reported_at=now)
    if existing is not None:
        case.state = State.DUPLICATE
        case.duplicate_of = existing
        case.closed_at = now
    case.save()
    by = actor if actor is not None else reporter
    owner = photo_owner or (f"user:{by.pk}" if by is not None else "")
    claimed = _claim_photos(photos, owner) if photos else []
    _event(case, "report", by, at=now, note=description[:500], photos=claimed, lon=lon,
           lat=lat)
    if existing is not None:
        Case.objects.filter(pk=existing.pk).update(duplicate_count=F("duplicate_count") + 1)
        existing.refresh_from_db()
        _event(existing, "duplicate", by, at=now,
               note=_("同一问题的又一次上报：%(number)s") % {"number": case.number})
        return Reported(case, existing)
    if source in TRUSTED_SOURCES:
        transition(case, "file", actor=None, note=_("可信来源，自动立案"), at=at)
        case.refresh_from_db()
    return Reported(case, None)


# --- transitions ----------------------------------------------------------------------------

def _due(category: CaseCategory, start: datetime, amount: int | None = None) -> datetime:
    amount = category.time_limit if amount is None else amount
    if category.limit_unit == LimitUnit.WORKING_HOURS:
        return workflow.add_working_hours(start, amount)
    return workflow.add_working_days(start, amount)


def _lock(case: Case | int) -> Case:
    pk = case.pk if isinstance(case, Case) else case
    rows = Case.objects.select_related("category")
    if connection.features.has_select_for_update:
        rows = rows.select_for_update(of=("self",))
    return rows.get(pk=pk)


@transaction.atomic
def transition(case: Case | int, action: str, *, actor: Any, expected_version: int | None = None,
               note: str = "", photos: Sequence[str] = (), photo_owner: str = "",
               lon: float | None = None, lat: float | None = None,
               department_code: str | None = None, assignee: Any = None,
               extra: int | None = None, satisfaction: int | None = None,
               at: datetime | None = None) -> Case:
    """Take ``action`` on a case (see the module's table). Raises :class:`Conflict` when
    ``expected_version`` is stale, ``PermissionDenied`` when ``actor`` may not, and
    ``ValidationError`` (with a message per field) for an action the state does not allow
    or missing input. ``at`` records the action as of that time (the simulator and imports
    of past cases); by default, now."""
    if action not in TRANSITIONS:
        raise _error(_("未知的操作"), "bad_action", "action")
    locked = _lock(case)
    if expected_version is not None and locked.row_version != expected_version:
        raise Conflict(_("案卷 %(number)s 已被他人处理（当前状态：%(state)s），请刷新后再操作")
                       % {"number": locked.number, "state": locked.get_state_display()})
    allowed, target = TRANSITIONS[action]
    if locked.state not in allowed:
        raise _error(_("案卷当前状态为“%(state)s”，不能%(action)s")
                     % {"state": locked.get_state_display(), "action": ACTION_LABELS[action]},
                     "bad_state", "action")
    if not access.may(actor, action, locked):
        raise PermissionDenied(_("您无权对该案卷执行此操作"))
    note = (note or "").strip()
    if action in NEEDS_NOTE and not note:
        raise _error(_("请填写理由"), "no_note", "note")
    now = at or timezone.now()
    claimed: list[str] = []
    if photos:
        owner = photo_owner or (f"user:{actor.pk}" if actor is not None else "")
        claimed = _claim_photos(photos, owner)
    follow_up = _apply(locked, action, actor=actor, now=now, note=note, photos=claimed,
                       lon=lon, lat=lat, department_code=department_code, assignee=assignee,
                       extra=extra, satisfaction=satisfaction)
    if target is not None:
        locked.state = target
    locked.row_version += 1
    locked.save()
    _event(locked, action, actor, at=now, note=note, photos=claimed, lon=lon, lat=lat)
    _notify(locked, action)
    if follow_up:
        return transition(locked, follow_up, actor=None, at=at)
    return locked


def _apply(case: Case, action: str, *, actor: Any, now: datetime, note: str,
           photos: list[str], lon: float | None, lat: float | None,
           department_code: str | None, assignee: Any, extra: int | None,
           satisfaction: int | None) -> str | None:
    """Change the case's fields for ``action``; the name of an automatic next action."""
    if action == "file":
        case.filed_at = now
        answer = dispatch.responsible(case)
        if answer is not None:
            case.department_code, case.assignee = answer.department_code, answer.assignee
            return "dispatch"
    elif action == "not_file":
        case.closed_at = now
        case.outcome = note
    elif action == "dispatch":
        if department_code:
            answer = dispatch.to_department(case, department_code, assignee)
            case.department_code, case.assignee = answer.department_code, answer.assignee
        if not case.department_code:
            raise _error(_("请选择责任单位"), "no_department", "department_code")
        case.dispatched_at = now
        case.due_at = _due(case.category, now)
        case.warned_at = case.overdue_at = None
        case.inspector = dispatch.inspector(case)
    elif action == "return":
        case.return_count += 1
        case.department_code, case.assignee = "", None
        case.due_at = None
    elif action == "extend":
        if not extra or extra < 1 or extra > 30:
            raise _error(_("延期时长须为1至30（单位同类别时限）"), "bad_extra", "extra")
        case.due_at = _due(case.category, case.due_at or now, extra)
        case.extension_count += 1
        case.overdue_at = case.warned_at = None
    elif action == "accept":
        if case.assignee_id is None and actor is not None:
            case.assignee = actor
    elif action == "handle":
        if not photos:
            raise _error(_("请上传处置后的现场照片"), "no_photo", "photos")
        case.handled_at = now
        case.outcome = note
    elif action in ("verify_pass", "verify_fail"):
        if not photos:
            raise _error(_("请上传核查现场照片"), "no_photo", "photos")
        if lon is None or lat is None:
            raise _error(_("核查须在现场定位"), "no_location", "lon")
        limit = float(settings.YIWANG_CASE_VERIFY_METRES)
        if gis.distance_m(lon, lat, case.lon, case.lat) > limit:
            raise _error(_("核查位置距案发地超过%(m)s米，请到现场核查") % {"m": int(limit)},
                         "not_on_site", "lon")
        if action == "verify_pass":
            case.closed_at = now
            case.closed_on_time = bool(case.due_at is None or (case.handled_at or now)
                                       <= case.due_at)
        else:
            case.rework_count += 1
            case.handled_at = None
    elif action == "reply":
        if case.source != Source.HOTLINE:
            raise _error(_("只有 12345 热线来电需要答复来电人"), "not_a_call", "action")
        case.replied_at, case.reply = now, note
    elif action == "evaluate":
        if (case.source == Source.HOTLINE and case.replied_at is None and actor is not None
                and actor.pk != case.reporter_id):
            raise _error(_("请先答复来电人，再回访"), "not_replied", "action")
        if satisfaction is None or not 1 <= satisfaction <= 5:
            raise _error(_("满意度须为1至5"), "bad_satisfaction", "satisfaction")
        case.satisfaction = satisfaction
        case.evaluation = note
    return None


def _notify(case: Case, action: str) -> None:
    link = f"/city/cases/{case.number}"
    if action == "dispatch" and case.assignee_id:
        notify.notify(case.assignee_id, kind="city.case.dispatched",
                      title=_("新派遣案卷 %(number)s：%(title)s")
                      % {"number": case.number, "title": case.title},
                      body=_("请于 %(due)s 前处置完毕。")
                      % {"due": timezone.localtime(case.due_at).strftime("%Y-%m-%d %H:%M")
                         if case.due_at else "-"}, link=link, sms=case.category.urgent)
    elif action == "handle" and case.inspector_id:
        notify.notify(case.inspector_id, kind="city.case.verify",
                      title=_("请核查案卷 %(number)s") % {"number": case.number}, link=link)
    elif action in ("verify_pass", "not_file") and case.reporter_id:
        notify.notify(case.reporter_id, kind="city.case.closed",
                      title=_("您上报的问题 %(number)s 已办结") % {"number": case.number},
                      body=case.outcome[:200], link=f"/reports/{case.number}")


# --- the clock ----------------------------------------------------------------------------

def tick(now: datetime | None = None) -> dict[str, int]:
    """Warn the handler when 80 % of a case's time has passed, and mark it overdue and
    escalate to the department's head when the deadline passes; idempotent."""
    now = now or timezone.now()
    warned = overdue = 0
    for case in Case.objects.filter(state__in=CLOCK_STATES, due_at__isnull=False,
                                    overdue_at__isnull=True).select_related("category"):
        assert case.due_at is not None
        if case.due_at <= now:
            with transaction.atomic():
                Case.objects.filter(pk=case.pk).update(overdue_at=now)
                case.overdue_at = now
                _event(case, "overdue", None, at=now)
                for user_id in dispatch.escalation_targets(case):
                    notify.notify(user_id, kind="city.case.overdue",
                                  title=_("案卷 %(number)s 已超期") % {"number": case.number},
                                  link=f"/city/cases/{case.number}", sms=True)
            overdue += 1
        elif case.warned_at is None and case.dispatched_at is not None:
            span = case.due_at - case.dispatched_at
            if now >= case.dispatched_at + span * 0.8:
                with transaction.atomic():
                    Case.objects.filter(pk=case.pk).update(warned_at=now)
                    case.warned_at = now
                    _event(case, "warned", None, at=now)
                    if case.assignee_id:
                        notify.notify(case.assignee_id, kind="city.case.warned",
                                      title=_("案卷 %(number)s 即将超期")
                                      % {"number": case.number},
                                      link=f"/city/cases/{case.number}")
                warned += 1
    return {"warned": warned, "overdue": overdue}
