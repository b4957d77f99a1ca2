"""案卷 in the workbench: the cases an official may see (filters, pagination) and a case's
detail — its place on the map, photos, timeline, and the actions the official may take:
the command centre files, dispatches and extends; the department accepts, reports
progress, returns or reports it handled with photos; the inspector verifies on site with a
photo and the place; a hotline operator records the call-back.

A case the official may not see is a 404. Every action carries the ``row_version`` the page
showed: when someone else acted first the action is refused with a plain message.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from yiwang.core.uploads import service as uploads
from yiwang.entry.workbench.access import official_required
from yiwang.entry.workbench.views import expected_version, render_page
from yiwang.industry.city import service as city
from yiwang.platform.orgs import service as orgs

PER_PAGE = 20
FILTERS = (("open", gettext_lazy("办理中")), ("mine", gettext_lazy("我的待办")),
           ("overdue", gettext_lazy("已超期")), ("closed", gettext_lazy("已结案")),
           ("all", gettext_lazy("全部")))
PHOTO_BYTES = 8 * 1024 * 1024
NOTE_REQUIRED = ("not_file", "return", "verify_fail", "reply")
PHOTO_REQUIRED = ("handle", "verify_pass", "verify_fail")


@require_safe
@never_cache
@official_required
def cases(request: HttpRequest) -> HttpResponse:
    """The cases the official may see, newest first, with filters."""
    view = request.GET.get("view", "open")
    if view not in dict(FILTERS):
        view = "open"
    q = request.GET.get("q", "")[:40]
    category = request.GET.get("category", "")[:64]
    rows = city.list_cases(
        request.user, state={"open": "open", "closed": "closed"}.get(view, ""),
        category_code=category, q=q, overdue=True if view == "overdue" else None,
        mine=view == "mine")
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render_page(request, "workbench/city_cases.html", "cases", {
        "page": page, "view": view, "views": FILTERS, "q": q, "category": category,
        "categories": city.category_tree(), "report_source": city.report_source(request.user),
    })


def _case(request: HttpRequest, number: str) -> Any:
    try:
        return city.get_case(number, request.user)
    except city.Case.DoesNotExist:
        raise Http404("no such case for this official") from None


@require_safe
@never_cache
@official_required
def case(request: HttpRequest, number: str) -> HttpResponse:
    found = _case(request, number)
    codes = city.allowed_actions(found, request.user)
    departments = []
    if "dispatch" in codes:
        departments = list(orgs.list_departments().filter(parent__isnull=True))
    actions = [{"code": code, "label": city.ACTION_LABELS[code],
                "note_required": code in NOTE_REQUIRED,
                "photos": "required" if code in PHOTO_REQUIRED else (
                    "optional" if code == "update" else ""),
                "location": code in ("verify_pass", "verify_fail"),
                "secondary": code in NOTE_REQUIRED and code != "reply"} for code in codes]
    margin = 0.01
    bbox = ",".join(f"{v:.6f}" for v in (found.lon - margin, found.lat - margin,
                                         found.lon + margin, found.lat + margin))
    return render_page(request, "workbench/city_case.html", "cases", {
        "case": found, "events": [{"event": e, "label": city.ACTION_LABELS.get(e.action,
                                                                                e.action)}
                                  for e in city.timeline(found)],
        "actions": actions, "departments": departments, "grids_bbox": bbox,
        "department": orgs.get_department(found.department_code)
        if found.department_code else None,
    })


@require_safe
@official_required
def photo(request: HttpRequest, number: str, token: str) -> HttpResponse:
    try:
        found = city.case_photo(number, token, request.user)
    except city.Case.DoesNotExist:
        raise Http404("no such photo") from None
    return uploads.file_response(*found)


def _photos(request: HttpRequest) -> list[str]:
    tokens = []
    for upload in request.FILES.getlist("photos")[:6]:
        stored = uploads.accept_upload(upload, filename=upload.name or "photo.jpg",
                                       owner_key=f"user:{request.user.pk}",
                                       purpose="city.photo",
                                       accept=("image/jpeg", "image/png"),
                                       max_bytes=PHOTO_BYTES, personal=False)
        tokens.append(stored.token)
    return tokens


def _number(raw: str | None) -> float | None:
    try:
        return float(raw) if raw not in (None, "") else None
    except ValueError:
        return None


@require_POST
@official_required
def act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    found = _case(request, number)
    if action not in city.TRANSITIONS:
        raise Http404("no such action")
    expected = expected_version(request)
    try:
        extra = int(request.POST["extra"]) if request.POST.get("extra") else None
        satisfaction = (int(request.POST["satisfaction"]) if request.POST.get("satisfaction")
                        else None)
        city.transition(found, action, actor=request.user, expected_version=expected,
                        note=request.POST.get("note", "")[:500], photos=_photos(request),
                        lon=_number(request.POST.get("lon")),
                        lat=_number(request.POST.get("lat")),
                        department_code=request.POST.get("department_code") or None,
                        extra=extra, satisfaction=satisfaction)
        messages.success(request, _("已%(action)s。") % {"action": city.ACTION_LABELS[action]})
    except city.Conflict as exc:
        messages.error(request, str(exc))
    except PermissionDenied:
        messages.error(request, _("您无权对该案卷执行此操作。"))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except ValueError:
        messages.error(request, _("请填写数字。"))
    return redirect("workbench:city_case", number=found.number)


@never_cache
@official_required
def report(request: HttpRequest) -> HttpResponse:
    """A grid inspector reports what they found on patrol (works on a phone: the place from
    the device's position or the map), or a 12345 operator enters a call (the caller's name
    and number, kept encrypted). Inspectors' reports are filed and dispatched at once; calls
    go to the command centre."""
    source = city.report_source(request.user)
    if source is None:
        raise Http404("no report form for this official")
    values = {k: request.POST.get(k, "") for k in ("category_code", "title", "description",
                                                   "address", "lon", "lat", "caller_name",
                                                   "caller_phone")}
    errors: list[str] = []
    if request.method == "POST":
        try:
            photos = _photos(request)
            reported = city.report(
                source=source, category_code=values["category_code"], title=values["title"],
                description=values["description"], address=values["address"],
                lon=values["lon"], lat=values["lat"], actor=request.user, photos=photos,
                reporter_name=values["caller_name"][:32] if source == "hotline" else "",
                reporter_phone=values["caller_phone"][:20] if source == "hotline" else "")
        except ValidationError as exc:
            errors = exc.messages
        else:
            case = reported.case
            if reported.duplicate_of is not None:
                messages.info(request, _("附近已有同类问题 %(number)s 在办，已合并。")
                              % {"number": reported.duplicate_of.number})
                return redirect("workbench:city_case", number=reported.duplicate_of.number)
            messages.success(request, _("已上报，编号 %(number)s。") % {"number": case.number})
            return redirect("workbench:city_case", number=case.number)
    from yiwang.platform.regions import service as regions

    grid = regions.all_grids().first()
    centre = ((grid.min_lon + grid.max_lon) / 2, (grid.min_lat + grid.max_lat) / 2) if grid \
        else (120.0, 30.0)
    return render_page(request, "workbench/city_report.html", "cases", {
        "source": source, "values": values, "errors": errors,
        "categories": city.category_tree(), "centre": centre,
    }, status=400 if errors else 200)
