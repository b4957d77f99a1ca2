"""Reading a BPMN document: the supported subset, and what the engine needs beside the spec.

``read`` walks the process once, refuses every element outside the subset (naming it) and
collects the user tasks (department/position from ``camunda:candidateGroups``, days,
countersign group), boundary timers, rejecting end events and the data keys conditions use.
With ``translate=True`` (import) it rewrites simple ``${field == 'x'}`` conditions to JSON
Logic in place.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from lxml import etree

from yiwang.enablement.workflow import expressions

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

GROUP_RE = re.compile(
    r"^dept:(\$applicant_department|\$matter|[A-Za-z0-9_-]{1,64})"
    r"(?:/pos:([A-Za-z0-9_-]{1,64}))?$"
)
DURATION_RE = re.compile(r"^P(?:\d{1,3}D)?(?:T(?:\d{1,4}H)?(?:\d{1,5}M)?)?$")

#: Element names a person will recognise in a refusal.
_NAMES = {
    "userTask": gettext_noop("用户任务"),
    "sequenceFlow": gettext_noop("顺序流"),
    "boundaryEvent": gettext_noop("边界事件"),
    "startEvent": gettext_noop("开始事件"),
    "endEvent": gettext_noop("结束事件"),
    "exclusiveGateway": gettext_noop("排他网关"),
    "parallelGateway": gettext_noop("并行网关"),
    "scriptTask": gettext_noop("脚本任务"),
    "serviceTask": gettext_noop("服务任务"),
    "sendTask": gettext_noop("发送任务"),
    "receiveTask": gettext_noop("接收任务"),
    "businessRuleTask": gettext_noop("业务规则任务"),
    "manualTask": gettext_noop("手工任务"),
    "task": gettext_noop("未指定类型的任务"),
    "subProcess": gettext_noop("子流程"),
    "callActivity": gettext_noop("调用活动"),
    "transaction": gettext_noop("事务子流程"),
    "adHocSubProcess": gettext_noop("自由子流程"),
    "intermediateCatchEvent": gettext_noop("中间捕获事件"),
    "intermediateThrowEvent": gettext_noop("中间抛出事件"),
    "inclusiveGateway": gettext_noop("包容网关"),
    "eventBasedGateway": gettext_noop("事件网关"),
    "complexGateway": gettext_noop("复杂网关"),
    "dataObjectReference": gettext_noop("数据对象"),
    "dataStoreReference": gettext_noop("数据存储"),
    "dataObject": gettext_noop("数据对象"),
}
_ALLOWED = {
    "startEvent",
    "endEvent",
    "userTask",
    "exclusiveGateway",
    "parallelGateway",
    "sequenceFlow",
    "boundaryEvent",
    "extensionElements",
    "documentation",
    "laneSet",
    "textAnnotation",
    "association",
}
_REFUSED_ATTRS = (
    "class",
    "delegateExpression",
    "expression",
    "resultVariable",
    "assignee",
    "candidateUsers",
    "topic",
)


@dataclass
class TaskMeta:
    id: str
    name: str
    department: str | None
    position: str | None
    days: int | None
    countersign: str | None


@dataclass
class TimerMeta:
    id: str
    attached_to: str
    action: str
    to_position: str | None
    interrupting: bool
    duration: str


@dataclass
class Meta:
    process_id: str
    tasks: dict[str, TaskMeta] = field(default_factory=dict)
    timers: dict[str, TimerMeta] = field(default_factory=dict)
    rejecting_ends: set[str] = field(default_factory=set)
    condition_vars: set[str] = field(default_factory=set)


def _b(tag: str) -> str:
    return f"{{{BPMN}}}{tag}"


def _c(tag: str) -> str:
    return f"{{{CAMUNDA}}}{tag}"


def local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def properties(el: etree._Element) -> dict[str, str]:
    """The ``camunda:properties`` of an element."""
    out = {}
    for prop in el.iterfind(f"{_b('extensionElements')}/{_c('properties')}/{_c('property')}"):
        if prop.get("name"):
            out[prop.get("name") or ""] = prop.get("value") or ""
    return out


def _label(el: etree._Element) -> str:
    kind = local(el)
    name = el.get("name")
    title = _(_NAMES[kind]) if kind in _NAMES else kind
    return f"{title} {el.get('id') or '?'}" + (f"（{name}）" if name else "")


class _Reader:
    def __init__(self, translate: bool) -> None:
        self.translate = translate
        self.problems: list[str] = []

    def fail(self, el: etree._Element | None, message: str) -> None:
        self.problems.append(f"{_label(el)}：{message}" if el is not None else message)

    def extension(self, el: etree._Element) -> None:
        ext = el.find(_b("extensionElements"))
        if ext is None:
            return
        for child in ext:
            if not isinstance(child.tag, str):
                continue
            if child.tag != _c("properties"):
                self.fail(
                    el,
                    _("不支持扩展元素 %(tag)s（监听器、脚本、输入输出映射等不会执行）")
                    % {"tag": etree.QName(child).localname},
                )

    def attributes(self, el: etree._Element) -> None:
        for attr in _REFUSED_ATTRS:
            if el.get(_c(attr)) is not None:
                self.fail(el, _("不支持属性 camunda:%(attr)s") % {"attr": attr})

    def read(self, root: etree._Element) -> Meta:
        if root.tag != _b("definitions"):
            raise ValidationError(
                _("不是 BPMN 2.0 文件（根元素须为 bpmn:definitions）"), code="invalid_bpmn"
            )
        if root.find(_b("collaboration")) is not None:
            self.problems.append(_("不支持泳池/协作图（collaboration），请只画一个流程"))
        for child in root:
            if (
                isinstance(child.tag, str)
                and child.tag.startswith(f"{{{BPMN}}}")
                and local(child)
                not in ("process", "collaboration", "message", "signal", "error", "escalation")
            ):
                self.fail(child, _("不支持该元素"))
        processes = [p for p in root.iterfind(_b("process"))]
        executable = [p for p in processes if p.get("isExecutable", "false") == "true"] or processes
        if len(executable) != 1:
            raise ValidationError(_("BPMN 文件须恰好包含一个可执行流程"), code="invalid_bpmn")
        process = executable[0]
        process_id = process.get("id") or ""
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$", process_id):
            self.problems.append(_("流程标识“%(id)s”不合法") % {"id": process_id})
        meta = Meta(process_id)
        elements = {el.get("id"): el for el in process if isinstance(el.tag, str)}
        starts = 0
        for el in process:
            if not isinstance(el.tag, str):
                continue
            kind = local(el)
            if el.tag != _b(kind) or kind not in _ALLOWED:
                self.fail(
                    el,
                    _(
                        "不在支持范围内（只支持开始/结束事件、用户任务、排他网关、并行网关、"
                        "顺序流和边界计时器）"
                    ),
                )
                continue
            self.attributes(el)
            if kind not in (
                "extensionElements",
                "documentation",
                "laneSet",
                "textAnnotation",
                "association",
                "sequenceFlow",
            ):
                self.extension(el)
            if kind == "startEvent":
                starts += 1
                if self.event_definitions(el):
                    self.fail(el, _("开始事件不能带事件定义"))
            elif kind == "endEvent":
                defs = self.event_definitions(el)
                if any(local(d) != "terminateEventDefinition" for d in defs):
                    self.fail(el, _("结束事件只支持普通结束或终止结束"))
                if properties(el).get("outcome") == "rejected":
                    meta.rejecting_ends.add(el.get("id") or "")
            elif kind == "userTask":
                self.user_task(el, meta)
            elif kind == "boundaryEvent":
                self.boundary(el, meta, elements)
            elif kind == "sequenceFlow":
                self.flow(el, meta)
            elif kind.endswith("Gateway"):
                for _loop in el.iterfind(_b("multiInstanceLoopCharacteristics")):
                    self.fail(el, _("网关不能多实例"))
        if starts != 1:
            self.problems.append(_("流程须恰好有一个开始事件"))
        for cycle in _cycles_without_task(process):
            self.problems.append(
                _("以下元素构成不经过用户任务的循环，申请会卡在其中：%(ids)s")
                % {"ids": "、".join(cycle[:10]) + ("…" if len(cycle) > 10 else "")}
            )
        if not meta.tasks:
            self.problems.append(_("流程至少需要一个用户任务"))
        if self.problems:
            raise ValidationError(self.problems, code="unsupported_bpmn")
        return meta

    def event_definitions(self, el: etree._Element) -> list[etree._Element]:
        return [c for c in el if isinstance(c.tag, str) and local(c).endswith("EventDefinition")]

    def user_task(self, el: etree._Element, meta: Meta) -> None:
        task_id = el.get("id") or ""
        groups = (el.get(_c("candidateGroups")) or "").strip()
        match = GROUP_RE.match(groups)
        if not match:
            self.fail(
                el,
                _(
                    "须设置 camunda:candidateGroups 为 dept:<部门代码> 或 "
                    "dept:<部门代码>/pos:<岗位代码>"
                ),
            )
            department, position = None, None
        else:
            department, position = match.group(1), match.group(2)
        props = properties(el)
        days: int | None = None
        if props.get("days"):
            if props["days"].isdigit() and int(props["days"]) <= 365:
                days = int(props["days"])
            else:
                self.fail(el, _("属性 days 须为 0 到 365 的工作日数"))
        countersign = props.get("countersign") or None
        for child in el:
            if not isinstance(child.tag, str):
                continue
            name = local(child)
            if name == "multiInstanceLoopCharacteristics":
                countersign = countersign or task_id
                self.multi_instance(el, child)
            elif name == "standardLoopCharacteristics":
                self.fail(el, _("不支持循环任务"))
            elif name not in ("incoming", "outgoing", "extensionElements", "documentation"):
                self.fail(el, _("不支持子元素 %(tag)s") % {"tag": name})
        meta.tasks[task_id] = TaskMeta(
            task_id, el.get("name") or task_id, department, position, days, countersign
        )

    def multi_instance(self, task: etree._Element, mi: etree._Element) -> None:
        for attr in ("collection", "elementVariable"):
            if mi.get(_c(attr)) is not None:
                self.fail(
                    task,
                    _("多实例任务不支持 camunda:%(attr)s，请用固定的实例数（loopCardinality）")
                    % {"attr": attr},
                )
        cardinality = mi.find(_b("loopCardinality"))
        text = (cardinality.text or "").strip() if cardinality is not None else ""
        if not text.isdigit() or not 1 <= int(text) <= 20:
            self.fail(task, _("多实例任务须设置 1 到 20 之间的整数实例数（loopCardinality）"))
        for child in mi:
            if isinstance(child.tag, str) and local(child) not in (
                "loopCardinality",
                "extensionElements",
            ):
                self.fail(task, _("多实例任务不支持 %(tag)s") % {"tag": local(child)})

    def boundary(self, el: etree._Element, meta: Meta, elements: dict[Any, etree._Element]) -> None:
        attached = el.get("attachedToRef") or ""
        target = elements.get(attached)
        if target is None or local(target) != "userTask":
            self.fail(el, _("边界事件只能附在用户任务上"))
        defs = self.event_definitions(el)
        if len(defs) != 1 or local(defs[0]) != "timerEventDefinition":
            self.fail(el, _("边界事件只支持计时器"))
            return
        durations = [c for c in defs[0] if isinstance(c.tag, str)]
        if len(durations) != 1 or local(durations[0]) != "timeDuration":
            self.fail(el, _("计时器只支持时长（timeDuration），不支持 timeDate/timeCycle"))
            return
        text = (durations[0].text or "").strip()
        if self.translate and text.startswith('"') and text.endswith('"'):
            text = text[1:-1]
        if not DURATION_RE.match(text.upper()) or text.upper() in ("P", "PT"):
            self.fail(
                el,
                _("计时器时长“%(text)s”须为 ISO 8601 时长，如 P3D（3 个工作日）或 PT4H")
                % {"text": text},
            )
            return
        durations[0].text = text.upper()
        interrupting = el.get("cancelActivity", "true") != "false"
        props = properties(el)
        action = props.get("action") or "escalate"
        if action not in ("escalate", "warn"):
            self.fail(el, _("属性 action 须为 escalate 或 warn"))
        if interrupting and not [c for c in el if local(c) == "outgoing"]:
            self.fail(el, _("中断型计时器须连到后续环节"))
        meta.timers[el.get("id") or ""] = TimerMeta(
            el.get("id") or "",
            attached,
            action,
            props.get("to_position") or None,
            interrupting,
            text.upper(),
        )

    def flow(self, el: etree._Element, meta: Meta) -> None:
        cond = el.find(_b("conditionExpression"))
        if cond is None:
            return
        language = (cond.get("language") or "").strip().lower()
        text = (cond.text or "").strip()
        if language == "jsonlogic":
            try:
                rule = json.loads(text)
            except (ValueError, RecursionError):
                self.fail(el, _("JSON Logic 条件不是合法的 JSON"))
                return
        elif language in ("", "juel", "${}") and text.startswith("${") and text.endswith("}"):
            try:
                rule = expressions.translate(text)
            except ValueError as exc:
                self.fail(el, str(exc))
                return
            if not self.translate:
                self.fail(el, _("条件须为 JSON Logic（请先导入以转换）"))
                return
            cond.text = json.dumps(rule, ensure_ascii=False, separators=(",", ":"))
            cond.set("language", "jsonlogic")
        else:
            self.fail(
                el,
                _(
                    "不支持的条件表达式“%(text)s”（语言 %(language)s）：只支持 JSON Logic 或 "
                    "${字段 == '值'} 这样的简单比较，不执行 Python/JavaScript/FEEL"
                )
                % {"text": text[:80], "language": language or "-"},
            )
            return
        from yiwang.enablement.forms import service as forms

        try:
            forms.check_logic(rule, where=_("条件"))
        except ValidationError as exc:
            for message in exc.messages:
                self.fail(el, message)
            return
        meta.condition_vars.update(logic_vars(rule))


def _cycles_without_task(process: etree._Element) -> list[list[str]]:
    """Cycles of the sequence-flow graph (strongly connected components) with no user task.

    A boundary event counts as following the task it is attached to, so a loop back through
    a task's timer contains that task.
    """
    kinds: dict[str, str] = {}
    edges: dict[str, list[str]] = {}
    for el in process:
        if not isinstance(el.tag, str) or not el.get("id"):
            continue
        kinds[el.get("id") or ""] = local(el)
    for el in process:
        if not isinstance(el.tag, str):
            continue
        kind = local(el)
        if kind == "sequenceFlow":
            src, dst = el.get("sourceRef") or "", el.get("targetRef") or ""
        elif kind == "boundaryEvent":
            src, dst = el.get("attachedToRef") or "", el.get("id") or ""
        else:
            continue
        if src in kinds and dst in kinds:
            edges.setdefault(src, []).append(dst)
    # Tarjan's algorithm, iterative (no recursion limit on big files)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in kinds:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            succ = edges.get(node, [])
            if i < len(succ):
                work.append((node, i + 1))
                nxt = succ[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                looped = len(component) > 1 or node in edges.get(node, [])
                if looped and not any(kinds[m] == "userTask" for m in component):
                    out.append(sorted(component))
    return out


def logic_vars(rule: Any) -> set[str]:
    """The first segment of every ``var`` a JSON Logic rule reads."""
    out: set[str] = set()
    if isinstance(rule, dict):
        for op, args in rule.items():
            if op == "var":
                name = args[0] if isinstance(args, list) and args else args
                if isinstance(name, str) and name:
                    out.add(name.split(".", 1)[0])
                elif isinstance(name, int):
                    continue
            else:
                out |= logic_vars(args)
    elif isinstance(rule, list):
        for item in rule:
            out |= logic_vars(item)
    return out


def read(root: etree._Element, *, translate: bool = False) -> Meta:
    """See module docstring; raises ``ValidationError`` listing every unsupported element."""
    return _Reader(translate).read(root)
