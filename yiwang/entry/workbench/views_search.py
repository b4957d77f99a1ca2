"""统一搜索 operations in the workbench (``search.manage_search``): the synonyms people's words
are widened with (add, change, delete), the queries that found nothing (most frequent
first: what to write or which synonym to add), a test box that shows how a query is read,
and a rebuild of the index from every module."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.entry.workbench.access import permission_required
from yiwang.entry.workbench.views import render_page
from yiwang.support.search import service as search

MANAGE = "search.manage_search"


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@permission_required(MANAGE)
def admin(request: HttpRequest) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    form = {"term": "", "targets": ""}
    if request.method == "POST":
        form = {"term": request.POST.get("term", "")[:64],
                "targets": request.POST.get("targets", "")[:300]}
        try:
            saved = search.save_synonym(form["term"], form["targets"], actor=request.user)
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            messages.success(request, _("已保存同义词“%(term)s”。") % {"term": saved.term})
            return redirect("workbench:search_admin")
    tried = None
    q = request.GET.get("try", "").strip()
    if q:
        try:
            tried = search.search(q, per_page=5, facets=False)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return render_page(request, "workbench/search_admin.html", "search", {
        "synonyms": search.synonym_rows(), "misses": search.misses(50), "errors": errors,
        "form": form, "tried": tried, "try": q[:100]}, status=400 if errors else 200)


@require_POST
@permission_required(MANAGE)
def delete(request: HttpRequest) -> HttpResponse:
    term = request.POST.get("term", "")[:64]
    if search.delete_synonym(term, actor=request.user):
        messages.success(request, _("已删除同义词“%(term)s”。") % {"term": term})
    else:
        messages.error(request, _("没有这个同义词。"))
    return redirect("workbench:search_admin")


@require_POST
@permission_required(MANAGE)
def reindex(request: HttpRequest) -> HttpResponse:
    search.queue_reindex(actor=request.user)
    messages.success(request, _("已开始重建索引,几分钟内完成。"))
    return redirect("workbench:search_admin")
