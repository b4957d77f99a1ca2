"""基础数据 (base registries) of the workbench: the population (人口库) and legal entities
(法人库), looked up through the registry service.

Who may do what (Django's automatic model permissions of the registry app):

- ``registry.view_person``: the list of people and a person's page, masked (脱敏);
- ``registry.change_person``: 查看完整信息, a person's full ID number, phone and address,
  for a stated purpose (事由) that :func:`~yiwang.platform.registry.service.reveal_person`
  records in the audit log. The registry's rows are changed only by the registration
  services (no workbench page or admin form edits them), so ``change_person`` is free to
  mean "an officer of the registry" and serves as the reveal permission: a custom
  permission would need a migration of the registry app;
- ``registry.view_enterprise``: the list of legal entities and their pages;
- ``registry.add_guardianship`` / ``registry.change_guardianship``: on a person's page,
  登记监护关系 (the person becomes the guardian of a minor named by the full ID number, on a
  stated basis) and 终止监护关系 (with a reason). Both are audited by the registry service.
  Anyone who may see the page sees the person's guardianships, the other party masked.

Every other official gets 403. Lists and pages show masked personal data only; the full
values are in the response to the reveal POST and nowhere else (not the session, not a
URL), and no response here may be cached. A person is found by the full ID number through a
POST, so the number stays out of URLs, browser history and access logs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from yiwang.core.audit import service as audit
from yiwang.entry.portal.service import Crumb, local_name
from yiwang.entry.workbench.access import permission_required
from yiwang.entry.workbench.forms import (
    REVEAL_PURPOSES,
    EndGuardianshipForm,
    GuardianshipForm,
    IdNumberLookupForm,
    RegistrySearchForm,
    RevealForm,
)
from yiwang.entry.workbench.views import render_page
from yiwang.platform.regions import service as regions
from yiwang.platform.registry import service as registry

VIEW_PERSON = "registry.view_person"
REVEAL_PERSON = "registry.change_person"  # see the module docstring
VIEW_ENTERPRISE = "registry.view_enterprise"
RECORD_GUARDIANSHIP = "registry.add_guardianship"
END_GUARDIANSHIP = "registry.change_guardianship"
REVEALED_FIELDS = ("name", "id_number", "phone", "address")
ROWS_PER_PAGE = 50
# Leading digits of a division code that identify a district and a street (see regions).
_PREFIX_LENGTH = {"district": 6, "street": 9}


def _region_options() -> tuple[list[Any], dict[str, str]]:
    """The districts, each with its streets, as grouped choices (named in the page's
    language); and each choice's code prefix for the registry's ``region_prefix``."""
    districts = list(regions.list_regions(level="district"))
    streets = list(regions.list_regions(level="street"))
    prefixes: dict[str, str] = {}
    choices: list[Any] = []
    for district in districts:
        prefix = district.code[:_PREFIX_LENGTH["district"]]
        prefixes[district.code] = prefix
        options = [(district.code, _("%(name)s(全区)") % {"name": local_name(district)})]
        for street in streets:
            if street.code.startswith(prefix):
                prefixes[street.code] = street.code[:_PREFIX_LENGTH["street"]]
                options.append((street.code, local_name(street)))
        choices.append((local_name(district), options))
    return choices, prefixes


def _place_names(region_codes: Iterable[str], grid_codes: Iterable[str] = ()
                 ) -> dict[str, str]:
    """Names, in the page's language, of the regions and grids with these codes (two
    queries at most)."""
    found = {**regions.regions_by_code(region_codes), **regions.grids_by_code(grid_codes)}
    return {code: local_name(place) for code, place in found.items()}


def _search(request: HttpRequest, q_label: Any) -> tuple[RegistrySearchForm, str, str]:
    choices, prefixes = _region_options()
    form = RegistrySearchForm(request.GET, q_label=q_label, region_choices=choices)
    if not form.is_valid():
        return form, "", ""
    return form, form.cleaned_data["q"].strip(), prefixes.get(form.cleaned_data["region"], "")


def _page(request: HttpRequest, rows: Any) -> Page:
    page = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    return page


def _tabs(request: HttpRequest) -> dict[str, bool]:
    return {"may_view_persons": request.user.has_perm(VIEW_PERSON),
            "may_view_enterprises": request.user.has_perm(VIEW_ENTERPRISE)}


# --- population (人口库) --------------------------------------------------------------------

@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@permission_required(VIEW_PERSON)
def persons(request: HttpRequest) -> HttpResponse:
    """People by name and district or street, masked; POST an ID number to open a person."""
    lookup = IdNumberLookupForm(request.POST if request.method == "POST" else None)
    if lookup.is_valid():
        person = registry.find_person(lookup.cleaned_data["id_number"])
        audit.record("registry.person.lookup", person, detail={"found": person is not None})
        if person is not None:
            return redirect("workbench:person", pk=person.pk)
        lookup.add_error("id_number", _("人口库中没有这个公民身份号码。"))
    form, q, prefix = _search(request, gettext_lazy("按姓名查找"))
    page = None
    if form.is_valid():
        page = _page(request, registry.list_persons(q=q, region_prefix=prefix))
        names = _place_names((p.region_code for p in page.object_list),
                             (p.grid_code for p in page.object_list))
        page.object_list = [
            {"pk": p.pk, **registry.masked_person(p),
             "community": names.get(p.region_code, p.region_code),
             "grid": names.get(p.grid_code, p.grid_code)}
            for p in page.object_list
        ]
    return render_page(request, "workbench/registry_persons.html", "registry", {
        "form": form, "lookup": lookup, "query": q, "page": page, **_tabs(request),
        "filtered": bool(q or prefix),
        "page_range": page.paginator.get_elided_page_range(page.number) if page else [],
    })


def _guardianship_rows(found: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The person's guardianships for the page: the other party masked, with the status."""
    labels = {"current": _("当前有效"), "ended": _("已终止"), "adult": _("已届满(成年)"),
              "future": _("尚未开始")}
    as_guardian, as_ward = registry.guardianships_involving(found)

    def row(record: Any, other: Any) -> dict[str, Any]:
        status = registry.status_of(record)
        return {"record": record, "other": other, "name": registry.masked_person(other)["name"],
                "id_number": registry.masked_person(other)["id_number"],
                "status": status, "status_label": labels[status],
                "open": record.ended_on is None and status in ("current", "future")}

    return ([row(g, g.ward) for g in as_guardian], [row(g, g.guardian) for g in as_ward])


def _person_page(request: HttpRequest, found: Any, **extra: Any) -> HttpResponse:
    names = _place_names([found.region_code], [found.grid_code])
    as_guardian, as_ward = _guardianship_rows(found)
    context: dict[str, Any] = {
        "person": found, "masked": registry.masked_person(found), "revealed": None,
        "form": RevealForm(), "may_reveal": request.user.has_perm(REVEAL_PERSON),
        "purposes": REVEAL_PURPOSES,
        "community": names.get(found.region_code, found.region_code),
        "grid": names.get(found.grid_code, found.grid_code),
        "as_guardian": as_guardian, "as_ward": as_ward,
        "may_record": request.user.has_perm(RECORD_GUARDIANSHIP),
        "may_end": request.user.has_perm(END_GUARDIANSHIP),
        "guardianship_form": GuardianshipForm(), "end_form": EndGuardianshipForm(),
        "end_failed": None,
        "crumbs": [Crumb(_("工作台首页"), reverse("workbench:home")),
                   Crumb(_("人口库"), reverse("workbench:persons"))],
    }
    context.update(extra)
    status = 400 if extra.get("invalid") else 200
    response = render_page(request, "workbench/registry_person.html", "registry", context)
    response.status_code = status
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@permission_required(VIEW_PERSON)
def person(request: HttpRequest, pk: int) -> HttpResponse:
    """A person, masked, with their guardianships; the POST of 查看完整信息 with a purpose
    shows the full values in its response (and only there) and records the access in the
    audit log."""
    found = registry.get_person(pk)
    if found is None:
        raise Http404
    if request.method != "POST":
        return _person_page(request, found)
    if not request.user.has_perm(REVEAL_PERSON):
        raise PermissionDenied("may not reveal personal data")
    form = RevealForm(request.POST)
    revealed: dict[str, str] | None = None
    if form.is_valid():
        revealed = registry.reveal_person(found, REVEALED_FIELDS,
                                          purpose=form.cleaned_data["purpose"],
                                          actor=request.user)
    return _person_page(request, found, form=form, revealed=revealed)


@require_http_methods(["POST"])
@never_cache
@permission_required(VIEW_PERSON, RECORD_GUARDIANSHIP)
def record_guardianship(request: HttpRequest, pk: int) -> HttpResponse:
    """登记监护关系: the person of the page becomes the guardian of the posted minor. A form
    error or a refusal of the registry (not in the registry, already 18, the same person)
    is shown on the page with a 400; nothing is written."""
    found = registry.get_person(pk)
    if found is None:
        raise Http404
    form = GuardianshipForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            record, created = registry.record_guardianship(
                found, data["id_number"], kind=data["kind"], basis=data["basis"],
                reference=data["reference"], starts_on=data["starts_on"], actor=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            ward = registry.masked_person(record.ward)["name"]
            if created:
                messages.success(request, _("已登记监护关系:被监护人 %(ward)s。") % {"ward": ward})
            else:
                messages.info(request, _("该监护关系已登记,未重复登记。"))
            return redirect("workbench:person", pk=found.pk)
    return _person_page(request, found, guardianship_form=form, invalid=True)


@require_http_methods(["POST"])
@never_cache
@permission_required(VIEW_PERSON, END_GUARDIANSHIP)
def end_guardianship(request: HttpRequest, pk: int, record: int) -> HttpResponse:
    """终止监护关系 of one of the person's guardianships (as guardian or as ward), with a
    reason; a refusal is shown on the page with a 400."""
    found = registry.get_person(pk)
    if found is None:
        raise Http404
    as_guardian, as_ward = registry.guardianships_involving(found)
    target = next((g for g in [*as_guardian, *as_ward] if g.pk == record), None)
    if target is None:
        raise Http404("not a guardianship of this person")
    form = EndGuardianshipForm(request.POST)
    if form.is_valid():
        try:
            registry.end_guardianship(target.guardian, target.ward,
                                      reason=form.cleaned_data["reason"],
                                      on=form.cleaned_data["ended_on"], actor=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("已终止该监护关系。"))
            return redirect("workbench:person", pk=found.pk)
    return _person_page(request, found, end_form=form, end_failed=record,
                        invalid=True)


# --- legal entities (法人库) ----------------------------------------------------------------

@require_safe
@never_cache
@permission_required(VIEW_ENTERPRISE)
def enterprises(request: HttpRequest) -> HttpResponse:
    """Legal entities by name or credit code and district or street; credit codes are public
    (not masked), the legal representatives' names are masked."""
    form, q, prefix = _search(request, gettext_lazy("按名称或统一社会信用代码查找"))
    page = None
    if form.is_valid():
        # Only the representative's name: the encrypted fields are neither read nor decrypted.
        found = registry.list_enterprises(q=q, region_prefix=prefix).only(
            "credit_code", "name", "kind", "status", "region_code", "legal_representative__name")
        page = _page(request, found)
        names = _place_names(e.region_code for e in page.object_list)
        page.object_list = [(e, names.get(e.region_code, e.region_code))
                            for e in page.object_list]
    return render_page(request, "workbench/registry_enterprises.html", "registry", {
        "form": form, "query": q, "page": page, **_tabs(request),
        "filtered": bool(q or prefix),
        "page_range": page.paginator.get_elided_page_range(page.number) if page else [],
    })


@require_safe
@never_cache
@permission_required(VIEW_ENTERPRISE)
def enterprise(request: HttpRequest, credit_code: str) -> HttpResponse:
    found = registry.find_enterprise(credit_code)
    if found is None:
        raise Http404("unknown enterprise")
    names = _place_names([found.region_code])
    return render_page(request, "workbench/registry_enterprise.html", "registry", {
        "enterprise": found, "region_name": names.get(found.region_code, found.region_code),
        "representative": registry.masked_person(found.legal_representative)["name"],
        "may_view_persons": request.user.has_perm(VIEW_PERSON),
        "crumbs": [Crumb(_("工作台首页"), reverse("workbench:home")),
                   Crumb(_("法人库"), reverse("workbench:enterprises"))],
    })
