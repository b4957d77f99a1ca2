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
- ``registry.view_enterprise``: the list of legal entities and their pages.

Every other official gets 403. Lists and pages show masked personal data only; the full
values are in the response to the reveal POST and nowhere else (not the session, not a
URL), and no response here may be cached. A person is found by the full ID number through a
POST, so the number stays out of URLs, browser history and access logs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
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


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@permission_required(VIEW_PERSON)
def person(request: HttpRequest, pk: int) -> HttpResponse:
    """A person, masked; the POST of 查看完整信息 with a purpose shows the full values in
    its response (and only there) and records the access in the audit log."""
    found = registry.get_person(pk)
    if found is None:
        raise Http404
    may_reveal = request.user.has_perm(REVEAL_PERSON)
    form = RevealForm()
    revealed: dict[str, str] | None = None
    if request.method == "POST":
        if not may_reveal:
            raise PermissionDenied("may not reveal personal data")
        form = RevealForm(request.POST)
        if form.is_valid():
            revealed = registry.reveal_person(found, REVEALED_FIELDS,
                                              purpose=form.cleaned_data["purpose"],
                                              actor=request.user)
    names = _place_names([found.region_code], [found.grid_code])
    return render_page(request, "workbench/registry_person.html", "registry", {
        "person": found, "masked": registry.masked_person(found), "revealed": revealed,
        "form": form, "may_reveal": may_reveal, "purposes": REVEAL_PURPOSES,
        "community": names.get(found.region_code, found.region_code),
        "grid": names.get(found.grid_code, found.grid_code),
        "crumbs": [Crumb(_("工作台首页"), reverse("workbench:home")),
                   Crumb(_("人口库"), reverse("workbench:persons"))],
    })


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
