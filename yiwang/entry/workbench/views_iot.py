"""感知设备 in the workbench: the devices of the official's departments with their health
and charts of their readings, the alarms (acknowledge, clear), the cameras with their latest
still, and the queue of video detections waiting for a person (confirm: a case is opened;
dismiss: a false alarm).

Scope: an official sees what belongs to their departments and those departments' internal
units (``perception.department_scope``); a superuser sees all. Anything outside the scope is
a 404, never a 403 that would confirm it exists. Pages need ``perception.view_device``;
acknowledging and clearing alarms ``perception.change_alarm``; reviewing detections
``ai.change_detection``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from yiwang.core.uploads import service as uploads
from yiwang.enablement.ai import service as ai
from yiwang.entry.workbench.access import permission_required
from yiwang.entry.workbench.views import page_query, render_page
from yiwang.platform.orgs import service as orgs
from yiwang.platform.perception import service as perception
from yiwang.platform.regions import service as regions

PER_PAGE = 25
VIEW = "perception.view_device"
STATUSES = (("", gettext_lazy("全部")), ("online", gettext_lazy("在线")),
            ("silent", gettext_lazy("静默")), ("never", gettext_lazy("从未上报")),
            ("inactive", gettext_lazy("已停用")))
ALARM_STATES = (("open", gettext_lazy("未恢复")), ("unacknowledged", gettext_lazy("待确认")),
                ("cleared", gettext_lazy("已恢复")), ("all", gettext_lazy("全部")))
DETECTION_STATES = (("review", gettext_lazy("待复核")), ("automatic", gettext_lazy("自动立案")),
                    ("confirmed", gettext_lazy("已确认")), ("dismissed", gettext_lazy("误报")),
                    ("", gettext_lazy("全部")))
RANGES = (("1d", gettext_lazy("24 小时"), 1), ("7d", gettext_lazy("7 天"), 7),
          ("30d", gettext_lazy("30 天"), 30), ("365d", gettext_lazy("一年"), 365))


def _scope(request: HttpRequest) -> list[str] | None:
    return perception.department_scope(request.user)


def _choice(request: HttpRequest, name: str, choices: tuple[tuple[Any, ...], ...],
            default: str) -> str:
    value = request.GET.get(name, default)
    return value if value in {c[0] for c in choices} else default


def _case_number(ref: str) -> str:
    """The case number in a ``handled_ref`` such as ``case:CG…`` (or "")."""
    for part in (ref or "").split(","):
        if part.startswith("case:"):
            return part[5:]
    return ""


@require_safe
@never_cache
@permission_required(VIEW)
def devices(request: HttpRequest) -> HttpResponse:
    """The devices in the official's scope, with counts by health and filters."""
    scope = _scope(request)
    status = _choice(request, "status", STATUSES, "")
    q = request.GET.get("q", "")[:40].strip()
    type_code = request.GET.get("type", "")[:32]
    district = request.GET.get("district", "")[:12]
    filters = {"q": q, "type_code": type_code, "district_code": district}
    rows = perception.list_devices(scope, status=status, **filters)
    counts = {code: perception.list_devices(scope, status=code, **filters).count()
              for code, _label in STATUSES}
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    now = timezone.now()
    return render_page(request, "workbench/iot_devices.html", "devices", {
        "tab": "devices", "page": page, "status": status, "q": q, "type_code": type_code,
        "district": district, "query": page_query(request),
        "statuses": [(code, label, counts[code]) for code, label in STATUSES],
        "types": perception.DeviceType.objects.order_by("code"),
        "districts": regions.list_regions(level="district"),
        "rows": [{"device": d, "status": perception.health_status(d, now)}
                 for d in page.object_list],
    })


def _device(request: HttpRequest, code: str) -> Any:
    found = perception.list_devices(_scope(request)).filter(code=code).first()
    if found is None:
        raise Http404("no such device for this official")
    return found


@require_safe
@never_cache
@permission_required(VIEW)
def device(request: HttpRequest, code: str) -> HttpResponse:
    """A device: where it is, its health and rejected readings, a chart of each metric, its
    rules and recent alarms."""
    found = _device(request, code)
    span = _choice(request, "range", RANGES, "1d")
    days = next(d for c, _label, d in RANGES if c == span)
    end_ms = int(timezone.now().timestamp() * 1000) + 60_000
    margin = 0.004
    return render_page(request, "workbench/iot_device.html", "devices", {
        "tab": "devices", "device": found, "health": perception.device_health(found),
        "department": orgs.get_department(found.department_code),
        "metrics": found.type.metrics, "span": span,
        "ranges": [(c, label) for c, label, _d in RANGES],
        "start_ms": end_ms - days * perception.DAY_MS, "end_ms": end_ms,
        "rules": perception.rules_for(found),
        "alarms": [{"alarm": a, "case": _case_number(a.handled_ref)}
                   for a in perception.list_alarms(_scope(request), state="all",
                                                   device_code=found.code)[:10]],
        "grids_bbox": ",".join(f"{v:.6f}" for v in (found.lon - margin, found.lat - margin,
                                                     found.lon + margin, found.lat + margin)),
    })


@require_safe
@never_cache
@permission_required(VIEW)
def alarms(request: HttpRequest) -> HttpResponse:
    """The alarms in the official's scope, newest first, by state and severity."""
    state = _choice(request, "state", ALARM_STATES, "open")
    severity = request.GET.get("severity", "")
    if severity not in perception.Severity.values:
        severity = ""
    rows = perception.list_alarms(_scope(request), state=state, severity=severity)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render_page(request, "workbench/iot_alarms.html", "devices", {
        "tab": "alarms", "page": page, "state": state, "severity": severity,
        "states": ALARM_STATES, "severities": perception.Severity.choices,
        "query": page_query(request), "may_act": request.user.has_perm("perception.change_alarm"),
        "rows": [{"alarm": a, "case": _case_number(a.handled_ref)}
                 for a in page.object_list],
    })


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()},
                                                  require_https=request.is_secure()):
        return redirect(target)
    return redirect(fallback)


@require_POST
@permission_required(VIEW, "perception.change_alarm")
def alarm_act(request: HttpRequest, alarm_id: int, action: str) -> HttpResponse:
    """Acknowledge (确认) or clear (清除) an alarm; both are idempotent."""
    verbs = {"acknowledge": perception.acknowledge_alarm, "clear": perception.clear_alarm}
    if action not in verbs:
        raise Http404("no such action")
    try:
        alarm = verbs[action](alarm_id, request.user, _scope(request))
    except perception.Alarm.DoesNotExist:
        raise Http404("no such alarm for this official") from None
    if action == "acknowledge":
        messages.success(request, _("已确认告警：%(message)s") % {"message": alarm.message})
    else:
        messages.success(request, _("已清除告警：%(message)s") % {"message": alarm.message})
    return _back(request, "workbench:iot_alarms")


@require_safe
@never_cache
@permission_required(VIEW)
def cameras(request: HttpRequest) -> HttpResponse:
    """The cameras in the official's scope with their latest still and inspection zones."""
    scope = _scope(request)
    rows = perception.list_cameras(scope).order_by("code")
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    pending = dict(ai.list_detections(scope, status="review")
                   .values_list("camera__code").annotate(n=Count("id")))
    return render_page(request, "workbench/iot_cameras.html", "devices", {
        "tab": "cameras", "page": page, "query": page_query(request),
        "rows": [{"camera": c, "pending": pending.get(c.code, 0)} for c in page.object_list],
    })


@require_safe
@never_cache
@permission_required(VIEW)
def camera_snapshot(request: HttpRequest, code: str) -> HttpResponse:
    return _image(lambda: perception.camera_snapshot(code, _scope(request),
                                                     actor=request.user))


def _image(load: Any) -> HttpResponse:
    """The image ``load()`` reads (audited by the uploads app), or 404 when it raises
    DoesNotExist: out of scope and absent look the same."""
    try:
        found = load()
    except (perception.Camera.DoesNotExist, ai.VideoDetection.DoesNotExist):
        raise Http404("no such image") from None
    return uploads.file_response(*found)


@require_safe
@never_cache
@permission_required(VIEW)
def detections(request: HttpRequest) -> HttpResponse:
    """Video detections: the ones waiting for a person first."""
    status = _choice(request, "status", DETECTION_STATES, "review")
    camera = request.GET.get("camera", "")[:48]
    rows = ai.list_detections(_scope(request), status=status, camera_code=camera)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render_page(request, "workbench/iot_detections.html", "devices", {
        "tab": "detections", "page": page, "status": status, "camera": camera,
        "states": DETECTION_STATES, "query": page_query(request),
        "may_review": request.user.has_perm("ai.change_detection"),
        "rows": [{"detection": d, "case": _case_number(d.handled_ref)}
                 for d in page.object_list],
    })


@require_safe
@never_cache
@permission_required(VIEW)
def detection_snapshot(request: HttpRequest, detection_id: int) -> HttpResponse:
    return _image(lambda: ai.detection_snapshot(detection_id, _scope(request),
                                                actor=request.user))


@require_POST
@permission_required(VIEW, "ai.change_detection")
def detection_review(request: HttpRequest, detection_id: int, action: str) -> HttpResponse:
    """Confirm a detection (a case is opened on its grid) or dismiss it as a false alarm."""
    if action not in ("confirm", "dismiss"):
        raise Http404("no such action")
    try:
        found = ai.review_detection(detection_id, request.user, _scope(request),
                                    confirm=action == "confirm")
    except ai.VideoDetection.DoesNotExist:
        raise Http404("no such detection for this official") from None
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _back(request, "workbench:iot_detections")
    number = _case_number(found.handled_ref)
    if action == "dismiss":
        messages.success(request, _("已标记为误报。"))
    elif number:
        messages.success(request, _("已确认，立案编号 %(number)s。") % {"number": number})
    else:
        messages.warning(request, _("已确认，但未能立案：请检查该区域的立案类别。"))
    return _back(request, "workbench:iot_detections")
