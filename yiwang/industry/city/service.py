"""Public facade of city management (一网统管 / 智慧城管): the category table, reports from
every source, the life of a case, who answers for which grid, and the clock.

Every state change goes through :func:`transition` (see ``cases.py`` for the table of
actions): checked, put on the case's timeline, audited and appended to the ledger in one
transaction. Alarms of the perception platform whose rule names a case category open a case
through :func:`case_from_alarm` (registered as an alarm handler when the app starts).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from yiwang.industry.city import access
from yiwang.industry.city.cases import (
    ACTION_LABELS,
    TRANSITIONS,
    Conflict,
    Reported,
    report,
    tick,
    transition,
)
from yiwang.industry.city.categories import load_categories, save_category, tree
from yiwang.industry.city.models import (
    OPEN_STATES,
    Case,
    CaseCategory,
    CaseEvent,
    CaseStat,
    DutyRole,
    GridDuty,
    Source,
    State,
)
from yiwang.industry.city.open311 import Open311Error, check_attributes
from yiwang.industry.city.open311 import client_for as open311_client_for
from yiwang.industry.city.open311 import create_request as open311_create
from yiwang.industry.city.open311 import definition as open311_definition
from yiwang.industry.city.open311 import register_client as register_open311_client
from yiwang.industry.city.open311 import request as open311_request
from yiwang.industry.city.open311 import requests as open311_requests
from yiwang.industry.city.open311 import services as open311_services
from yiwang.industry.city.stats import summary as cockpit_summary

__all__ = [
    "ACTION_LABELS",
    "OPEN_STATES",
    "TRANSITIONS",
    "Case",
    "CaseCategory",
    "CaseEvent",
    "CaseStat",
    "Conflict",
    "DutyRole",
    "Open311Error",
    "Reported",
    "Source",
    "State",
    "allowed_actions",
    "assign_duty",
    "can_see",
    "case_from_alarm",
    "case_from_detection",
    "case_photo",
    "category_tree",
    "check_attributes",
    "cockpit_summary",
    "get_case",
    "list_cases",
    "load_categories",
    "may",
    "open311_client_for",
    "open311_create",
    "open311_definition",
    "open311_request",
    "open311_requests",
    "open311_services",
    "register_open311_client",
    "report",
    "report_source",
    "save_category",
    "tick",
    "timeline",
    "transition",
]

can_see = access.can_see
may = access.may
report_source = access.report_source
category_tree = tree


def assign_duty(grid_code: str, user: Any, role: str, department_code: str = "") -> GridDuty:
    """Make ``user`` the handler (of ``department_code``) or the inspector of a grid."""
    if role not in DutyRole.values:
        raise ValueError(f"unknown role {role!r}")
    duty, _created = GridDuty.objects.get_or_create(grid_code=grid_code, role=role, user=user,
                                                    department_code=department_code)
    return duty


def get_case(number: str, user: Any) -> Case:
    """The case ``number`` if ``user`` may see it; else Case.DoesNotExist (the same for a
    case that does not exist and one of somebody else)."""
    case = (Case.objects.select_related("category", "category__parent", "assignee",
                                        "inspector", "duplicate_of")
            .filter(number=number).first())
    if case is None or not access.can_see(user, case):
        raise Case.DoesNotExist(number)
    return case


def list_cases(user: Any, *, state: str = "", category_code: str = "", district_code: str = "",
               source: str = "", q: str = "", overdue: bool | None = None,
               mine: bool = False) -> QuerySet[Case]:
    """The cases ``user`` may see, newest first, filtered. ``state`` ``open`` means any
    state before closing; ``mine`` the cases assigned to the user or waiting for their
    verification."""
    rows = Case.objects.select_related("category", "assignee")
    if not access.is_official(user):
        rows = rows.filter(reporter=user)
    elif not user.is_superuser:
        visible = Q(department_code__in=access.unit_codes(user))
        regions_q = Q()
        for code in access.region_codes(user):
            regions_q |= Q(grid_code__startswith=_prefix(code))
        if user.has_perm(access.DISPATCH) or user.has_perm(access.CALLS) or user.has_perm(
                access.VERIFY):
            visible |= regions_q if regions_q else Q(pk__in=[])
        inspected = GridDuty.objects.filter(user=user, role=DutyRole.INSPECTOR).values(
            "grid_code")
        visible |= Q(grid_code__in=inspected)
        rows = rows.filter(visible)
    if mine:
        rows = rows.filter(Q(assignee=user) | Q(inspector=user, state=State.HANDLED))
    if state == "open":
        rows = rows.filter(state__in=OPEN_STATES)
    elif state:
        rows = rows.filter(state=state)
    if category_code:
        rows = rows.filter(Q(category__code=category_code)
                           | Q(category__parent__code=category_code))
    if district_code:
        rows = rows.filter(district_code=district_code)
    if source:
        rows = rows.filter(source=source)
    if q:
        rows = rows.filter(Q(number__icontains=q) | Q(title__icontains=q)
                           | Q(address__icontains=q))
    if overdue is True:
        rows = rows.filter(overdue_at__isnull=False, state__in=OPEN_STATES)
    return rows.order_by("-reported_at", "-id")


def _prefix(region_code: str) -> str:
    from yiwang.platform.regions import service as regions

    return regions.code_prefix(region_code)


def case_photo(number: str, token: str, user: Any) -> tuple[bytes, str, str]:
    """``(bytes, content type, file name)`` of a photo of a case's timeline, for someone who
    may see the case (the read is audited by the uploads app); Case.DoesNotExist otherwise."""
    from yiwang.core.uploads import service as uploads

    case = get_case(number, user)
    upload = uploads.get_upload(token)
    if upload is None or not any(token in (event.photos or [])
                                 for event in case.events.all()):
        raise Case.DoesNotExist(number)
    content = uploads.read_upload(token, actor=user, purpose="city.case_photo")
    return content, str(upload.content_type), str(upload.filename or "photo.jpg")


def allowed_actions(case: Case, user: Any) -> list[str]:
    """The actions ``user`` may take on ``case`` in its state (for the pages' buttons)."""
    return [action for action, (states, _target) in TRANSITIONS.items()
            if case.state in states and access.may(user, action, case)]


def timeline(case: Case) -> list[CaseEvent]:
    """The case's steps, oldest first."""
    return list(case.events.select_related("actor").order_by("at", "id"))


DETECTION_TITLES = {"static_object": "视频识别：占道或堆物", "crowding": "视频识别：人员聚集"}


def case_from_detection(detection: Any) -> str | None:
    """The video-inspection handler: a confident (or confirmed) detection whose zone names a
    case category opens a case at the camera's place with the annotated snapshot, filed and
    dispatched at once (source: AI); idempotent per detection."""
    if not detection.category_code:
        return None
    ref = f"detection:{detection.pk}"
    existing = Case.objects.filter(external_ref=ref).values_list("number", flat=True).first()
    if existing:
        return f"case:{existing}"
    camera = detection.camera
    detail = (f"{camera.name}（{detection.zone}）置信度 {detection.confidence:.2f}"
              + (f"，停留 {detection.dwell_seconds:.0f} 秒" if detection.dwell_seconds else "")
              + (f"，{detection.count} 人" if detection.count else ""))
    reported = report(source=Source.AI, category_code=detection.category_code,
                      title=DETECTION_TITLES.get(detection.kind, "视频识别"),
                      description=detail, lon=camera.lon, lat=camera.lat, address=camera.name,
                      external_ref=ref, at=detection.detected_at,
                      photos=[detection.snapshot] if detection.snapshot else [],
                      photo_owner=f"camera:{camera.code}")
    case = reported.duplicate_of or reported.case
    return f"case:{case.number}"


def case_from_alarm(alarm: Any) -> str | None:
    """The alarm handler: an alarm whose rule names a case category opens (and, as a trusted
    source, files and dispatches) a case at the device's place; idempotent per alarm."""
    if not alarm.category_code:
        return None
    ref = f"alarm:{alarm.pk}"
    existing = Case.objects.filter(external_ref=ref).values_list("number", flat=True).first()
    if existing:
        return f"case:{existing}"
    device = alarm.device
    reported = report(source=Source.IOT, category_code=alarm.category_code,
                      title=alarm.rule_name, description=alarm.message, lon=device.lon,
                      lat=device.lat, address=device.address or device.name,
                      external_ref=ref, at=alarm.started_at)
    case = reported.duplicate_of or reported.case
    return f"case:{case.number}"
