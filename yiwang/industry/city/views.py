"""Portal pages of city management (城市问题随手拍): report a problem with photos and a point
on the map, my reports, a report's progress, and the evaluation once it is closed.

Every page needs a signed-in person with a live identity-provider session; a report that is
not one's own is a 404. The map is an enhancement: the place can be typed as longitude and
latitude, so the form works without JavaScript.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from yiwang.core.uploads import service as uploads
from yiwang.industry.city import service
from yiwang.platform.regions import service as regions
from yiwang.support.identity import service as identity

PER_PAGE = 20
PHOTO_BYTES = 8 * 1024 * 1024
MAX_PHOTOS = 4
#: what a citizen sees of the steps (officials' names stay inside)
PUBLIC_ACTIONS = ("report", "file", "not_file", "dispatch", "accept", "handle", "verify_pass",
                  "verify_fail", "evaluate", "duplicate")


#: portal pages for a signed-in person (after a POST, back to city_portal:new)
signed_in = identity.signed_in_required("city_portal:new")


def _crumbs(*extra: tuple[str, str]) -> list[dict[str, str]]:
    return [{"name": _("首页"), "href": reverse("portal:home")},
            {"name": _("我的随手拍"), "href": reverse("city_portal:mine")},
            *({"name": name, "href": href} for name, href in extra)]


def _map_centre() -> tuple[float, float]:
    grid = regions.all_grids().first()
    if grid is None:
        return 120.0, 30.0
    return (grid.min_lon + grid.max_lon) / 2, (grid.min_lat + grid.max_lat) / 2


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@signed_in
def new(request: HttpRequest) -> HttpResponse:
    """The report form; on success, the report's page with its number."""
    errors: dict[str, list[str]] = {}
    values = {k: request.POST.get(k, "") for k in ("category_code", "title", "description",
                                                   "address", "lon", "lat")}
    if request.method == "POST":
        files = request.FILES.getlist("photos")
        if len(files) > MAX_PHOTOS:
            errors["photos"] = [_("最多上传 %(n)s 张照片") % {"n": MAX_PHOTOS}]
        tokens = []
        if not errors:
            try:
                for upload in files:
                    tokens.append(uploads.accept_upload(
                        upload, filename=upload.name or "photo.jpg",
                        owner_key=f"user:{request.user.pk}", purpose="city.photo",
                        accept=("image/jpeg", "image/png"), max_bytes=PHOTO_BYTES,
                        personal=False).token)
            except ValidationError as exc:
                errors["photos"] = exc.messages
        if not errors:
            try:
                reported = service.report(
                    source="citizen", category_code=values["category_code"],
                    title=values["title"], description=values["description"],
                    address=values["address"], lon=values["lon"], lat=values["lat"],
                    reporter=request.user, photos=tokens)
            except ValidationError as exc:
                errors = {("lon" if k == "lat" else k): v for k, v in
                          exc.message_dict.items()} if hasattr(exc, "error_dict") else {
                    "__all__": exc.messages}
            else:
                case = reported.case
                if reported.duplicate_of is not None:
                    messages.info(request, _(
                        "附近已有人反映了同一问题（%(number)s），我们会一并处理，处理结果也会通知您。")
                        % {"number": reported.duplicate_of.number})
                else:
                    messages.success(request, _("已收到您的反映，编号 %(number)s。")
                                     % {"number": case.number})
                return redirect("city_portal:detail", number=case.number)
    lon, lat = _map_centre()
    return render(request, "city/new.html", {
        "categories": service.category_tree(), "values": values, "errors": errors,
        "centre_lon": lon, "centre_lat": lat, "max_photos": MAX_PHOTOS,
        "crumbs": _crumbs()}, status=400 if errors else 200)


@require_safe
@never_cache
@signed_in
def mine(request: HttpRequest) -> HttpResponse:
    rows = service.list_cases(request.user)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "city/mine.html", {
        "page": page, "rows": list(page.object_list),
        "page_range": page.paginator.get_elided_page_range(page.number),
        "crumbs": [{"name": _("首页"), "href": reverse("portal:home")}]})


def _mine(request: HttpRequest, number: str) -> Any:
    try:
        case = service.get_case(number, request.user)
    except service.Case.DoesNotExist:
        raise Http404("no such report") from None
    if case.reporter_id != request.user.pk:
        raise Http404("not this person's report")
    return case


@require_safe
@never_cache
@signed_in
def detail(request: HttpRequest, number: str) -> HttpResponse:
    case = _mine(request, number)
    events = [{"label": service.ACTION_LABELS.get(e.action, e.action), "at": e.at,
               "note": e.note if e.action in ("not_file", "handle", "report") else "",
               "photos": e.photos if e.action == "report" else []}
              for e in service.timeline(case) if e.action in PUBLIC_ACTIONS]
    return render(request, "city/detail.html", {
        "case": case, "events": events,
        "may_evaluate": "evaluate" in service.allowed_actions(case, request.user)
        and case.satisfaction is None,
        "crumbs": _crumbs((case.number, ""))})


@require_safe
@signed_in
def photo(request: HttpRequest, number: str, token: str) -> HttpResponse:
    case = _mine(request, number)
    try:
        found = service.case_photo(case.number, token, request.user)
    except service.Case.DoesNotExist:
        raise Http404("no such photo") from None
    return uploads.file_response(*found)


@require_POST
@signed_in
def evaluate(request: HttpRequest, number: str) -> HttpResponse:
    case = _mine(request, number)
    try:
        satisfaction = int(request.POST.get("satisfaction", ""))
        service.transition(case, "evaluate", actor=request.user, satisfaction=satisfaction,
                           note=request.POST.get("note", "")[:500])
        messages.success(request, _("感谢您的评价。"))
    except (ValueError, ValidationError, PermissionDenied):
        messages.error(request, _("请选择 1 至 5 星的满意度。"))
    return redirect("city_portal:detail", number=case.number)
