from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from yiwang.enablement.workflow import expressions
from yiwang.enablement.workflow import service as wf

EXAMPLES = Path(__file__).resolve().parents[4] / "examples" / "bpmn"


def read(name: str) -> bytes:
    return (EXAMPLES / name).read_bytes()


def test_every_example_is_a_camunda_modeler_file() -> None:
    files = sorted(EXAMPLES.glob("*.bpmn"))
    assert len(files) >= 3
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert 'exporter="Camunda Modeler"' in text and "bpmndi:BPMNDiagram" in text


def test_import_individual_business_translates_conditions(db: Any) -> None:
    result = wf.import_bpmn(read("individual-business-registration.bpmn"))
    assert result["process_id"] == "Process_individual_business"
    assert [t["spec"] for t in result["tasks"]] == [
        "Activity_accept",
        "Activity_inspect",
        "Activity_decide",
    ]
    assert result["tasks"][1]["position"] == "inspector" and result["tasks"][1]["days"] == 3
    assert 'language="jsonlogic"' in result["bpmn"] and "${" not in result["bpmn"]
    assert result["timers"] == [
        {
            "id": "Event_warn",
            "attached_to": "Activity_accept",
            "action": "warn",
            "to_position": None,
            "interrupting": False,
            "duration": "P1D",
        }
    ]
    bpmn = result["bpmn"]
    food = wf.start(bpmn, {"business_kind": "food", "area": 25})
    food = wf.complete(bpmn, food.state, food.ready[0].id, outcome="approve")
    assert [t.spec for t in food.ready] == ["Activity_inspect"]
    shop = wf.start(bpmn, {"business_kind": "retail", "area": 25})
    shop = wf.complete(bpmn, shop.state, shop.ready[0].id, outcome="approve")
    assert [t.spec for t in shop.ready] == ["Activity_decide"]
    # a re-import of the normalised file gives the same file
    assert wf.import_bpmn(bpmn)["bpmn"] == bpmn
    assert wf.spec_from_bpmn(bpmn) is None  # drawn elsewhere: no editor spec


def test_import_countersign_multi_instance_and_interrupting_timer(db: Any) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    result = wf.import_bpmn(read("property-transfer-countersign.bpmn"))
    bpmn = result["bpmn"]
    tz = ZoneInfo("Asia/Shanghai")
    run = wf.start(bpmn, {}, now=datetime(2026, 3, 2, 9, tzinfo=tz))
    run = wf.complete(bpmn, run.state, run.ready[0].id, outcome="approve")
    assert {(t.department, t.countersign_group) for t in run.ready} == {
        ("tax", "countersign_1"),
        ("housing", "countersign_1"),
    }
    for task in run.ready:
        run = wf.complete(
            bpmn, run.state, task.id, outcome="approve", now=datetime(2026, 3, 2, 10, tzinfo=tz)
        )
    assert [t.spec for t in run.ready] == ["Activity_board", "Activity_board"]
    assert len({t.id for t in run.ready}) == 2
    assert run.next_timer_at == datetime(2026, 3, 9, 10, tzinfo=tz)
    fired = wf.fire_timers(bpmn, run.state, datetime(2026, 3, 9, 10, 5, tzinfo=tz))
    assert fired.escalations[0]["action"] == "escalate"
    assert fired.escalations[0]["interrupting"] is True
    assert [t.spec for t in fired.ready] == ["Activity_register"]  # interrupted, moved on


def test_unsupported_elements_are_each_named(db: Any) -> None:
    with pytest.raises(ValidationError) as info:
        wf.import_bpmn(read("unsupported-script-and-service.bpmn"))
    text = "\n".join(info.value.messages)
    assert "脚本任务 Activity_score" in text
    assert "服务任务 Activity_notify" in text
    assert "用户任务 Activity_review（审核）：不支持属性 camunda:assignee" in text
    assert "execution.getVariable" in text and "Flow_high" in text
    assert "Flow_low" in text and "python" in text


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE bpmn:definitions [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">
<bpmn:process id="P" isExecutable="true"><bpmn:userTask id="t" name="&xxe;"/></bpmn:process>
</bpmn:definitions>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol3;</bpmn:definitions>"""


@pytest.mark.parametrize("payload", [XXE, LAUGHS, XXE.decode().replace("<!DOCTYPE", "<!doctype")])
def test_entities_and_doctypes_are_refused(payload: Any) -> None:
    with pytest.raises(ValidationError, match="DOCTYPE"):
        wf.import_bpmn(payload)


def test_malformed_or_huge_or_foreign_xml(db: Any) -> None:
    with pytest.raises(ValidationError, match="XML"):
        wf.import_bpmn(b"<bpmn:definitions")
    with pytest.raises(ValidationError, match="过大"):
        wf.import_bpmn(b"<a>" + b"x" * (3 * 1024 * 1024) + b"</a>")
    with pytest.raises(ValidationError, match=r"BPMN 2\.0"):
        wf.import_bpmn(b"<svg xmlns='http://www.w3.org/2000/svg'/>")


def _minimal(extra_task: str = "", condition: str = "") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="D" targetNamespace="x">
  <bpmn:process id="P" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:userTask id="t" name="审核" camunda:candidateGroups="dept:scjg">{extra_task}
    </bpmn:userTask>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
    <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e">{condition}</bpmn:sequenceFlow>
  </bpmn:process>
</bpmn:definitions>"""


def test_listeners_timers_by_date_and_feel_are_refused(db: Any) -> None:
    assert wf.import_bpmn(_minimal())["tasks"][0]["department"] == "scjg"
    listener = (
        '<bpmn:extensionElements><camunda:taskListener class="x.Y" event="create"/>'
        "</bpmn:extensionElements>"
    )
    with pytest.raises(ValidationError, match="taskListener"):
        wf.import_bpmn(_minimal(extra_task=listener))
    feel = (
        '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" language="feel">'
        "amount &gt; 1</bpmn:conditionExpression>"
    )
    with pytest.raises(ValidationError, match="feel"):
        wf.import_bpmn(_minimal(condition=feel))
    mi = (
        '<bpmn:multiInstanceLoopCharacteristics camunda:collection="${users}" '
        'camunda:elementVariable="u"/>'
    )
    with pytest.raises(ValidationError, match="camunda:collection"):
        wf.import_bpmn(_minimal(extra_task=mi))


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("${amount > 100}", {">": [{"var": "amount"}, 100]}),
        ("${kind == 'food'}", {"==": [{"var": "kind"}, "food"]}),
        (
            '${a.b != "x" && n <= 2.5}',
            {"and": [{"!=": [{"var": "a.b"}, "x"]}, {"<=": [{"var": "n"}, 2.5]}]},
        ),
        (
            "${!urgent || (x eq true and y ge -1)}",
            {
                "or": [
                    {"!": [{"!!": [{"var": "urgent"}]}]},
                    {"and": [{"==": [{"var": "x"}, True]}, {">=": [{"var": "y"}, -1]}]},
                ]
            },
        ),
        ("${approved}", {"!!": [{"var": "approved"}]}),
    ],
)
def test_simple_expressions_translate(text: str, rule: Any) -> None:
    assert expressions.translate(text) == rule


@pytest.mark.parametrize(
    "text",
    [
        "${execution.getVariable('a') > 1}",
        "${a + 1 > 2}",
        "${a > }",
        "${(a > 1}",
        "amount > 1",
        "${'x'}",
        "${a > 1 b}",
        "${" + "a > 1 && " * 100 + "a > 1}",
    ],
)
def test_other_expressions_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        expressions.translate(text)


def test_deep_nesting_is_refused_not_a_crash(db: Any) -> None:
    with pytest.raises(ValueError, match="过深"):
        expressions.translate("${" + "(" * 60 + "a > 1" + ")" * 60 + "}")
    deep_json = "[" * 100000 + "]" * 100000
    condition = (
        '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" '
        f'language="jsonlogic">{deep_json}</bpmn:conditionExpression>'
    )
    with pytest.raises(ValidationError):
        wf.import_bpmn(_minimal(condition=condition))
    spec: dict[str, Any] = {
        "version": 1,
        "steps": [{"kind": "task", "id": "t", "name": "审核", "department": "$matter"}],
    }
    inner = spec["steps"]
    for n in range(12):
        gateway = {
            "kind": "gateway",
            "id": f"g{n}",
            "branches": [
                {"when": {"==": [{"var": "a"}, 1]}, "steps": []},
                {"otherwise": True, "steps": []},
            ],
        }
        inner.append(gateway)
        inner = gateway["branches"][0]["steps"]
    with pytest.raises(ValidationError, match="嵌套过深"):
        wf.check_spec(spec)


def _with_fake_spec(xml: str, shown: dict[str, Any]) -> str:
    import html
    import json
    import re

    value = html.escape(json.dumps(shown, ensure_ascii=False), quote=True)
    out = re.sub(r'(name="yiwang:flowSpec" value=")[^"]*(")',
                 lambda m: m.group(1) + value + m.group(2), xml)
    assert "局长审批" in out
    return out


def test_a_fake_embedded_spec_is_neither_trusted_nor_imported(db: Any) -> None:
    task = {"kind": "task", "id": "review", "name": "真实环节", "department": "$matter",
            "position": None, "days": 3}
    real = {"version": 1, "steps": [task]}
    shown = {"version": 1, "steps": [
        {**task, "name": "看到的环节"},
        {**task, "id": "second", "name": "局长审批"}]}
    built = wf.build_bpmn(real)
    assert wf.spec_from_bpmn(built) == wf.check_spec(real)  # the editor's own file: trusted
    fake = _with_fake_spec(built, shown)
    # the stored file as it is: the spec does not rebuild it, so the diagram is shown
    assert wf.spec_from_bpmn(fake) is None
    ctx = wf.editor_context(None, bpmn=fake, field_name="flow_spec", import_url="/x",
                            departments=[])
    assert "局长审批" not in ctx["spec_json"] and ctx["imported_svg"]
    assert ctx["has_imported_bpmn"]
    # an import drops the property altogether
    imported = wf.import_bpmn(fake)
    assert "yiwang:flowSpec" not in imported["bpmn"] and "局长审批" not in imported["bpmn"]
    assert [t["name"] for t in imported["tasks"]] == ["真实环节"]
    assert wf.spec_from_bpmn(imported["bpmn"]) is None
