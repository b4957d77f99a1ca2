"""Public facade of the workflow app (审批流程): approval flows and the working calendar.

An approval flow is authored as a *flow spec* — ``{"version": 1, "steps": [...]}`` made by the
structured editor (``workflow/editor.html``) — or drawn in Camunda Modeler and imported. Either
way it is compiled to BPMN 2.0 XML, which SpiffWorkflow 3.2 runs. Conditions are JSON Logic,
evaluated by ``yiwang.enablement.forms.service.evaluate``; no Python from a BPMN file is ever
evaluated and script/service tasks are refused (see ADR 0020 and docs/workflow.md).

Running is stateless: ``start`` / ``complete`` / ``fire_timers`` take the BPMN XML and the
state JSON the caller stores, and return a new :class:`Run`. Parsed BPMN specs are cached by
the XML's hash.

The working calendar (工作日历) knows weekends, public holidays and make-up workdays (调休上班);
timers and due dates are measured in working days.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from yiwang.enablement.workflow import bpmn_build, bpmn_import, editor, engine
from yiwang.enablement.workflow import calendar as _calendar
from yiwang.enablement.workflow import spec as _spec
from yiwang.enablement.workflow.types import OUTCOMES, Run, TaskInfo

#: The demo 2026 calendar (demo data: check against the State Council notice).
DEMO_CALENDAR_2026: Path = _calendar.DATA_2026

__all__ = [
    "DEMO_CALENDAR_2026",
    "OUTCOMES",
    "Run",
    "TaskInfo",
    "add_working_days",
    "add_working_hours",
    "build_bpmn",
    "calendar_days",
    "check_spec",
    "complete",
    "describe_spec",
    "editor_context",
    "fire_timers",
    "import_bpmn",
    "is_workday",
    "load_calendar",
    "set_day",
    "shift_timers",
    "spec_from_bpmn",
    "start",
    "working_days_between",
]


# --- flow specs and BPMN ---


def check_spec(spec: Any) -> dict[str, Any]:
    """Validate a flow spec made by the editor and return it normalised.

    Checks the shape (allow-listed kinds and keys, unique ids), names, that departments and
    positions exist (or are ``$applicant_department`` / ``$matter``), days and timers, and that
    gateway conditions are allow-listed JSON Logic. Raises ``ValidationError`` naming each
    problem in Chinese.
    """
    return _spec.check_spec(spec)


def build_bpmn(spec: dict[str, Any]) -> str:
    """Compile a (checked) flow spec to BPMN 2.0 XML with a BPMNDI left-to-right layout.

    User tasks carry ``camunda:candidateGroups="dept:<code>/pos:<code>"``; gateway conditions
    are ``conditionExpression language="jsonlogic"``; countersigns are a parallel gateway pair;
    task timers are non-interrupting boundary timers (``PT…`` in working days, see docs).
    """
    return bpmn_build.build_bpmn(_spec.check_spec(spec))


def import_bpmn(xml: str | bytes) -> dict[str, Any]:
    """Import a BPMN file drawn in Camunda Modeler 5 (the supported subset only).

    Returns ``{"bpmn": <normalised xml>, "process_id": ..., "tasks": [...]}``. Refuses anything
    outside the subset (script/service/send tasks, Python/JUEL/FEEL expressions other than
    ``${field == 'x'}``-style comparisons, which are translated to JSON Logic) with a
    ``ValidationError`` naming each element. XML entities, DTDs and network access are refused.
    """
    return bpmn_import.import_bpmn(xml)


def spec_from_bpmn(xml: str) -> dict[str, Any] | None:
    """The flow spec a BPMN document was built from, when it was built by ``build_bpmn``.

    ``None`` for BPMN drawn elsewhere (the editor then shows it read-only as a diagram).
    """
    return bpmn_build.embedded_spec(xml)


def describe_spec(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The user tasks of a spec in order, flattened (for guides and previews)."""
    return _spec.describe(spec)


# --- running ---


def start(bpmn: str, data: dict[str, Any], *, now: datetime | None = None) -> Run:
    """Start a flow on ``data`` (the application's form data) and run to the first tasks.

    Only the keys gateway conditions read are kept in the state. ``now`` (aware; default the
    current time) is when the first tasks' timers start counting.
    """
    return engine.start(bpmn, data, now)


def complete(
    bpmn: str,
    state: dict[str, Any],
    task_id: str,
    *,
    outcome: str,
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Run:
    """Complete the ready task ``task_id`` with ``outcome`` (``approve`` / ``reject``).

    ``data`` (optional) is merged into the flow's data before later conditions are evaluated.
    ``reject`` ends the flow with outcome ``rejected`` (a countersign party's reject too).
    ``return`` (补正) leaves the task ready and the state unchanged. Raises
    ``ValidationError`` for an unknown or no longer ready task or an unknown outcome.
    """
    return engine.complete(bpmn, state, task_id, outcome=outcome, data=data or {}, now=now)


def fire_timers(bpmn: str, state: dict[str, Any], now: datetime) -> Run:
    """Fire the boundary timers due at ``now`` (aware); returns the escalations that fired."""
    return engine.fire_timers(bpmn, state, now)


def shift_timers(state: Any, days: int) -> Any:
    """The serialised ``state`` with its boundary timers not yet fired moved ``days`` working
    days later (an application's clock paused for a correction)."""
    return engine.shift_timers(state, days)


# --- working calendar (工作日历) ---


def is_workday(day: date, calendar: str = "default") -> bool:
    """Whether ``day`` is a working day: Monday–Friday unless a holiday, or a make-up workday."""
    return _calendar.is_workday(day, calendar)


def add_working_days(start: datetime, days: int, calendar: str = "default") -> datetime:
    """``start`` moved by ``days`` working days (negative goes back), same time of day.

    Starting on a rest day counts from the next working day; ``days == 0`` returns ``start``
    moved forward to a working day when it falls on a rest day.
    """
    return _calendar.add_working_days(start, days, calendar)


def add_working_hours(start: datetime, hours: float, calendar: str = "default") -> datetime:
    """``start`` moved forward by ``hours`` of office time (``YIWANG_OFFICE_HOURS`` on the
    working days of the calendar): 2 working hours from Friday 17:00 end on Monday 09:30
    with the default 08:30–12:00, 13:30–18:00 (one hour on Friday, one on Monday)."""
    return _calendar.add_working_hours(start, hours, calendar)


def working_days_between(
    start: datetime | date, end: datetime | date, calendar: str = "default"
) -> int:
    """Working days in ``(start, end]`` (negative when ``end`` is before ``start``)."""
    return _calendar.working_days_between(start, end, calendar)


def calendar_days(year: int, calendar: str = "default") -> list[dict[str, Any]]:
    """The special days (holidays, make-up workdays) of ``year``:
    ``[{"day": date, "kind": "holiday"|"workday", "name": str}]`` ordered by date."""
    return _calendar.calendar_days(year, calendar)


def set_day(
    day: date, kind: str, name: str, actor: Any = None, *, calendar: str = "default"
) -> None:
    """Mark ``day`` as ``holiday`` or ``workday`` (调休上班), or ``normal`` to clear it; audited."""
    _calendar.set_day(day, kind, name, actor, calendar=calendar)


def load_calendar(path_or_dict: str | Path | dict[str, Any], *, actor: Any = None) -> int:
    """Load calendar days from a JSON file or dict (format of ``data/calendar-2026.json``).

    Idempotent; returns the number of days written.
    """
    return _calendar.load_calendar(path_or_dict, actor=actor)


# --- editor ---


def editor_context(
    spec: dict[str, Any] | None = None,
    *,
    bpmn: str | None = None,
    field_name: str = "flow_spec",
    import_url: str = "",
    departments: Any = None,
) -> dict[str, Any]:
    """Context for ``{% include "workflow/editor.html" %}``.

    ``departments`` defaults to every department with its positions
    (``[{"code", "name", "positions": [{"code", "name"}]}]``); ``import_url`` is where the BPMN
    import box posts its file (the embedding page's view calls ``import_bpmn``).
    """
    return editor.editor_context(
        spec, bpmn=bpmn, field_name=field_name, import_url=import_url, departments=departments
    )
