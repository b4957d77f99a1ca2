"""Reads for pages and the API: the officials' inbox, the applicant's list, one application.

The inbox is one query on :class:`Task` through the index ``(department_code, state, due_at,
id)``: the rows carry what the list shows, so there is no join and nothing to decrypt; its
size is counted up to :data:`COUNT_CAP` only (a ``COUNT(*)`` over a million rows is what
makes list pages slow), and pages stop at the cap — past it, the official narrows the list
with a filter (ADR 0023).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Model, QuerySet

from yiwang.industry.applications import access
from yiwang.industry.applications.models import Application, Event, Material, Task, TaskState

PER_PAGE = 20
COUNT_CAP = 1000
INBOX_FIELDS = ("pk", "application_id", "number", "matter_code", "matter_name",
                "applicant_masked", "name", "department_code", "position_code", "state",
                "due_at", "claimed_by_id", "countersign_group", "created_at")
INBOX_STATES = ("open", "mine", "waiting", "done")
LIGHT_DEFER = ("data_text", "workflow_text", "outcome_reason")
# The inbox's columns as the rows name them (``pk`` is the id).
_INBOX_COLUMNS = ", ".join(f"{'id' if f == 'pk' else f}" for f in INBOX_FIELDS)


# --- reads of a fixed shape, compiled once -------------------------------------------------------
#
# Django compiles a queryset into SQL on every execution (~0.7 ms of CPU for a one-table read,
# ~0.1 ms to run it). The reads below have a fixed shape — only the primary key changes —
# so their SQL is compiled once per database vendor and process and run through ``raw``,
# which still applies every field's converters (decryption, time zones). Only SQL text is
# kept: it depends on the code and the vendor alone, never on data, so a per-process cache
# is correct whatever other processes do.

_PK_SLOT = -7_310_000_000_000_001  # stands for the primary key while a read is compiled
_COMPILED: dict[tuple[str, str], tuple[str, tuple[Any, ...]]] = {}


def _compiled(name: str, build: Callable[[Any], QuerySet[Any]]) -> tuple[str, tuple[Any, ...]]:
    key = (name, connection.vendor)
    found = _COMPILED.get(key)
    if found is None:
        sql, params = build(_PK_SLOT).query.sql_with_params()
        if list(params).count(_PK_SLOT) != 1:
            raise AssertionError(f"{name}: the key must be the read's one varying parameter")
        found = _COMPILED[key] = (sql, tuple(params))
    return found


def _rows(model: type[Model], name: str, build: Callable[[Any], QuerySet[Any]],
          pk: int) -> list[Any]:
    """``list(build(pk))``, through SQL compiled once (see above)."""
    sql, params = _compiled(name, build)
    return list(model._default_manager.raw(sql, [pk if p == _PK_SLOT else p for p in params]))


def _converted(fields: tuple[str, ...], rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Rows of Task columns as ``values(*fields)`` gives them: each column through its
    converters (on SQLite, datetimes made aware), as Django's compiler applies them."""
    table = Task._meta.db_table
    steps = []
    for i, name in enumerate(fields):
        col = (Task._meta.pk if name == "pk" else Task._meta.get_field(name)).get_col(table)  # type: ignore[union-attr]
        functions = (connection.ops.get_db_converters(col)
                     + col.get_db_converters(connection))
        if functions:
            steps.append((i, functions, col))
    out = []
    for row in rows:
        values = list(row)
        for i, functions, col in steps:
            for function in functions:
                values[i] = function(values[i], col, connection)
        out.append(dict(zip(fields, values, strict=True)))
    return out


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


def _inbox_where(user: Any, *, state: str, q: str, matter: str,
                 department: str) -> tuple[str, list[Any]] | None:
    """The inbox's WHERE clause and its parameters, as :func:`inbox_queryset` filters (None:
    the official has no unit, so no row). Written out rather than compiled by the ORM on
    every request: the inbox is the most frequent list there is."""
    codes = access.department_codes(user)
    led = access.supervised_codes(user)
    if department:
        codes = [c for c in codes if c == department]
        led = [c for c in led if c == department]
    if not codes and not led:
        return None
    positions = access.position_codes(user)
    params: list[Any] = []
    mine: list[str] = []
    if codes:
        params += codes
        where = f"department_code IN ({', '.join(['%s'] * len(codes))})"
        if positions:
            params += positions
            where += (f" AND (position_code = '' OR position_code IN "
                      f"({', '.join(['%s'] * len(positions))}))")
        else:
            where += " AND position_code = ''"
        mine.append(f"({where})")
    if led:
        params += led
        mine.append(f"department_code IN ({', '.join(['%s'] * len(led))})")
    clauses = [f"({' OR '.join(mine)})"]
    if state == "mine":
        clauses.append("state = %s AND claimed_by_id = %s")
        params += [TaskState.OPEN.value, user.pk]
    elif state in ("waiting", "done"):
        clauses.append("state = %s")
        params.append(state)
        if state == "done":
            clauses.append("done_by_id = %s")
            params.append(user.pk)
    else:
        clauses.append("state = %s")
        params.append(TaskState.OPEN.value)
    q = (q or "").strip().upper()
    if q:
        # What the ORM writes for number__startswith on this database.
        column = connection.ops.lookup_cast("startswith", "CharField") % "number"
        operator = connection.operators["startswith"] % "%s"  # type: ignore[attr-defined]
        clauses.append(f"{column} {operator}")
        params.append(f"{connection.ops.prep_for_like_query(q[:40])}%")
    if matter:
        clauses.append("matter_code = %s")
        params.append(matter)
    return " AND ".join(clauses), params


def inbox(user: Any, *, state: str = "open", q: str = "", matter: str = "",
          department: str = "", page: Any = 1, per_page: int = PER_PAGE) -> InboxPage:
    """The official's inbox (待办): tasks of their departments for their positions (or for
    anyone in the department), soonest due first. ``state``: ``open`` (default), ``mine``
    (claimed by me), ``waiting`` (补正 pending), ``done`` (decided by me); ``q``: a receipt
    number or its beginning; ``matter``: a matter code."""
    if not access.is_official(user):
        raise PermissionDenied("officials only")
    per_page = min(max(int(per_page), 1), 100)
    try:
        number = max(1, int(page))
    except (TypeError, ValueError):
        number = 1
    number = min(number, -(-COUNT_CAP // per_page))
    start = (number - 1) * per_page
    found = _inbox_where(user, state=state, q=q, matter=matter, department=department)
    if found is None:
        return InboxPage(rows=[], page=number, per_page=per_page, has_next=False, count=0,
                         capped=False)
    where, params = found
    table = Task._meta.db_table
    order = "done_at DESC, id DESC" if state == "done" else "due_at ASC, id ASC"
    # Through the index (department_code, state, due_at, id, position_code, number): the
    # page stops after start + per_page + 1 entries (ADR 0023). The SQL text holds only
    # constants and placeholders; every value is a parameter.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {_INBOX_COLUMNS} FROM {table} WHERE {where} "  # noqa: S608
                       f"ORDER BY {order} LIMIT {per_page + 1:d} OFFSET {start:d}", params)
        rows = _converted(INBOX_FIELDS, cursor.fetchall())
        if number == 1 and len(rows) <= per_page:
            count = len(rows)  # the whole list is on this page: no count query
        else:
            # Counted up to the cap through the same index: never a COUNT(*) over a
            # department's history.
            cursor.execute(f"SELECT COUNT(*) FROM (SELECT id FROM {table} "  # noqa: S608
                           f"WHERE {where} LIMIT {COUNT_CAP + 1:d}) capped", params)
            count = int(cursor.fetchone()[0])
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


_PK_RANGE = range(-(2**63), 2**63)  # a key outside it matches no row (and SQLite refuses it)


def _key(pk: Any) -> int | None:
    try:
        key = int(pk)
    except (TypeError, ValueError):
        return None
    return key if key in _PK_RANGE else None


def _application(name: str, build: Callable[[Any], QuerySet[Any]], pk: Any) -> Any:
    key = _key(pk)
    found = _rows(Application, name, build, key) if key is not None else []
    return found[0] if found else None


def application_for_applicant(user: Any, pk: Any) -> Application:
    """The application if ``user`` may see it as its applicant; PermissionDenied otherwise
    (also for one that does not exist, so ids cannot be probed)."""
    app = _application("application", lambda k: Application.objects.filter(pk=k), pk)
    if app is None or not access.may_view_as_applicant(user, app):
        raise PermissionDenied("not the applicant")
    # Read and checked now: the write that follows in this request need not read it again
    # (lifecycle._fresh takes the mark once; the write's compare-and-swap still guards).
    app._checked_for = user.pk
    return app


def application_for_official(user: Any, pk: Any) -> Application:
    """The application if the official may handle it (their departments'); PermissionDenied
    otherwise."""
    app = _application("submitted_application",
                       lambda k: Application.objects.filter(pk=k).exclude(state="draft"), pk)
    if app is None or not access.may_handle(user, app):
        raise PermissionDenied("not this official's department")
    return app


def timeline(app: Application, *, public_only: bool) -> list[Any]:
    """The application's events (办理进度), oldest first; ``public_only``: those its
    applicant sees."""
    if public_only:
        return _rows(Event, "public_timeline",
                     lambda k: Event.objects.filter(application_id=k, public=True)
                     .order_by("at", "id"), app.pk)
    return _rows(Event, "timeline",
                 lambda k: Event.objects.filter(application_id=k).order_by("at", "id"), app.pk)


def materials_of(app: Application) -> list[Material]:
    """The application's materials (uploads and reused licences), as ``app.materials``
    orders them."""
    return _rows(Material, "materials", lambda k: Material.objects.filter(application_id=k),
                 app.pk)


def open_tasks(app: Application) -> list[Task]:
    """The application's open and waiting tasks, with their claimant's user row."""
    return list(app.tasks.filter(state__in=[TaskState.OPEN, TaskState.WAITING])
                .select_related("claimed_by").order_by("id"))


def open_task_rows(app: Application) -> list[Task]:
    """:func:`open_tasks` without the claimant's row (``claimed_by_id`` only) — those the
    write of this request just made when it knows they are all (``progress.write_run``),
    else read."""
    known = getattr(app, "_open_tasks", None)
    if known is not None:
        return list(known)
    return _rows(Task, "open_tasks",
                 lambda k: Task.objects.filter(application_id=k,
                                               state__in=[TaskState.OPEN, TaskState.WAITING])
                 .order_by("id"), app.pk)
