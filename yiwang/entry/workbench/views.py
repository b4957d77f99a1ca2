"""The officials' workbench (工作台, 政务内网). Every view is wrapped in
:func:`~yiwang.entry.workbench.access.official_required`."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from yiwang.entry.portal.service import (
    Crumb,
    city_overview,
    department_or_404,
    grid_or_404,
    grid_page_context,
    home_region,
    region_or_404,
    region_page_context,
)
from yiwang.entry.workbench import modules
from yiwang.entry.workbench.access import is_official, official_required
from yiwang.platform.orgs import service as orgs

DEPARTMENTS_PER_PAGE = 25
MEMBERS_PER_PAGE = 50


def render_page(request: HttpRequest, template: str, nav: str, context: dict[str, Any], *,
                status: int = 200) -> HttpResponse:
    """Render a workbench page with the side navigation and the user's memberships."""
    memberships = list(orgs.memberships_of(request.user))
    return render(request, template, {
        "nav": nav,
        "nav_groups": modules.grouped(request.user),
        "memberships": memberships,
        **context,
    }, status=status)


def page_query(request: HttpRequest) -> str:
    """The page's query string without ``page``: what filter and pagination links keep."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def expected_version(request: HttpRequest) -> int | None:
    """The ``row_version`` the page showed (posted as ``expected_version``), or None."""
    try:
        return int(request.POST.get("expected_version", ""))
    except ValueError:
        return None


def permission_denied(request: HttpRequest, exception: Exception | None = None
                      ) -> HttpResponse:
    """The internal zone's 403 page (``handler403``), in the workbench's layout.

    An official who lacks a module's permission is told so, with whom to ask, and keeps the
    side navigation; any other signed-in account is told that the workbench is for
    officials only, and may sign out to use another account. Never says which permission
    is missing."""
    user = getattr(request, "user", None)
    if is_official(user):
        return render_page(request, "workbench/403.html", "", {"official": True}, status=403)
    return render(request, "workbench/403.html", {"official": False}, status=403)


@require_safe
@official_required
def home(request: HttpRequest) -> HttpResponse:
    return render_page(request, "workbench/home.html", "home", {
        "overview": city_overview(),
        "unbuilt": list(modules.UNBUILT.values()),
    })


@require_safe
@official_required
def unavailable(request: HttpRequest, slug: str) -> HttpResponse:
    """The workbench's "not yet available" page of an unbuilt module (status 200)."""
    module = modules.UNBUILT.get(slug)
    if module is None:
        raise Http404("unknown module")
    return render_page(request, "workbench/unavailable.html", slug, {"module": module})


def _link(code: str, is_grid: bool) -> str:
    return reverse("workbench:grid" if is_grid else "workbench:region", args=[code])


@require_safe
@official_required
def regions(request: HttpRequest) -> HttpResponse:
    top = home_region()
    if top is not None:
        return redirect("workbench:region", code=top.code)
    context = region_page_context(None, _link, index_href=reverse("workbench:home"),
                                  index_label=_("工作台首页"))
    return render_page(request, "workbench/region.html", "regions", context)


@require_safe
@official_required
def region(request: HttpRequest, code: str) -> HttpResponse:
    current = region_or_404(code)
    context = region_page_context(current, _link, index_href=reverse("workbench:home"),
                                  index_label=_("工作台首页"))
    context["departments"] = orgs.list_departments(region_code=current.code)
    return render_page(request, "workbench/region.html", "regions", context)


@require_safe
@official_required
def grid(request: HttpRequest, code: str) -> HttpResponse:
    context = grid_page_context(grid_or_404(code), _link, index_href=reverse("workbench:home"),
                                index_label=_("工作台首页"))
    return render_page(request, "workbench/grid.html", "regions", context)


@require_safe
@official_required
def departments(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:50]
    found = orgs.list_departments(q=query or None)
    page = Paginator(found, DEPARTMENTS_PER_PAGE).get_page(request.GET.get("page"))
    return render_page(request, "workbench/departments.html", "departments", {
        "query": query, "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number),
    })


@require_safe
@official_required
def department(request: HttpRequest, code: str) -> HttpResponse:
    dept = department_or_404(code)
    page = Paginator(orgs.members_of(dept), MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    return render_page(request, "workbench/department.html", "departments", {
        "department": dept,
        "positions": orgs.positions_of(dept),
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number),
        "crumbs": [Crumb(_("工作台首页"), reverse("workbench:home")),
                   Crumb(_("部门与人员"), reverse("workbench:departments"))],
    })
