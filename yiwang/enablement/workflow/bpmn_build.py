"""Compile a flow spec to BPMN 2.0 XML, with a left-to-right BPMNDI layout.

The output opens in Camunda Modeler 5 and is what SpiffWorkflow runs. Conventions (see
docs/workflow.md):

- user task: ``camunda:candidateGroups="dept:<code>/pos:<code>"`` (``/pos:`` left out when the
  task has no position); ``camunda:properties`` ``days`` (time limit in working days) and, for
  a countersign party, ``countersign`` (the countersign step id);
- countersign (会签): a parallel gateway pair ``<id>_split`` / ``<id>_join`` around one user
  task per party, ``<id>__p1``…;
- gateway: exclusive gateway ``<id>`` with ``conditionExpression language="jsonlogic"`` on each
  conditional flow, the "otherwise" branch as its ``default`` flow, and a merging exclusive
  gateway ``<id>_join``;
- timer: a non-interrupting boundary timer ``<task>_timer`` with ``timeDuration`` ``P<n>D``
  (working days), properties ``action`` (``escalate``/``warn``) and ``to_position``, leading
  to an end event ``<task>_timer_end``;
- the spec itself is kept in the process's ``camunda:properties`` (``yiwang:flowSpec``) so the
  editor can reopen it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from lxml import etree

from yiwang.enablement.workflow import spec as _spec
from yiwang.enablement.workflow import xmlsafe
from yiwang.enablement.workflow.spec import countersign_task_id

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "camunda": "http://camunda.org/schema/1.0/bpmn",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "modeler": "http://camunda.org/schema/modeler/1.0",
}
PROCESS_ID = "Process_yiwang"
SPEC_PROPERTY = "yiwang:flowSpec"

_SIZES = {
    "startEvent": (36, 36),
    "endEvent": (36, 36),
    "userTask": (100, 80),
    "exclusiveGateway": (50, 50),
    "parallelGateway": (50, 50),
}
_COL = 170
_ROW = 170
_X0 = 180
_Y0 = 120


def q(prefix: str, tag: str) -> str:
    """Clark notation of ``prefix:tag``."""
    return f"{{{NS[prefix]}}}{tag}"


def candidate_groups(department: str | None, position: str | None) -> str:
    """The ``camunda:candidateGroups`` value of a task."""
    value = f"dept:{department}" if department else ""
    if position:
        value += f"/pos:{position}"
    return value


@dataclass
class _Node:
    id: str
    type: str
    name: str = ""
    col: int = 0
    row: int = 0
    attrs: dict[str, str] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)
    default: str | None = None
    incoming: list[str] = field(default_factory=list)
    outgoing: list[str] = field(default_factory=list)
    timer: dict[str, Any] | None = None


@dataclass
class _Flow:
    id: str
    source: str
    target: str
    condition: Any = None
    name: str = ""


class _Graph:
    def __init__(self) -> None:
        self.nodes: dict[str, _Node] = {}
        self.flows: list[_Flow] = []

    def node(self, node: _Node) -> _Node:
        self.nodes[node.id] = node
        return node

    def flow(
        self,
        source: str,
        target: str,
        *,
        condition: Any = None,
        name: str = "",
        default: bool = False,
    ) -> _Flow:
        flow = _Flow(f"Flow_{source}__{target}", source, target, condition, name)
        n = 2
        while any(f.id == flow.id for f in self.flows):
            flow.id = f"Flow_{source}__{target}_{n}"
            n += 1
        self.flows.append(flow)
        self.nodes[source].outgoing.append(flow.id)
        self.nodes[target].incoming.append(flow.id)
        if default:
            self.nodes[source].default = flow.id
        return flow

    # -- placing steps: each returns (entry id, exit id, next free column, rows used) --------
    def sequence(
        self,
        steps: list[dict[str, Any]],
        prev: str,
        col: int,
        row: int,
        first_flow: dict[str, Any] | None = None,
    ) -> tuple[str | None, int, int]:
        """Place ``steps`` after node ``prev``; returns (last node id or None, next col, rows)."""
        rows = 1
        last: str | None = None
        for step in steps:
            entry, exit_, col, used = self.step(step, col, row)
            self.flow(last or prev, entry, **(first_flow if last is None and first_flow else {}))
            last = exit_
            rows = max(rows, used)
        return last, col, rows

    def task(
        self,
        node_id: str,
        name: str,
        department: str | None,
        position: str | None,
        days: int | None,
        timer: dict[str, Any] | None,
        col: int,
        row: int,
        countersign: str | None = None,
    ) -> _Node:
        props = {}
        if days is not None:
            props["days"] = str(days)
        if countersign:
            props["countersign"] = countersign
        node = _Node(
            node_id,
            "userTask",
            name,
            col,
            row,
            attrs={"candidateGroups": candidate_groups(department, position)},
            properties=props,
            timer=timer,
        )
        return self.node(node)

    def step(self, step: dict[str, Any], col: int, row: int) -> tuple[str, str, int, int]:
        kind = step["kind"]
        if kind == "task":
            self.task(
                step["id"],
                step["name"],
                step["department"],
                step.get("position"),
                step.get("days"),
                step.get("timer"),
                col,
                row,
            )
            return step["id"], step["id"], col + 1, 1
        if kind == "countersign":
            split = self.node(_Node(f"{step['id']}_split", "parallelGateway", "", col, row))
            join = self.node(_Node(f"{step['id']}_join", "parallelGateway", "", col + 2, row))
            for n, party in enumerate(step["parties"]):
                task = self.task(
                    countersign_task_id(step["id"], n),
                    f"{step['name']}（{party.get('name') or party['department']}）",
                    party["department"],
                    party.get("position"),
                    step.get("days"),
                    step.get("timer"),
                    col + 1,
                    row + n,
                    countersign=step["id"],
                )
                self.flow(split.id, task.id)
                self.flow(task.id, join.id)
            return split.id, join.id, col + 3, len(step["parties"])
        # gateway
        split = self.node(_Node(step["id"], "exclusiveGateway", step.get("name", ""), col, row))
        ends: list[tuple[str | None, dict[str, Any]]] = []
        offset = 0
        end_col = col + 1
        for n, branch in enumerate(step["branches"]):
            label = branch.get("name") or (
                "其他情况" if branch.get("otherwise") else f"条件 {n + 1}"
            )
            first = (
                {"default": True, "name": label}
                if branch.get("otherwise")
                else {"condition": branch["when"], "name": label}
            )
            last, next_col, rows = self.sequence(
                branch["steps"], split.id, col + 1, row + offset, first_flow=first
            )
            ends.append((last, first))
            offset += rows
            end_col = max(end_col, next_col)
        join = self.node(_Node(f"{step['id']}_join", "exclusiveGateway", "", end_col, row))
        for last, first in ends:
            if last is None:
                self.flow(split.id, join.id, **first)
            else:
                self.flow(last, join.id)
        return split.id, join.id, end_col + 1, max(offset, 1)


def _layout(graph: _Graph) -> dict[str, tuple[float, float, float, float]]:
    bounds: dict[str, tuple[float, float, float, float]] = {}
    for node in graph.nodes.values():
        w, h = _SIZES[node.type]
        cx, cy = _X0 + node.col * _COL, _Y0 + node.row * _ROW
        bounds[node.id] = (cx - w / 2, cy - h / 2, w, h)
    return bounds


def _waypoints(
    graph: _Graph, flow: _Flow, bounds: dict[str, tuple[float, float, float, float]]
) -> list[tuple[float, float]]:
    sx, sy, sw, sh = bounds[flow.source]
    tx, ty, tw, th = bounds[flow.target]
    x1, y1 = sx + sw, sy + sh / 2
    x2, y2 = tx, ty + th / 2
    if abs(y1 - y2) < 1:
        return [(x1, y1), (x2, y2)]
    if graph.nodes[flow.source].type.endswith("Gateway") and y2 > y1:
        # leave a split gateway from its bottom corner, then go right
        x1, y1 = sx + sw / 2, sy + sh
        return [(x1, y1), (x1, y2), (x2, y2)]
    if graph.nodes[flow.target].type.endswith("Gateway") and y1 > y2:
        x2, y2 = tx + tw / 2, ty + th
        return [(x1, y1), (x2, y1), (x2, y2)]
    mid = x2 - 25
    return [(x1, y1), (mid, y1), (mid, y2), (x2, y2)]


def _properties(parent: etree._Element, props: dict[str, str]) -> None:
    if not props:
        return
    ext = parent.find(q("bpmn", "extensionElements"))
    if ext is None:
        ext = etree.SubElement(parent, q("bpmn", "extensionElements"))
    holder = etree.SubElement(ext, q("camunda", "properties"))
    for key, value in props.items():
        etree.SubElement(holder, q("camunda", "property"), name=key, value=value)


def _shape(
    plane: etree._Element, element_id: str, box: tuple[float, float, float, float], **attrs: str
) -> None:
    shape = etree.SubElement(
        plane, q("bpmndi", "BPMNShape"), id=f"{element_id}_di", bpmnElement=element_id, **attrs
    )
    x, y, w, h = box
    etree.SubElement(shape, q("dc", "Bounds"), x=_n(x), y=_n(y), width=_n(w), height=_n(h))


def _n(value: float) -> str:
    return str(round(value))


def build_bpmn(spec: dict[str, Any]) -> str:
    """See ``service.build_bpmn`` (``spec`` is already checked)."""
    graph = _Graph()
    graph.node(_Node("start", "startEvent", "提交申请", 0, 0))
    last, col, _rows = graph.sequence(spec["steps"], "start", 1, 0)
    graph.node(_Node("end", "endEvent", "办结", col, 0))
    graph.flow(last or "start", "end")
    bounds = _layout(graph)

    root = etree.Element(q("bpmn", "definitions"), nsmap=NS)
    root.set("id", "Definitions_yiwang")
    root.set("targetNamespace", "http://bpmn.io/schema/bpmn")
    root.set("exporter", "yiwang")
    root.set("exporterVersion", "1")
    root.set(q("modeler", "executionPlatform"), "Camunda Platform")
    root.set(q("modeler", "executionPlatformVersion"), "7.20.0")
    process = etree.SubElement(root, q("bpmn", "process"), id=PROCESS_ID, isExecutable="true")
    if spec.get("name"):
        process.set("name", spec["name"])
    _properties(
        process,
        {
            SPEC_PROPERTY: json.dumps(
                spec, ensure_ascii=False, sort_keys=True, separators=(",", ":")
            )
        },
    )
    extra_shapes: list[tuple[str, tuple[float, float, float, float], dict[str, str]]] = []
    extra_edges: list[tuple[str, list[tuple[float, float]]]] = []
    for node in graph.nodes.values():
        el = etree.SubElement(process, q("bpmn", node.type), id=node.id)
        if node.name:
            el.set("name", node.name)
        if node.attrs.get("candidateGroups"):
            el.set(q("camunda", "candidateGroups"), node.attrs["candidateGroups"])
        if node.default:
            el.set("default", node.default)
        _properties(el, node.properties)
        for flow_id in node.incoming:
            etree.SubElement(el, q("bpmn", "incoming")).text = flow_id
        for flow_id in node.outgoing:
            etree.SubElement(el, q("bpmn", "outgoing")).text = flow_id
    for node in list(graph.nodes.values()):
        if not node.timer:
            continue
        timer_id, end_id, flow_id = (
            f"{node.id}_timer",
            f"{node.id}_timer_end",
            f"Flow_{node.id}_timer",
        )
        action = node.timer["action"]
        boundary = etree.SubElement(
            process,
            q("bpmn", "boundaryEvent"),
            id=timer_id,
            name=f"{node.timer['after_days']} 个工作日"
            + ("督办" if action == "escalate" else "预警"),
            cancelActivity="false",
            attachedToRef=node.id,
        )
        props = {"action": action}
        if node.timer.get("to_position"):
            props["to_position"] = node.timer["to_position"]
        _properties(boundary, props)
        etree.SubElement(boundary, q("bpmn", "outgoing")).text = flow_id
        definition = etree.SubElement(
            boundary, q("bpmn", "timerEventDefinition"), id=f"{timer_id}_def"
        )
        duration = etree.SubElement(definition, q("bpmn", "timeDuration"))
        duration.set(q("xsi", "type"), "bpmn:tFormalExpression")
        duration.text = f"P{node.timer['after_days']}D"
        end = etree.SubElement(
            process,
            q("bpmn", "endEvent"),
            id=end_id,
            name="已督办" if action == "escalate" else "已预警",
        )
        etree.SubElement(end, q("bpmn", "incoming")).text = flow_id
        etree.SubElement(
            process, q("bpmn", "sequenceFlow"), id=flow_id, sourceRef=timer_id, targetRef=end_id
        )
        tx, ty, tw, th = bounds[node.id]
        tbox = (tx + tw - 36 - 4, ty + th - 18, 36.0, 36.0)
        ebox = (tbox[0] + 60, tbox[1] + 56, 36.0, 36.0)
        extra_shapes += [(timer_id, tbox, {}), (end_id, ebox, {})]
        extra_edges.append(
            (
                flow_id,
                [
                    (tbox[0] + 18, tbox[1] + 36),
                    (tbox[0] + 18, ebox[1] + 18),
                    (ebox[0], ebox[1] + 18),
                ],
            )
        )
    for flow in graph.flows:
        el = etree.SubElement(
            process,
            q("bpmn", "sequenceFlow"),
            id=flow.id,
            sourceRef=flow.source,
            targetRef=flow.target,
        )
        if flow.name:
            el.set("name", flow.name)
        if flow.condition is not None:
            cond = etree.SubElement(el, q("bpmn", "conditionExpression"), language="jsonlogic")
            cond.set(q("xsi", "type"), "bpmn:tFormalExpression")
            cond.text = json.dumps(flow.condition, ensure_ascii=False, separators=(",", ":"))

    diagram = etree.SubElement(root, q("bpmndi", "BPMNDiagram"), id="BPMNDiagram_1")
    plane = etree.SubElement(
        diagram, q("bpmndi", "BPMNPlane"), id="BPMNPlane_1", bpmnElement=PROCESS_ID
    )
    for node in graph.nodes.values():
        attrs = {"isMarkerVisible": "true"} if node.type == "exclusiveGateway" else {}
        _shape(plane, node.id, bounds[node.id], **attrs)
    for element_id, box, attrs in extra_shapes:
        _shape(plane, element_id, box, **attrs)
    for flow in graph.flows:
        _edge(plane, flow.id, _waypoints(graph, flow, bounds))
    for flow_id, points in extra_edges:
        _edge(plane, flow_id, points)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode()


def _edge(plane: etree._Element, flow_id: str, points: list[tuple[float, float]]) -> None:
    edge = etree.SubElement(plane, q("bpmndi", "BPMNEdge"), id=f"{flow_id}_di", bpmnElement=flow_id)
    for x, y in points:
        etree.SubElement(edge, q("di", "waypoint"), x=_n(x), y=_n(y))


def embedded_spec(xml: str) -> dict[str, Any] | None:
    """The flow spec kept in a BPMN document by ``build_bpmn``, or None.

    Trusted only when ``build_bpmn`` of that spec gives this very document back (compared in
    canonical XML): a file that carries a ``yiwang:flowSpec`` describing another flow than the
    one the engine runs gives None, so the editor shows the real diagram, read-only.
    """
    try:
        root = xmlsafe.parse(xml)
    except ValueError:
        return None
    for prop in root.iterfind(
        f".//{q('bpmn', 'process')}/{q('bpmn', 'extensionElements')}/"
        f"{q('camunda', 'properties')}/{q('camunda', 'property')}"
    ):
        if prop.get("name") == SPEC_PROPERTY:
            try:
                value = json.loads(prop.get("value") or "")
            except (ValueError, RecursionError):
                return None
            if not isinstance(value, dict):
                return None
            return value if _rebuilds(value, root) else None
    return None


def _rebuilds(value: dict[str, Any], root: etree._Element) -> bool:
    try:
        rebuilt = xmlsafe.parse(build_bpmn(_spec.check_spec(value)))
    except (ValidationError, ValueError, TypeError, KeyError, RecursionError):
        return False
    return _canonical(rebuilt) == _canonical(root)


def _canonical(root: etree._Element) -> bytes:
    return etree.tostring(root, method="c14n")


def strip_embedded_spec(root: etree._Element) -> None:
    """Drop every ``yiwang:flowSpec`` property (an imported file must not bring its own)."""
    for prop in list(root.iter(q("camunda", "property"))):
        if prop.get("name") == SPEC_PROPERTY:
            parent = prop.getparent()
            if parent is not None:
                parent.remove(prop)
