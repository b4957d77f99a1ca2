"""Reads for pages and the API: the officials' inbox, the applicant's list, one application.

The inbox is one query on :class:`Task` through the index ``(department_code, state, due_at,
id)``: the rows carry what the list shows, so there is no join and nothing to decrypt; its
size is counted up to :data:`COUNT_CAP` only (a ``COUNT(*)`` over a million rows is what
makes list pages slow), and pages stop at the cap — past it, the official narrows the list
with a filter (ADR 0023).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from yiwang.industry.applications import access
from yiwang.industry.applications.models import Application, Task, TaskState

PER_PAGE = 20
COUNT_CAP = 1000
INBOX_FIELDS = ("pk", "application_id", "number", "matter_code", "matter_name",
                "applicant_masked", "name", "department_code", "position_code", "state",
                "due_at", "claimed_by_id", "countersign_group", "created_at")
INBOX_STATES = ("open", "mine", "waiting", "done")
LIGHT_DEFER = ("data_text", "workflow_text", "outcome_reason")


@dataclass(frozen=True)
class InboxPage:
    rows: list[dict[str, Any]]
    page: int
    per_page: int
    has_next: bool
    count: int  # up to COUNT_CAP
    capped: bool  # more than COUNT_CAP

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.per_page))


def inbox_queryset(user: Any, *, state: str = "open", q: str = "", matter: str = "",
                   department: str = "") -> Any:
    codes = access.department_codes(user)
    led = access.supervised_codes(user)
    if department:
        codes = [c for c in codes if c == department]
        led = [c for c in led if c == department]
    positions = access.position_codes(user)
    # My units' tasks for my positions (or anyone's), and every task of the units I lead.
    own = (Q(department_code__in=codes) if len(codes) != 1
           else Q(department_code=codes[0])) & (Q(position_code="")
                                                 | Q(position_code__in=positions))
    qs = Task.objects.filter(own | Q(department_code__in=led)) if led else \
        Task.objects.filter(own)
    if state == "mine":
        qs = qs.filter(state=TaskState.OPEN, claimed_by=user)
    elif state in ("waiting", "done"):
        qs = qs.filter(state=state)
        if state == "done":
            qs = qs.filter(done_by=user)
    else:
        qs = qs.filter(state=TaskState.OPEN)
    q = (q or "").strip().upper()
    if q:
        qs = qs.filter(number__startswith=q[:40])
    if matter:
        qs = qs.filter(matter_code=matter)
    return qs


def inbox(user: Any, *, state: str = "open", q: str = "", matter: str = "",
          department: str = "", page: Any = 1, per_page: int = PER_PAGE) -> InboxPage:
    """The official's inbox (待办): tasks of their departments for their positions (or for
    anyone in the department), soonest due first. ``state``: ``open`` (default), ``mine``
    (claimed by me), ``waiting`` (补正 pending), ``done`` (decided by me); ``q``: a receipt
    number or its beginning; ``matter``: a matter code."""
    if not access.is_official(user):
        raise PermissionDenied("officials only")
    per_page = min(max(int(per_page), 1), 100)
    qs = inbox_queryset(user, state=state, q=q, matter=matter, department=department)
    order = ("-done_at", "-id") if state == "done" else ("due_at", "id")
    try:
        number = max(1, int(page))
    except (TypeError, ValueError):
        number = 1
    number = min(number, -(-COUNT_CAP // per_page))
    start = (number - 1) * per_page
    rows = list(qs.order_by(*order).values(*INBOX_FIELDS)[start:start + per_page + 1])
    if number == 1 and len(rows) <= per_page:
        count = len(rows)  # the whole list is on this page: no count query
    else:
        # Counted up to the cap through the index, in the database (SELECT COUNT(*) FROM
        # (… LIMIT 1001)): never a COUNT(*) over a department's history.
        count = qs.order_by()[:COUNT_CAP + 1].count()
    capped = count > COUNT_CAP
    return InboxPage(rows=rows[:per_page], page=number, per_page=per_page,
                     has_next=len(rows) > per_page, count=min(count, COUNT_CAP), capped=capped)


def applications_of(user: Any, *, acting_for: str = "", state: str = "") -> Any:
    """The applicant's applications, newest first (without the encrypted columns): one's own,
    or with ``acting_for`` an enterprise's — all of them for its representative, those one
    filed for an agent whose mandate still holds the ``apply`` scope (none otherwise).
    Bundle members are listed under their bundle."""
    if acting_for:
        qs = Application.objects.filter(acting_for=acting_for)
        if not access.is_representative(user, acting_for):
            if not access.may_file_for(user, acting_for):
                return Application.objects.none()  # no live mandate to apply (M3)
            qs = qs.filter(applicant=user)
    else:
        qs = Application.objects.filter(applicant=user, acting_for="")
    qs = qs.filter(parent__isnull=True)
    if state:
        qs = qs.filter(state=state)
    return qs.defer(*LIGHT_DEFER).order_by("-created_at", "-id")


def application_for_applicant(user: Any, pk: Any) -> Application:
    """The application if ``user`` may see it as its applicant; PermissionDenied otherwise
    (also for one that does not exist, so ids cannot be probed)."""
    try:
        app = Application.objects.filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        app = None
    if app is None or not access.may_view_as_applicant(user, app):
        raise PermissionDenied("not the applicant")
    # Read and checked now: the write that follows in this request need not read it again
    # (lifecycle._fresh takes the mark once; the write's compare-and-swap still guards).
    app._checked_for = user.pk  # type: ignore[attr-defined]
    return app


def application_for_official(user: Any, pk: Any) -> Application:
    """The application if the official may handle it (their departments'); PermissionDenied
    otherwise."""
    try:
        app = Application.objects.filter(pk=int(pk)).exclude(state="draft").first()
    except (TypeError, ValueError):
        app = None
    if app is None or not access.may_handle(user, app):
        raise PermissionDenied("not this official's department")
    return app


def timeline(app: Application, *, public_only: bool) -> list[Any]:
    qs = app.events.all()
    if public_only:
        qs = qs.filter(public=True)
    return list(qs.order_by("at", "id"))


def open_tasks(app: Application) -> list[Task]:
    return list(app.tasks.filter(state__in=[TaskState.OPEN, TaskState.WAITING])
                .select_related("claimed_by").order_by("id"))
