"""审计日志 (audit log search) of the workbench: auditors search and export audit events.

Open only to holders of Django's ``audit.view_auditevent`` permission (the demo's group
审计员); other officials get 403. Every search and every export is itself recorded
(``audit.search``, ``audit.export``) with the filters used: the auditors are audited too.
The events found are read before that record is written, so a search does not find itself.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from yiwang.core.audit import service as audit
from yiwang.entry.workbench.access import permission_required
from yiwang.entry.workbench.forms import AUDIT_TIME_ZONE, AuditSearchForm
from yiwang.entry.workbench.views import render_page

VIEW_PERMISSION = "audit.view_auditevent"
EVENTS_PER_PAGE = 50
EXPORT_LIMIT = 10_000
EXPORT_COLUMNS = ["occurred_at", "actor_id", "actor", "action", "object_type", "object_id",
                  "object_repr", "zone", "address", "request_id", "personal_data", "detail"]


def _search_page(request: HttpRequest, form: AuditSearchForm) -> HttpResponse:
    context: dict[str, Any] = {"form": form, "page": None, "export_limit": EXPORT_LIMIT}
    if form.is_valid():
        page = Paginator(audit.search(form.criteria()), EVENTS_PER_PAGE).get_page(
            request.GET.get("page"))
        page.object_list = list(page.object_list)  # read now, before this search is recorded
        audit.record("audit.search", detail={**form.used(), "page": page.number,
                                             "found": page.paginator.count})
        context.update(page=page, filtered=bool(form.used()),
                       page_range=page.paginator.get_elided_page_range(page.number))
    return render_page(request, "workbench/audit.html", "audit", context)


@require_safe
@never_cache
@permission_required(VIEW_PERMISSION)
def search(request: HttpRequest) -> HttpResponse:
    """The search form and the events found, newest first, 50 a page (status 200 also
    when a filter is malformed: the form says which)."""
    return _search_page(request, AuditSearchForm(request.GET))


class _Echo:
    """A file-like object whose ``write`` hands back the line: csv.writer for streaming."""

    def write(self, value: str) -> str:
        return value


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # A cell a spreadsheet would run as a formula (CSV injection) is quoted as text.
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _csv_lines(events: Iterable[audit.AuditEvent]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # the byte order mark lets spreadsheet programs read the UTF-8 names
    yield writer.writerow(EXPORT_COLUMNS)
    for e in events:
        yield writer.writerow([_cell(v) for v in (
            timezone.localtime(e.occurred_at, AUDIT_TIME_ZONE).isoformat(timespec="seconds"),
            e.actor_id, e.actor_label, e.action, e.object_type, e.object_id, e.object_repr,
            e.zone, e.address, e.request_id, "true" if e.personal_data else "false",
            json.dumps(e.detail, ensure_ascii=False, sort_keys=True),
        )])


@require_safe
@never_cache
@permission_required(VIEW_PERMISSION)
def export(request: HttpRequest) -> HttpResponseBase:
    """The events of the current filter as CSV, newest first, at most 10,000, streamed."""
    form = AuditSearchForm(request.GET)
    if not form.is_valid():
        return _search_page(request, form)
    events = audit.search(form.criteria())
    rows = min(events.count(), EXPORT_LIMIT)
    recorded = audit.record("audit.export", detail={**form.used(), "rows": rows})
    found = events.exclude(pk=recorded.pk)[:EXPORT_LIMIT].iterator(chunk_size=500)
    response = StreamingHttpResponse(_csv_lines(found), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime(recorded.occurred_at, AUDIT_TIME_ZONE).strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response
