"""Value types of the workflow facade (importable by other apps, like ``service``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: What an official may decide on a task. ``return`` (补正) is handled by the caller: the
#: task stays ready and the caller pauses its clock; ``reject`` ends the process.
OUTCOMES: tuple[str, ...] = ("approve", "reject", "return")


@dataclass(frozen=True)
class TaskInfo:
    """A ready user task of a running flow.

    ``id`` is stable for the life of the task (SpiffWorkflow's task UUID); ``spec`` is the BPMN
    element id; ``countersign_group`` is the id of the countersign (会签) step the task belongs
    to, or ``None``. ``department`` may be a code or ``$applicant_department`` / ``$matter``
    (resolved by the caller).
    """

    id: str
    spec: str
    name: str
    department: str | None
    position: str | None
    days: int | None
    countersign_group: str | None = None


@dataclass(frozen=True)
class Run:
    """The result of ``start`` / ``complete`` / ``fire_timers``.

    ``state`` is JSON-serialisable (the caller stores it); ``outcome`` is ``approved`` or
    ``rejected`` once ``finished``; ``escalations`` lists timers that fired in this call
    (``{"task": <TaskInfo.id>, "spec", "action": "escalate"|"warn", "to_position", "at"}``);
    ``next_timer_at`` is the earliest pending timer (aware datetime) or ``None``.
    """

    state: dict[str, Any]
    ready: list[TaskInfo]
    finished: bool
    outcome: str | None
    escalations: list[dict[str, Any]] = field(default_factory=list)
    next_timer_at: datetime | None = None
