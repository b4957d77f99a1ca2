"""The registry of background tasks (后台任务) and periodic jobs (定时任务).

Apps declare their tasks in their own ``tasks.py``, which the tasks app imports at start-up.
They import ``task``, ``periodic`` and ``PermanentFailure`` from the facade,
:mod:`yiwang.core.tasks.service` (other apps may not import this module)::

    from datetime import timedelta

    from yiwang.core.tasks.service import periodic, task

    @task(name="regions.rebuild_index", max_retries=5, time_limit=600)
    def rebuild_index(region_code: str) -> int:
        ...

    @periodic(name="city.escalate_overdue", every=timedelta(minutes=5))
    def escalate_overdue() -> None:
        ...

    @periodic(name="ledger.checkpoint", at="03:00")  # every night, local time (Asia/Shanghai)
    def checkpoint() -> None:
        ...

The same function runs on both backends (the embedded database worker and Celery).

Tasks are delivered **at least once**: a worker that dies, a time limit or a retry runs the
function again. Write tasks to be idempotent — take identifiers rather than objects, re-read
the current state, and make a second run change nothing (``update_or_create``, conditional
``UPDATE … WHERE status = …``, unique keys on what the task produces). Raise
:class:`PermanentFailure` for an error that a retry cannot fix.
"""

from __future__ import annotations

import functools
import inspect
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Generic, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

from django.conf import settings

P = ParamSpec("P")
R = TypeVar("R")

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
QUEUE_PATTERN = re.compile(r"^[a-z][a-z0-9_.-]{0,49}$")
_AT_PATTERN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class PermanentFailure(Exception):
    """Raised by a task for an error a retry cannot fix: the job fails without retrying."""


class Task(Generic[P, R]):
    """A registered task. Calling it runs the function here and now (for tests and scripts)."""

    def __init__(self, name: str, func: Callable[P, R], *, max_retries: int | None = None,
                 time_limit: int | None = None, queue: str = "default") -> None:
        self.name = name
        self.func = func
        self.max_retries = max_retries
        self.time_limit = time_limit
        self.queue = queue
        self.signature = inspect.signature(func)
        functools.update_wrapper(self, func)

    def __repr__(self) -> str:
        return f"<Task {self.name}>"

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.func(*args, **kwargs)

    @property
    def max_attempts(self) -> int:
        """First run plus retries (``max_retries`` or ``YIWANG_TASK_MAX_RETRIES``)."""
        retries = settings.YIWANG_TASK_MAX_RETRIES if self.max_retries is None else self.max_retries
        return int(retries) + 1

    @property
    def seconds_allowed(self) -> int:
        """The time limit of one run (``time_limit`` or ``YIWANG_TASK_TIME_LIMIT``)."""
        return int(self.time_limit or settings.YIWANG_TASK_TIME_LIMIT)

    def check_call(
        self, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[list[Any], dict[str, Any]]:
        """Check the arguments fit the function and are JSON; return them as JSON values.

        Raises ``TypeError`` naming the problem, so a mistake shows up at the call site of
        ``enqueue`` instead of in a worker minutes later.
        """
        try:
            self.signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"task {self.name!r}: {exc}") from None
        return (
            [as_json(value, f"{self.name} argument {i}") for i, value in enumerate(args)],
            {key: as_json(value, f"{self.name} argument {key!r}") for key, value in kwargs.items()},
        )


@dataclass(frozen=True)
class Schedule:
    """When a periodic job is due: every ``every``, or daily at ``at`` (local time)."""

    every: timedelta | None = None
    at: time | None = None

    def describe(self) -> str:
        """A stable text form, stored with the schedule so a changed schedule is noticed."""
        if self.every is not None:
            return f"every {int(self.every.total_seconds())}s"
        assert self.at is not None
        return f"daily at {self.at:%H:%M} {settings.TIME_ZONE}"

    def next_after(self, moment: datetime) -> datetime:
        """The first time strictly after ``moment`` at which the job is due again."""
        if self.every is not None:
            return moment + self.every
        assert self.at is not None
        zone = ZoneInfo(settings.TIME_ZONE)
        local = moment.astimezone(zone)
        candidate = datetime.combine(local.date(), self.at, tzinfo=zone)
        if candidate <= local:
            candidate = datetime.combine(local.date() + timedelta(days=1), self.at, tzinfo=zone)
        return candidate


@dataclass(frozen=True)
class Periodic:
    """A task that the scheduler enqueues on its schedule, once per period across workers."""

    task: Task[[], Any]
    schedule: Schedule

    @property
    def name(self) -> str:
        return self.task.name


_TASKS: dict[str, Task[..., Any]] = {}
_PERIODIC: dict[str, Periodic] = {}


def _register(spec: Task[..., Any]) -> None:
    existing = _TASKS.get(spec.name)
    if existing is not None and (
        existing.func.__module__, existing.func.__qualname__
    ) != (spec.func.__module__, spec.func.__qualname__):
        raise ValueError(
            f"task name {spec.name!r} is already used by "
            f"{existing.func.__module__}.{existing.func.__qualname__}"
        )
    _TASKS[spec.name] = spec


def task(
    *, name: str, max_retries: int | None = None, time_limit: int | None = None,
    queue: str = "default",
) -> Callable[[Callable[P, R]], Task[P, R]]:
    """Register a function as a background task under ``name`` (``"<app>.<verb>_<noun>"``).

    ``max_retries`` and ``time_limit`` (seconds) default to ``YIWANG_TASK_MAX_RETRIES`` and
    ``YIWANG_TASK_TIME_LIMIT``. Arguments must be JSON values (str, int, float, bool, None,
    lists and dicts with string keys): pass primary keys, never model instances. Tasks run
    at least once — they must be idempotent (see the module docstring).
    """
    if not NAME_PATTERN.match(name):
        raise ValueError(
            f"task name {name!r} must be dotted lower case, e.g. 'regions.rebuild_index'"
        )
    if not QUEUE_PATTERN.match(queue):
        raise ValueError(f"queue name {queue!r} must be lower case letters, digits, '_', '-', '.'")
    if max_retries is not None and max_retries < 0:
        raise ValueError("max_retries must be 0 or more")
    if time_limit is not None and time_limit < 1:
        raise ValueError("time_limit must be at least 1 second")

    def register(func: Callable[P, R]) -> Task[P, R]:
        spec: Task[P, R] = Task(name=name, func=func, max_retries=max_retries,
                                time_limit=time_limit, queue=queue)
        _register(spec)
        return spec

    return register


def periodic(
    *, name: str, every: timedelta | None = None, at: str | None = None,
    max_retries: int | None = None, time_limit: int | None = None, queue: str = "default",
) -> Callable[[Callable[[], R]], Task[[], R]]:
    """Register a task without arguments that runs on a schedule.

    Give exactly one of ``every`` (an interval, at least one second) or ``at`` (``"HH:MM"``,
    daily, in the local time zone ``TIME_ZONE``, i.e. Asia/Shanghai). However many workers
    run, each period fires once: the workers claim it in the database. A period missed while
    no worker ran fires once when one starts again; missed periods are not replayed.
    """
    if (every is None) == (at is None):
        raise ValueError(f"periodic {name!r}: give exactly one of every= or at=")
    at_time: time | None = None
    if every is not None and every < timedelta(seconds=1):
        raise ValueError(f"periodic {name!r}: every= must be at least one second")
    if at is not None:
        match = _AT_PATTERN.match(at)
        if not match:
            raise ValueError(f"periodic {name!r}: at= must be 'HH:MM' (24-hour), got {at!r}")
        at_time = time(int(match.group(1)), int(match.group(2)))
    schedule = Schedule(every=every, at=at_time)
    as_task = task(name=name, max_retries=max_retries, time_limit=time_limit, queue=queue)

    def register(func: Callable[[], R]) -> Task[[], R]:
        required = [p for p in inspect.signature(func).parameters.values()
                    if p.default is inspect.Parameter.empty
                    and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if required:
            raise TypeError(f"periodic {name!r}: the function must take no required arguments")
        spec = as_task(func)
        _PERIODIC[name] = Periodic(task=spec, schedule=schedule)
        return spec

    return register


def get(name: str) -> Task[..., Any]:
    """The task registered under ``name``; ``LookupError`` if there is none."""
    try:
        return _TASKS[name]
    except KeyError:
        raise LookupError(
            f"no task named {name!r}; is it declared in the tasks.py of an installed app?"
        ) from None


def all_tasks() -> dict[str, Task[..., Any]]:
    """Every registered task by name."""
    return dict(_TASKS)


def all_periodic() -> dict[str, Periodic]:
    """Every registered periodic job by name."""
    return dict(_PERIODIC)


def queues() -> list[str]:
    """The queues that registered tasks use (always including ``default``)."""
    return sorted({"default", *(spec.queue for spec in _TASKS.values())})


def as_json(value: Any, where: str = "value") -> Any:
    """``value`` as a JSON value (tuples become lists), or ``TypeError`` naming the culprit."""
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(f"{where}: {value!r} is not a JSON number")
        return value
    if isinstance(value, list | tuple):
        return [as_json(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where}: dict key {key!r} is not a string")
            result[key] = as_json(item, f"{where}[{key!r}]")
        return result
    hint = ""
    if hasattr(value, "_meta") and hasattr(value, "pk"):
        hint = " (pass the primary key, not the model instance)"
    elif isinstance(value, datetime):
        hint = " (pass value.isoformat())"
    raise TypeError(f"{where}: {type(value).__name__} is not JSON-serialisable{hint}")
