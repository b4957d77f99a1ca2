"""Portal pages of the catalogue (办事服务): search and browse matters by life event and
department, the service guide (办事指南) of a matter with its 在线办理 button, and bundles
(一件事一次办). Public pages; only published matters and bundles are shown (others 404).

These pages are not in the anonymous page cache (``entry.portal.caching``): publishing or
withdrawing a matter must show at once, and the catalogue's queries are cheap.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_safe

from yiwang.industry.services import service
from yiwang.industry.services.models import Audience, MatterKind, OnlineLevel
from yiwang.platform.orgs import service as orgs

MATERIAL_FORMS = {"paper": _lazy("纸质"), "electronic": _lazy("电子"),
                  "both": _lazy("纸质或电子")}
CHANNEL_KINDS = {"online": _lazy("网上办理"), "window": _lazy("窗口办理"),
                 "mobile": _lazy("掌上办理"), "self_service": _lazy("自助终端")}


def apply_url(matter_code: str) -> str:
    """The applications app's apply page of a matter, in the page's language."""
    try:
        return reverse("applications_portal:apply", args=[matter_code])
    except NoReverseMatch:  # the applications app has not mounted its page yet
        base = reverse("services_portal:index")  # "/services/" or "/en/services/"
        return f"{base[: -len('services/')]}applications/apply/{matter_code}/"


def bundle_apply_url(bundle_code: str) -> str:
    """The applications app's page applying for a bundle, or "" while it has none (the
    bundle page then lists the member matters to apply for one by one)."""
    try:
        return reverse("applications_portal:apply_bundle", args=[bundle_code])
    except NoReverseMatch:
        return ""


def _department_names() -> dict[str, Any]:
    return {d.code: d for d in orgs.list_departments(include_inactive=True)}


def _crumbs(*extra: tuple[str, str]) -> list[dict[str, str]]:
    return [{"name": _("首页"), "href": reverse("portal:home")},
            *({"name": name, "href": href} for name, href in extra)]


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """Search box, browse by life event (个人/法人) and by department, one page of matters."""
    q = (request.GET.get("q") or "").strip()[:50]
    audience = request.GET.get("audience") or ""
    if audience not in Audience.values:
        audience = ""
    event_code = request.GET.get("event") or ""
    event = service.get_life_event(event_code) if event_code else None
    if event is not None:
        audience = audience or event.audience
    department = request.GET.get("department") or ""
    page = service.list_matters(q=q, life_event=event.code if event else "",
                                department=department, audience=audience,
                                page=request.GET.get("page") or 1)
    departments = _department_names()
    filtered = bool(q or event or department or audience)
    return render(request, "services/index.html", {
        "nav": "services", "query": q, "audience": audience, "event": event,
        "department": departments.get(department), "department_code": department,
        "page": page, "page_range": page.paginator.get_elided_page_range(page.number),
        "rows": [{"matter": m, "department": departments.get(m.department_code),
                  "online": m.online_level >= OnlineLevel.ONE_VISIT} for m in page.object_list],
        "person_events": service.life_events(Audience.PERSON),
        "legal_events": service.life_events(Audience.LEGAL),
        "departments": [(departments.get(code), code, n)
                        for code, _n, n in service.matter_departments()],
        "bundles": service.list_bundles(life_event=event.code if event else "")[:6],
        "filtered": filtered,
        "crumbs": _crumbs(),
    })


@require_safe
def matter(request: HttpRequest, code: str) -> HttpResponse:
    """The guide of a published matter, with 在线办理 when it has a live version."""
    item = service.get_matter(code)
    if item is None or not item.published:
        raise Http404("no such matter")
    from yiwang.support.licences import service as licences

    materials = []
    for material in item.materials or []:
        types = [licences.get_type(c) for c in material.get("licence_types") or []]
        materials.append({**material, "form_label": MATERIAL_FORMS.get(material.get("form", "both"),
                                           MATERIAL_FORMS["both"]),
            "licences": [t for t in types if t is not None]})
    channels = [{**c, "kind_label": CHANNEL_KINDS.get(c.get("kind", "window"),
                                                     CHANNEL_KINDS["window"])}
                for c in item.channels or []]
    version = service.published_version(item.code)
    bundles = [b for b in service.list_bundles()
               if any(m.get("matter") == item.code for m in b.members)]
    return render(request, "services/matter.html", {
        "nav": "services", "matter": item, "version": version,
        "apply_url": apply_url(item.code) if version else "",
        "department": orgs.get_department(item.department_code),
        "kind_label": MatterKind(item.kind).label if item.kind in MatterKind.values else "",
        "online_label": OnlineLevel(item.online_level).label,
        "materials": materials, "channels": channels, "bundles": bundles,
        "life_events": list(item.life_events.all()),
        "crumbs": _crumbs((_("办事服务"), reverse("services_portal:index"))),
    })


@require_safe
def bundle(request: HttpRequest, code: str) -> HttpResponse:
    """A bundle (一件事): what it combines, the shared materials, and its apply button."""
    item = service.get_bundle(code)
    if item is None or not item.published:
        raise Http404("no such bundle")
    live = service.published_bundle(code)
    members = []
    departments = _department_names()
    for member in (item.snapshot or {}).get("members", []):
        matter = service.get_matter(member["matter"])
        if matter is not None and matter.published:
            version = service.published_version(matter.code)
            members.append({"matter": matter, "version": version,
                            "department": departments.get(matter.department_code),
                            "apply_url": apply_url(matter.code) if version else ""})
    shared = set((item.snapshot or {}).get("shared_materials", []))
    materials: dict[str, dict[str, Any]] = {}
    for member in members:
        for material in member["matter"].materials or []:
            if material.get("code") in shared:
                materials.setdefault(material["code"], material)
    return render(request, "services/bundle.html", {
        "nav": "services", "bundle": item, "members": members,
        "shared_materials": list(materials.values()),
        "apply_url": bundle_apply_url(item.code) if live else "",
        "department": orgs.get_department(item.department_code),
        "crumbs": _crumbs((_("办事服务"), reverse("services_portal:index"))),
    })
