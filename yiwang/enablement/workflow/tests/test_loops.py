"""Gateway loops without a user task: refused at import, and the engine never saves a stuck run."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from yiwang.enablement.workflow import bpmn_meta
from yiwang.enablement.workflow import service as wf

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="D" '
    'targetNamespace="http://bpmn.io/schema/bpmn">\n'
    '<bpmn:process id="P" isExecutable="true">\n'
    '<bpmn:startEvent id="S" />\n'
    '<bpmn:userTask id="T" name="受理" camunda:candidateGroups="dept:$matter/pos:clerk" />\n'
    '<bpmn:endEvent id="E" />\n'
    '<bpmn:sequenceFlow id="F0" sourceRef="S" targetRef="T" />\n'
    '<bpmn:sequenceFlow id="F1" sourceRef="T" targetRef="G1" />\n'
)
TAIL = "</bpmn:process>\n</bpmn:definitions>\n"
ALWAYS = (
    '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" language="jsonlogic">'
    '{"&gt;=":[{"var":"area"},0]}</bpmn:conditionExpression>'
)

# G1 -> G2 -> G1 while area >= 0 (always), default to the end
EXCLUSIVE_LOOP = HEAD + (
    '<bpmn:exclusiveGateway id="G1" default="F3" />\n'
    '<bpmn:exclusiveGateway id="G2" />\n'
    f'<bpmn:sequenceFlow id="F2" sourceRef="G1" targetRef="G2">{ALWAYS}</bpmn:sequenceFlow>\n'
    '<bpmn:sequenceFlow id="F3" sourceRef="G1" targetRef="E" />\n'
    '<bpmn:sequenceFlow id="F4" sourceRef="G2" targetRef="G1" />\n'
) + TAIL

# G1 -> P (parallel split) -> G1 twice
PARALLEL_LOOP = HEAD + (
    '<bpmn:exclusiveGateway id="G1" default="F3" />\n'
    '<bpmn:parallelGateway id="PG" />\n'
    f'<bpmn:sequenceFlow id="F2" sourceRef="G1" targetRef="PG">{ALWAYS}</bpmn:sequenceFlow>\n'
    '<bpmn:sequenceFlow id="F3" sourceRef="G1" targetRef="E" />\n'
    '<bpmn:sequenceFlow id="F4" sourceRef="PG" targetRef="G1" />\n'
    '<bpmn:sequenceFlow id="F5" sourceRef="PG" targetRef="G1" />\n'
) + TAIL

# a loop back through the user task (a 补正 loop) is fine
TASK_LOOP = HEAD + (
    '<bpmn:exclusiveGateway id="G1" default="F3" />\n'
    '<bpmn:sequenceFlow id="F2" sourceRef="G1" targetRef="T">'
    '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" language="jsonlogic">'
    '{"==":[{"var":"again"},true]}</bpmn:conditionExpression></bpmn:sequenceFlow>\n'
    '<bpmn:sequenceFlow id="F3" sourceRef="G1" targetRef="E" />\n'
) + TAIL


@pytest.mark.parametrize("xml", [EXCLUSIVE_LOOP, PARALLEL_LOOP], ids=["exclusive", "parallel"])
def test_a_loop_without_a_user_task_is_refused_naming_its_elements(db: Any, xml: str) -> None:
    with pytest.raises(ValidationError) as exc:
        wf.import_bpmn(xml)
    text = " ".join(exc.value.messages)
    assert "不经过用户任务的循环" in text and "G1" in text
    with pytest.raises(ValidationError):  # a stored file is read by the engine the same way
        wf.start(xml, {"area": 5})


def test_a_loop_through_a_user_task_is_accepted(db: Any) -> None:
    bpmn = wf.import_bpmn(TASK_LOOP)["bpmn"]
    run = wf.start(bpmn, {"again": True})
    run = wf.complete(bpmn, run.state, run.ready[0].id, outcome="approve", data={"again": True})
    assert [t.spec for t in run.ready] == ["T"]
    run = wf.complete(bpmn, run.state, run.ready[0].id, outcome="approve", data={"again": False})
    assert run.finished and run.outcome == "approved"


@pytest.mark.parametrize("xml", [EXCLUSIVE_LOOP, PARALLEL_LOOP], ids=["exclusive", "parallel"])
def test_the_engine_refuses_to_save_a_stuck_run(
    db: Any, xml: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a file stored before the import check: the run stops with a message, never a stuck state
    monkeypatch.setattr(bpmn_meta, "_cycles_without_task", lambda _process: [])
    run = wf.start(xml, {"area": 5})
    with pytest.raises(ValidationError, match="流程无法继续"):
        wf.complete(xml, run.state, run.ready[0].id, outcome="approve", data={"area": 5})
