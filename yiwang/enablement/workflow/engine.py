"""Running approval flows on SpiffWorkflow 3.2, with JSON Logic instead of Python.

- ``JsonLogicEnvironment`` replaces SpiffWorkflow's Python environment: an expression is JSON
  (a JSON Logic rule or a literal) evaluated by ``forms.service.evaluate``; scripts and service
  calls are refused. So nothing from a BPMN file is ever run as Python.
- Boundary timers count working days on the calendar (``WorkingDayTimer``); the clock is the
  ``now`` of the call (``fire_timers``) or the current time.
- The state stored by the caller is SpiffWorkflow's own serialisation of the task tree
  *without* the process spec (the spec comes from the BPMN, parsed once per XML hash and
  cached), wrapped with our own fields: ``{"v": 1, "bpmn": <sha256>, "wf": {...}, "outcome"}``.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.config import DEFAULT_CONFIG
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    DurationTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask as UserTaskMixin
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from yiwang.enablement.workflow import bpmn_meta, xmlsafe
from yiwang.enablement.workflow.types import OUTCOMES, Run, TaskInfo

STATE_VERSION = 1
_CACHE_SIZE = 256
_NOW: contextvars.ContextVar[datetime | None] = contextvars.ContextVar("workflow_now", default=None)


def _now() -> datetime:
    return _NOW.get() or timezone.now()


class ExpressionRefused(SpiffWorkflowException):
    """An expression that is not JSON Logic, or a script: never run."""


class JsonLogicEnvironment(BasePythonScriptEngineEnvironment):
    """Evaluates expressions as JSON Logic on the task data; refuses scripts."""

    def evaluate(
        self, expression: Any, context: dict[str, Any], external_context: Any = None
    ) -> Any:
        from yiwang.enablement.forms import service as forms

        rule = parse_expression(expression)
        return forms.evaluate(rule, context)

    def execute(self, script: Any, context: Any, external_context: Any = None) -> Any:
        raise ExpressionRefused(_("流程中不允许脚本"))

    def call_service(self, context: Any, **kwargs: Any) -> Any:
        raise ExpressionRefused(_("流程中不允许服务调用"))


def parse_expression(expression: Any) -> Any:
    """The JSON value of an expression, or ``ExpressionRefused``."""
    if not isinstance(expression, str):
        raise ExpressionRefused(_("条件表达式格式不正确"))
    try:
        return json.loads(expression)
    except (ValueError, RecursionError):
        raise ExpressionRefused(_("条件须为 JSON Logic，不执行 Python 表达式")) from None


class JsonLogicScriptEngine(PythonScriptEngine):
    """SpiffWorkflow's script engine with JSON Logic only (see module docstring)."""

    def __init__(self) -> None:
        super().__init__(environment=JsonLogicEnvironment())

    def validate(self, expression: Any) -> None:
        parse_expression(expression)

    def execute(self, task: Any, script: Any, external_context: Any = None) -> Any:
        raise ExpressionRefused(_("流程中不允许脚本"))

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        raise ExpressionRefused(_("流程中不允许服务调用"))


ENGINE = JsonLogicScriptEngine()

_DURATION_RE = re.compile(r"^P(?:(\d{1,3})D)?(?:T(?:(\d{1,4})H)?(?:(\d{1,5})M)?)?$")


def timer_due(start: datetime, expression: str) -> datetime:
    """When a timer of ``expression`` (``P<n>D`` working days, ``T<h>H<m>M`` clock time) set at
    ``start`` fires."""
    from yiwang.enablement.workflow import calendar

    match = _DURATION_RE.match(expression.strip().upper())
    if not match or expression.strip().upper() in ("P", "PT"):
        raise ExpressionRefused(_("计时器时长须为 P<天数>D 或 PT<小时>H 形式"))
    days, hours, minutes = (int(g) if g else 0 for g in match.groups())
    due = calendar.add_working_days(start, days) if days else start
    return due + timedelta(hours=hours, minutes=minutes)


class WorkingDayTimer(DurationTimerEventDefinition):
    """A duration timer whose days are working days, measured from the call's clock."""

    def has_fired(self, my_task: Any) -> bool:
        now = _now()
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            event_value = timer_due(now, self.expression).isoformat()
            my_task._set_internal_data(event_value=event_value)
        if datetime.fromisoformat(event_value) <= now:
            my_task._set_internal_data(event_fired=True)
        return bool(my_task._get_internal_data("event_fired", False))


class _StatelessSpecConverter(BpmnWorkflowConverter):
    """Serialises a workflow without its spec; restores it onto the cached spec."""

    def to_dict(self, workflow: Any) -> dict[str, Any]:
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any]) -> Any:
        parsed = _RESTORING.get()
        assert parsed is not None
        workflow = self.target_class(parsed.spec, {}, script_engine=ENGINE, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


_RESTORING: contextvars.ContextVar[Parsed | None] = contextvars.ContextVar(
    "workflow_restoring", default=None
)
_config = dict(DEFAULT_CONFIG)
_config[BpmnWorkflow] = _StatelessSpecConverter
SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_config))


@dataclass
class Parsed:
    """A BPMN document parsed once: SpiffWorkflow spec plus our metadata."""

    digest: str
    spec: Any
    meta: bpmn_meta.Meta
    timer_ids: frozenset[str] = field(default_factory=frozenset)


_cache: OrderedDict[str, Parsed] = OrderedDict()
_cache_lock = threading.Lock()


def digest_of(bpmn: str) -> str:
    """SHA-256 hex of the BPMN XML (the cache and state key)."""
    return hashlib.sha256(bpmn.encode("utf-8")).hexdigest()


def parse(bpmn: str) -> Parsed:
    """Parse ``bpmn`` (cached by hash); raises ``ValidationError`` when it cannot run."""
    digest = digest_of(bpmn)
    with _cache_lock:
        found = _cache.get(digest)
        if found is not None:
            _cache.move_to_end(digest)
            return found
    try:
        root = xmlsafe.parse(bpmn)
    except ValueError as exc:
        raise ValidationError(str(exc), code="invalid_bpmn") from None
    meta = bpmn_meta.read(root)  # raises ValidationError for anything outside the subset
    parser = BpmnParser()
    try:
        parser.add_bpmn_xml(root.getroottree(), filename="flow.bpmn")
        spec = parser.get_spec(meta.process_id)
    except (ValidationException, SpiffWorkflowException) as exc:
        raise ValidationError(
            _("BPMN 无法运行：%(error)s") % {"error": exc}, code="invalid_bpmn"
        ) from None
    timer_ids = set()
    for task_spec in spec.task_specs.values():
        definition = getattr(task_spec, "event_definition", None)
        if isinstance(definition, TimerEventDefinition):
            if not isinstance(definition, DurationTimerEventDefinition):
                raise ValidationError(_("只支持时长型计时器（timeDuration）"), code="invalid_bpmn")
            task_spec.event_definition = WorkingDayTimer(
                definition.name, definition.expression, description=definition.description
            )
            timer_ids.add(task_spec.name)
    parsed = Parsed(digest, spec, meta, frozenset(timer_ids))
    with _cache_lock:
        _cache[digest] = parsed
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return parsed


# --- state ------------------------------------------------------------------------------


def _dump(parsed: Parsed, workflow: Any, outcome: str | None) -> dict[str, Any]:
    wf = SERIALIZER.to_dict(workflow)
    return {"v": STATE_VERSION, "bpmn": parsed.digest, "wf": wf, "outcome": outcome}


def _load(parsed: Parsed, state: dict[str, Any]) -> Any:
    if not isinstance(state, dict) or state.get("v") != STATE_VERSION or "wf" not in state:
        raise ValidationError(_("流程状态格式不正确"), code="invalid_state")
    if state.get("bpmn") != parsed.digest:
        raise ValidationError(_("流程状态与流程定义不匹配"), code="invalid_state")
    token = _RESTORING.set(parsed)
    try:
        # the converter pops top-level keys; nested values are rebuilt, never shared
        return SERIALIZER.from_dict(dict(state["wf"]))
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise ValidationError(
            _("流程状态无法读取：%(error)s") % {"error": exc}, code="invalid_state"
        ) from None
    finally:
        _RESTORING.reset(token)


def _task_info(parsed: Parsed, task: Any) -> Any:
    meta = parsed.meta.tasks.get(task.task_spec.bpmn_id)
    if meta is None:
        return TaskInfo(
            id=str(task.id),
            spec=task.task_spec.bpmn_id,
            name=task.task_spec.bpmn_name or task.task_spec.bpmn_id,
            department=None,
            position=None,
            days=None,
        )
    return TaskInfo(
        id=str(task.id),
        spec=meta.id,
        name=meta.name,
        department=meta.department,
        position=meta.position,
        days=meta.days,
        countersign_group=meta.countersign,
    )


def _run(
    parsed: Parsed,
    workflow: Any,
    outcome: str | None = None,
    escalations: list[dict[str, Any]] | None = None,
) -> Any:
    ready: list[Any] = []
    timers: list[datetime] = []
    unfinished = False
    rejected = False
    # one pass over the tree instead of one filtered iteration per question
    for task in workflow.tasks.values():
        state = task.state
        if state & TaskState.FINISHED_MASK:
            if (
                state == TaskState.COMPLETED
                and task.task_spec.bpmn_id in parsed.meta.rejecting_ends
            ):
                rejected = True
            continue
        unfinished = True
        if state == TaskState.READY and isinstance(task.task_spec, UserTaskMixin):
            ready.append(task)
        elif state == TaskState.WAITING and task.task_spec.name in parsed.timer_ids:
            value = task._get_internal_data("event_value")
            if value and not task._get_internal_data("event_fired"):
                timers.append(datetime.fromisoformat(value))
    if outcome is None and not unfinished:
        outcome = "rejected" if rejected else "approved"
    if outcome is None and not ready and not timers:
        # nothing anyone can act on and nothing to wait for: refuse, so the caller's
        # transaction keeps the previous state instead of saving a stuck one
        raise ValidationError(
            _("流程无法继续：没有可办理的环节，也没有等待中的计时器。请检查流程图"
              "（例如不经过用户任务的网关循环）。"),
            code="stuck",
        )
    finished = outcome is not None
    ready.sort(key=lambda t: (t.last_state_change, t.task_spec.bpmn_id or ""))
    return Run(
        state=_dump(parsed, workflow, outcome),
        ready=[] if finished else [_task_info(parsed, t) for t in ready],
        finished=finished,
        outcome=outcome,
        escalations=escalations or [],
        next_timer_at=None if finished or not timers else min(timers),
    )


def _fired_timers(parsed: Parsed, workflow: Any) -> dict[UUID, Any]:
    return {
        t.id: t
        for t in workflow.tasks.values()
        if t.state == TaskState.COMPLETED and t.task_spec.name in parsed.timer_ids
    }


# bounds of one run: a real flow takes a few dozen engine steps between user tasks; a loop
# through a parallel split grows the task tree (and the cost of each step) exponentially
_MAX_STEPS = 200
_MAX_TASKS = 5000


def _steps(workflow: Any) -> None:
    count = 0

    def bounded(_task: Any) -> None:
        nonlocal count
        count += 1
        if count > _MAX_STEPS or len(workflow.tasks) > _MAX_TASKS:
            raise ValidationError(
                _("流程无法继续：一次推进超过 %(n)d 步，流程图可能有不经过用户任务的循环。")
                % {"n": _MAX_STEPS},
                code="too_many_steps",
            )

    try:
        workflow.do_engine_steps(did_complete_task=bounded)
    except ExpressionRefused as exc:
        raise ValidationError(str(exc), code="refused") from None
    except SpiffWorkflowException as exc:
        raise ValidationError(
            _("流程无法继续：%(error)s") % {"error": exc}, code="engine"
        ) from None
    except ValidationError:
        raise


# --- the three verbs ------------------------------------------------------------------------


def start(bpmn: str, data: dict[str, Any], now: datetime | None = None) -> Any:
    """See ``service.start``."""
    _check_aware(now)
    parsed = parse(bpmn)
    token = _NOW.set(now)
    try:
        workflow = BpmnWorkflow(parsed.spec, {}, script_engine=ENGINE)
        # Only what conditions read goes into the flow's data: the state then carries no more
        # of the (personal) form data than it needs.
        start_data = _condition_data(parsed, data)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(start_data)
        _steps(workflow)
        return _run(parsed, workflow)
    finally:
        _NOW.reset(token)


def complete(
    bpmn: str,
    state: dict[str, Any],
    task_id: str,
    *,
    outcome: str,
    data: dict[str, Any],
    now: datetime | None = None,
) -> Any:
    """See ``service.complete``."""
    if outcome not in OUTCOMES:
        raise ValidationError(
            _("未知的办理结果 %(outcome)s") % {"outcome": outcome}, code="outcome"
        )
    _check_aware(now)
    parsed = parse(bpmn)
    token = _NOW.set(now)
    try:
        workflow = _load(parsed, state)
        if state.get("outcome"):
            raise ValidationError(_("流程已办结"), code="finished")
        task = _find_ready(workflow, task_id)
        if outcome == "return":
            return _run(parsed, workflow)
        task.data.update(_condition_data(parsed, data))
        outcomes = dict(task.data.get("outcomes") or {})
        outcomes[task.task_spec.bpmn_id] = outcome
        task.data["outcomes"] = outcomes
        task.data["outcome"] = outcome
        if outcome == "reject":
            task.run()
            workflow.cancel()
            return _run(parsed, workflow, outcome="rejected")
        task.run()
        _steps(workflow)
        return _run(parsed, workflow)
    finally:
        _NOW.reset(token)


def shift_timers(state: Any, days: int) -> Any:
    """``state`` (serialised) with the boundary timers not yet fired moved ``days`` working
    days later. A timer's due time is its task's internal ``event_value`` (ISO, see
    ``WorkingDayTimer``); a value that is not a time is left as it is."""
    from yiwang.enablement.workflow import calendar

    if not days:
        return state

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {k: walk(v) for k, v in node.items()}
            value = node.get("event_value")
            if isinstance(value, str) and not node.get("event_fired"):
                try:
                    moved = calendar.add_working_days(datetime.fromisoformat(value), days)
                except ValueError:
                    return out
                out["event_value"] = moved.isoformat()
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(state)


def fire_timers(bpmn: str, state: dict[str, Any], now: datetime) -> Any:
    """See ``service.fire_timers``."""
    if timezone.is_naive(now):
        raise ValueError("fire_timers needs an aware datetime")
    parsed = parse(bpmn)
    token = _NOW.set(now)
    try:
        workflow = _load(parsed, state)
        if state.get("outcome"):
            return _run(parsed, workflow, outcome=state["outcome"])
        before = set(_fired_timers(parsed, workflow))
        workflow.refresh_timers()
        _steps(workflow)
        escalations = []
        for task_uuid, task in _fired_timers(parsed, workflow).items():
            if task_uuid in before:
                continue
            timer = parsed.meta.timers.get(task.task_spec.bpmn_id)
            if timer is None:
                continue
            target = next(
                (c for c in task.parent.children if c.task_spec.bpmn_id == timer.attached_to), None
            )
            escalations.append(
                {
                    "task": str(target.id) if target is not None else None,
                    "spec": timer.attached_to,
                    "timer": timer.id,
                    "action": timer.action,
                    "to_position": timer.to_position,
                    "interrupting": timer.interrupting,
                    "at": now.isoformat(),
                }
            )
        return _run(parsed, workflow, escalations=escalations)
    finally:
        _NOW.reset(token)


def _check_aware(now: datetime | None) -> None:
    if now is not None and timezone.is_naive(now):
        raise ValueError("the workflow clock needs an aware datetime")


def _find_ready(workflow: Any, task_id: str) -> Any:
    try:
        task = workflow.get_task_from_id(UUID(str(task_id)))
    except (ValueError, TypeError, SpiffWorkflowException, KeyError):
        task = None
    if task is None or not isinstance(task.task_spec, UserTaskMixin):
        raise ValidationError(_("找不到该审批环节"), code="no_task")
    if task.state != TaskState.READY:
        raise ValidationError(_("该审批环节已办理或已取消"), code="not_ready")
    return task


def _condition_data(parsed: Parsed, data: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationError(_("流程数据须为对象"), code="invalid_data")
    keys = parsed.meta.condition_vars
    return {k: v for k, v in data.items() if k in keys}
