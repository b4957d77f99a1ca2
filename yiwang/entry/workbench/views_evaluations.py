"""好差评 in the workbench: the evaluations of the official's departments' applications, with
filters (level or 差评 only, matter, dates, follow-up state), a summary (count, average score,
好评率, the levels, each matter's figures with a chart) and the follow-up of a 差评 (差评整改):
what the department did and its reply to the applicant, due a number of working days after
the evaluation — overdue ones are flagged in the list.

Who may do what: every page needs an official holding ``applications.handle_application``;
the list shows only their own departments' (and the units they lead) evaluations, and another
department's evaluation is a 404 here (the service refuses it again). Applicants appear
masked. The follow-up carries the ``row_version`` the page showed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from yiwang.entry.workbench.access import permission_required
from yiwang.entry.workbench.views import expected_version, page_query, render_page
from yiwang.industry.applications import service as applications

NAV = "evaluations"
HANDLE = "applications.handle_application"
PER_PAGE = 20
CHART_MATTERS = 15


def _day(raw: str) -> tuple[date | None, bool]:
    """A day from a filter field (YYYY-MM-DD): (the day, whether the field was readable)."""
    raw = raw.strip()[:10]
    if not raw:
        return None, True
    try:
        return date.fromisoformat(raw), True
    except ValueError:
        return None, False


def _filters(request: HttpRequest) -> tuple[applications.EvaluationFilter, list[str]]:
    """The list's filters from the query string, and what was wrong with them (left out)."""
    problems: list[str] = []
    score = request.GET.get("score", "")
    if score not in dict(applications.SCORE_FILTERS):
        score = ""
    rectification = request.GET.get("rectification", "")
    if rectification not in dict(applications.RECTIFICATION_FILTERS):
        rectification = ""
    since, ok_since = _day(request.GET.get("since", ""))
    until, ok_until = _day(request.GET.get("until", ""))
    if not (ok_since and ok_until):
        problems.append(_("日期格式应为 年-月-日(如 2026-01-31),该条件未生效。"))
    if since and until and since > until:
        problems.append(_("开始日期晚于结束日期,日期条件未生效。"))
        since = until = None
    return applications.EvaluationFilter(
        score=score, matter=request.GET.get("matter", "").strip()[:64], since=since,
        until=until, rectification=rectification), problems


def _chart(summary: applications.Summary) -> list[dict[str, Any]]:
    """The figures the chart draws (the table under it holds them all)."""
    return [{"name": m.name or m.key, "count": m.count, "average": m.average,
             "good_rate": m.good_rate, "bad": m.bad} for m in summary.matters[:CHART_MATTERS]]


@require_safe
@never_cache
@permission_required(HANDLE)
def evaluations(request: HttpRequest) -> HttpResponse:
    """The department's evaluations, newest first, with the summary of those filtered."""
    filters, problems = _filters(request)
    now = timezone.now()
    found = applications.evaluations_for_official(request.user, filters, now=now)
    page = Paginator(found, PER_PAGE).get_page(request.GET.get("page"))
    summary = applications.evaluation_summary(found, now=now)
    rows: list[dict[str, Any]] = [
        {"evaluation": e, "level": applications.LEVELS.get(e.score, ""),
         "rectification": getattr(e, "rectification", None)} for e in page.object_list]
    for row in rows:
        row["overdue"] = row["rectification"] is not None and row["rectification"].overdue_at(now)
    return render_page(request, "workbench/evaluations.html", NAV, {
        "page": page, "rows": rows, "filters": filters,
        "problems": problems, "summary": summary, "chart": _chart(summary),
        "matters": applications.evaluation_matters(request.user),
        "scores": applications.SCORE_FILTERS,
        "rectifications": applications.RECTIFICATION_FILTERS,
        "since": request.GET.get("since", "")[:10] if filters.since else "",
        "until": request.GET.get("until", "")[:10] if filters.until else "",
        "query": page_query(request),
    })


def _evaluation(request: HttpRequest, pk: int) -> Any:
    try:
        return applications.evaluation_for_official(request.user, pk)
    except PermissionDenied:
        raise Http404("not this official's evaluation") from None


def _detail(request: HttpRequest, evaluation: Any, *, values: dict[str, str] | None = None,
            errors: dict[str, list[str]] | None = None) -> HttpResponse:
    rectification = getattr(evaluation, "rectification", None)
    return render_page(request, "workbench/evaluation.html", NAV, {
        "evaluation": evaluation, "application": evaluation.application,
        "level": applications.LEVELS.get(evaluation.score, ""),
        "rectification": rectification,
        "overdue": rectification is not None and rectification.overdue_at(timezone.now()),
        "values": values or {}, "errors": errors or {},
    }, status=400 if errors else 200)


@require_safe
@never_cache
@permission_required(HANDLE)
def evaluation(request: HttpRequest, pk: int) -> HttpResponse:
    """An evaluation, and for a 差评 its follow-up: the form while it is open, what was done
    and the reply once it is closed."""
    return _detail(request, _evaluation(request, pk))


@require_http_methods(["GET", "HEAD", "POST"])
@permission_required(HANDLE)
def rectify(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the follow-up of a 差评; refused (nothing written) with the reasons by the
    fields, or with a plain message when another official replied first. A refused form is
    shown at this address: opened again (GET), it leads back to the evaluation."""
    found = _evaluation(request, pk)
    if request.method != "POST":
        return redirect("workbench:evaluation", pk=found.pk)
    values = {"action_taken": request.POST.get("action_taken", ""),
              "reply": request.POST.get("reply", "")}
    if expected_version(request) is None:  # as every other write of the workbench
        messages.error(request, _("页面信息不完整或已过期,您的操作没有生效。请刷新页面后再操作。"))
        return redirect("workbench:evaluation", pk=found.pk)
    try:
        applications.rectify_evaluation(request.user, found, **values,
                                        expected_version=expected_version(request))
    except PermissionDenied:
        raise Http404("not this official's evaluation") from None
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            return _detail(request, found, values=values, errors={
                name: [str(m) for m in msgs] for name, msgs in exc.message_dict.items()})
        messages.error(request, " ".join(exc.messages))
        return redirect("workbench:evaluation", pk=found.pk)
    messages.success(request, _("整改情况已记录,答复已发送给申请人。"))
    return redirect("workbench:evaluation", pk=found.pk)
