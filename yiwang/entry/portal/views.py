"""The public portal (门户, 政务外网): home, city divisions, departments, 政务公开 (the
departments' policy documents and notices) and honest "not yet available" (暂未开放) pages
for the modules still under construction."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_safe

from yiwang.entry.portal import articles, modules
from yiwang.entry.portal.caching import public_page
from yiwang.entry.portal.models import ArticleKind, Topic
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
from yiwang.platform.orgs import service as orgs

DEPARTMENTS_PER_PAGE = 20
ARTICLES_PER_PAGE = 20
HOME_ARTICLES = 5
# Modules that had a "not yet available" page and are built now: their old address
# leads to the real page.
BUILT = {"account": "identity:login", "reports": "city_portal:mine",
         "payments": "payments_portal:lookup", "credit": "credit_portal:index",
         "search": "search_portal:index", "assistant": "assistant_portal:page",
         "reviews": "portal:reviews"}


@require_safe
@public_page
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html", {
        "nav": "home",
        "personal_events": modules.PERSONAL_EVENTS,
        "enterprise_events": modules.ENTERPRISE_EVENTS,
        "overview": city_overview(),
        "latest_policies": articles.published_articles(ArticleKind.POLICY)[:HOME_ARTICLES],
        "latest_notices": articles.published_articles(ArticleKind.NOTICE)[:HOME_ARTICLES],
    })


@require_safe
@public_page
def unavailable(request: HttpRequest, slug: str) -> HttpResponse:
    """The one "not yet available" page of every unbuilt public module (status 200)."""
    if slug in BUILT:
        return redirect(BUILT[slug], permanent=True)
    module = modules.UNBUILT.get(slug)
    if module is None:
        raise Http404("unknown module")
    context: dict[str, Any] = {"nav": slug, "module": module}
    if slug == "services":
        context["event"] = modules.LIFE_EVENTS.get(request.GET.get("event", ""))
    return render(request, "portal/unavailable.html", context)


def _link(code: str, is_grid: bool) -> str:
    return reverse("portal:grid" if is_grid else "portal:region", args=[code])


@require_safe
@public_page
def regions(request: HttpRequest) -> HttpResponse:
    """城市区划: start at the city (or list the top-level regions when there are several)."""
    top = home_region()
    if top is not None:
        return redirect("portal:region", code=top.code)
    context = region_page_context(None, _link, index_href=reverse("portal:home"))
    return render(request, "portal/region.html", {"nav": "regions", **context})


@require_safe
@public_page
def region(request: HttpRequest, code: str) -> HttpResponse:
    context = region_page_context(region_or_404(code), _link,
                                  index_href=reverse("portal:home"))
    return render(request, "portal/region.html", {"nav": "regions", **context})


@require_safe
@public_page
def grid(request: HttpRequest, code: str) -> HttpResponse:
    context = grid_page_context(grid_or_404(code), _link, index_href=reverse("portal:home"))
    return render(request, "portal/grid.html", {"nav": "regions", **context})


@require_safe
@public_page
def departments(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:50]
    found = orgs.list_departments(q=query or None)
    page = Paginator(found, DEPARTMENTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "portal/departments.html", {
        "nav": "departments", "query": query, "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number),
    })


@require_safe
@public_page
def department(request: HttpRequest, code: str) -> HttpResponse:
    dept = department_or_404(code)
    # Public information only: positions are shown, the people holding them never are.
    return render(request, "portal/department.html", {
        "nav": "departments", "department": dept, "positions": orgs.positions_of(dept),
        "crumbs": [Crumb(_("首页"), reverse("portal:home")),
                   Crumb(pgettext("portal section", "政府部门"), reverse("portal:departments"))],
    })


# 政务公开: the list and the page of each kind, by its URL name.
ARTICLE_URLS: dict[str, tuple[str, str]] = {
    ArticleKind.POLICY: ("portal:policies", "portal:policy"),
    ArticleKind.NOTICE: ("portal:notices", "portal:notice"),
}


def _year(raw: str) -> int | None:
    return int(raw) if len(raw) == 4 and raw.isdigit() else None


def _article_list(request: HttpRequest, kind: str) -> HttpResponse:
    """The published articles of ``kind``, newest first, filtered by department, topic and
    year of publication."""
    of_kind = articles.published_articles(kind)
    department = request.GET.get("department", "").strip()[:64]
    topic = request.GET.get("topic", "")
    topic = topic if topic in Topic.values else ""
    year = _year(request.GET.get("year", ""))
    found = of_kind
    if department:
        found = found.filter(department_code=department)
    if topic:
        found = found.filter(topic=topic)
    if year:
        found = found.filter(published_at__year=year)
    page = Paginator(found, ARTICLES_PER_PAGE).get_page(request.GET.get("page"))
    # The filters offer only what the kind's published articles have.
    departments = dict(of_kind.order_by("department_code")
                       .values_list("department_code", "department_name").distinct())
    years = [d.year for d in of_kind.datetimes("published_at", "year", order="DESC")]
    return render(request, "portal/articles.html", {
        "nav": "open", "kind": kind, "kind_label": ArticleKind(kind).label,
        "detail_url": ARTICLE_URLS[kind][1],
        "tabs": [(k, ArticleKind(k).label, reverse(ARTICLE_URLS[k][0])) for k in ArticleKind],
        "page": page, "page_range": page.paginator.get_elided_page_range(page.number),
        "department": department, "topic": topic, "year": year,
        "filtered": bool(department or topic or year),
        "departments": sorted(departments.items()), "topics": Topic.choices, "years": years,
        "crumbs": [Crumb(_("首页"), reverse("portal:home"))],
    })


def _article_page(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """One published article; a draft, a withdrawn one or one of the other kind is 404."""
    found = articles.get_published(pk)
    if found is None or found.kind != kind:
        raise Http404("no such article")
    return render(request, "portal/article.html", {
        "nav": "open", "article": found,
        "expired": found.valid_until is not None and found.valid_until < timezone.localdate(),
        "crumbs": [Crumb(_("首页"), reverse("portal:home")),
                   Crumb(str(ArticleKind(kind).label), reverse(ARTICLE_URLS[kind][0]))],
    })


@require_safe
@public_page
def policies(request: HttpRequest) -> HttpResponse:
    """政策文件 (the 政务公开 section starts here)."""
    return _article_list(request, ArticleKind.POLICY)


@require_safe
@public_page
def notices(request: HttpRequest) -> HttpResponse:
    """通知公告."""
    return _article_list(request, ArticleKind.NOTICE)


@require_safe
@public_page
def policy(request: HttpRequest, pk: int) -> HttpResponse:
    return _article_page(request, ArticleKind.POLICY, pk)


@require_safe
@public_page
def notice(request: HttpRequest, pk: int) -> HttpResponse:
    return _article_page(request, ArticleKind.NOTICE, pk)


@require_safe
@public_page
def about(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/about.html", {})


@require_safe
@public_page
def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/accessibility.html", {})


@require_safe
@public_page
def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/privacy.html", {})


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The public zone's 404 page (``handler404``): never says why, never shows internals."""
    return render(request, "404.html", {"error_layout": "portal/base.html"}, status=404)
