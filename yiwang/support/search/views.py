"""Portal pages of unified search: ``/search/`` (one box over services and guides, FAQs,
policies, notices and credit publicity, with facets, highlights and pagination) and
``/search/suggest`` (titles as you type, JSON for the box's script). Both are public and
rate-limited per address; a query that cannot be searched gets a message, not an error page.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from yiwang.core import ratelimit
from yiwang.support.search import service

SEARCHES_PER_MINUTE = 120
SUGGESTIONS_PER_MINUTE = 300


def _page_number(raw: str) -> int:
    try:
        return max(1, min(int(raw), service.MAX_PAGE))
    except ValueError:
        return 1


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    kind = request.GET.get("kind", "")
    department = request.GET.get("department", "")[:32]
    context: dict[str, Any] = {
        "q": q[:200], "kind": kind, "department": department, "nav": "search",
        "crumbs": [{"name": _("首页"), "href": reverse("portal:home")}],
        "kinds": service.Kind.choices}
    if ratelimit.exceeded("search.portal", request, per_minute=SEARCHES_PER_MINUTE):
        context["error"] = _("搜索过于频繁,请一分钟后再试。")
        return render(request, "search/index.html", context, status=429)
    if not q.strip():
        return render(request, "search/index.html", context)
    try:
        result = service.search(q, kind=kind, department=department,
                                page=_page_number(request.GET.get("page", "1")))
    except ValidationError as exc:
        context["error"] = " ".join(exc.messages)
        return render(request, "search/index.html", context, status=400)
    for item in result.items:
        item["title_html"] = mark_safe(item["title_html"])
        item["snippet_html"] = mark_safe(item["snippet_html"])
    query = request.GET.copy()
    query.pop("page", None)
    pages = range(max(1, result.page - 4), min(result.pages, result.page + 4) + 1)
    context.update(result=result, query=query.urlencode(), pages=pages,
                   without_kind=_without(request, "kind"),
                   without_department=_without(request, "department"))
    return render(request, "search/index.html", context)


def _without(request: HttpRequest, name: str) -> str:
    params = request.GET.copy()
    params.pop(name, None)
    params.pop("page", None)
    return params.urlencode()


@require_safe
def suggest(request: HttpRequest) -> HttpResponse:
    if ratelimit.exceeded("search.suggest", request, per_minute=SUGGESTIONS_PER_MINUTE):
        return JsonResponse({"detail": _("请求过于频繁,请稍后再试。")}, status=429)
    found = service.suggest(request.GET.get("q", "")[:100])
    return JsonResponse({"suggestions": found})
