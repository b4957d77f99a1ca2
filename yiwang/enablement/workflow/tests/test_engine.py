from __future__ import annotations

import copy
import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from lxml import etree

from yiwang.enablement.workflow import engine
from yiwang.enablement.workflow import service as wf

SH = ZoneInfo("Asia/Shanghai")
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "camunda": "http://camunda.org/schema/1.0/bpmn",
}

SPEC: dict[str, Any] = {
    "version": 1,
    "steps": [
        {
            "kind": "task",
            "id": "accept",
            "name": "受理",
            "department": "$matter",
            "position": "clerk",
            "days": 1,
            "timer": {"after_days": 2, "action": "warn"},
        },
        {
            "kind": "gateway",
            "id": "by_amount",
            "name": "金额",
            "branches": [
                {
                    "when": {">": [{"var": "amount"}, 100]},
                    "steps": [
                        {
                            "kind": "countersign",
                            "id": "joint",
                            "name": "会签",
                            "days": 3,
                            "parties": [
                                {"department": "$matter", "position": "finance"},
                                {"department": "$applicant_department", "position": "head"},
                            ],
                        }
                    ],
                },
                {"otherwise": True, "steps": []},
            ],
        },
        {
            "kind": "task",
            "id": "decide",
            "name": "决定",
            "department": "$matter",
            "position": "head",
            "days": 2,
            "timer": {"after_days": 3, "action": "escalate", "to_position": "director"},
        },
    ],
}


@pytest.fixture
def bpmn(db: Any) -> str:
    return wf.build_bpmn(SPEC)


def approve_all(bpmn: str, run: wf.Run) -> wf.Run:
    while not run.finished:
        run = wf.complete(bpmn, run.state, run.ready[0].id, outcome="approve")
    return run


def test_build_bpmn_is_bpmn_with_diagram_and_camunda_groups(bpmn: str) -> None:
    root = etree.fromstring(bpmn.encode())
    process = root.find("bpmn:process", NS)
    assert process is not None and process.get("isExecutable") == "true"
    tasks = {t.get("id"): t for t in process.iterfind("bpmn:userTask", NS)}
    assert set(tasks) == {"accept", "joint__p1", "joint__p2", "decide"}
    assert tasks["accept"].get(f"{{{NS['camunda']}}}candidateGroups") == "dept:$matter/pos:clerk"
    assert len(process.findall("bpmn:parallelGateway", NS)) == 2
    conditions = process.findall(".//bpmn:conditionExpression", NS)
    assert [c.get("language") for c in conditions] == ["jsonlogic"]
    assert json.loads(conditions[0].text) == {">": [{"var": "amount"}, 100]}
    gateway = process.find("bpmn:exclusiveGateway[@id='by_amount']", NS)
    assert gateway is not None and gateway.get("default")
    timers = process.findall("bpmn:boundaryEvent", NS)
    assert {t.get("attachedToRef") for t in timers} == {"accept", "decide"}
    assert all(t.get("cancelActivity") == "false" for t in timers)
    # every flow node and flow has a shape or an edge, so Camunda Modeler can show it
    ids = {el.get("id") for el in process if el.tag != f"{{{NS['bpmn']}}}extensionElements"}
    drawn = {s.get("bpmnElement") for s in root.iter(f"{{{NS['bpmndi']}}}BPMNShape")}
    drawn |= {s.get("bpmnElement") for s in root.iter(f"{{{NS['bpmndi']}}}BPMNEdge")}
    assert ids <= drawn
    assert wf.spec_from_bpmn(bpmn) == wf.check_spec(SPEC)


def test_big_amount_goes_through_the_countersign(bpmn: str) -> None:
    run = wf.start(bpmn, {"amount": 500})
    assert [t.spec for t in run.ready] == ["accept"]
    assert run.ready[0].department == "$matter" and run.ready[0].position == "clerk"
    run = wf.complete(bpmn, run.state, run.ready[0].id, outcome="approve")
    assert {(t.spec, t.countersign_group, t.days) for t in run.ready} == {
        ("joint__p1", "joint", 3),
        ("joint__p2", "joint", 3),
    }
    assert {t.department for t in run.ready} == {"$matter", "$applicant_department"}
    first, second = run.ready
    run = wf.complete(bpmn, run.state, first.id, outcome="approve")
    assert [t.id for t in run.ready] == [second.id]  # all parties must approve
    run = wf.complete(bpmn, run.state, second.id, outcome="approve")
    assert [t.spec for t in run.ready] == ["decide"]
    run = wf.complete(bpmn, run.state, run.ready[0].id, outcome="approve")
    assert run.finished and run.outcome == "approved" and run.ready == []


def test_small_amount_skips_the_countersign(bpmn: str) -> None:
    run = wf.start(bpmn, {"amount": 50})
    run = wf.complete(bpmn, run.state, run.ready[0].id, outcome="approve")
    assert [t.spec for t in run.ready] == ["decide"]


def test_data_given_at_completion_steers_later_gateways(bpmn: str) -> None:
    run = wf.start(bpmn, {"amount": 50})
    run = wf.complete(bpmn, run.state, run.ready[0].id, outcome="approve", data={"amount": 900})
    assert {t.spec for t in run.ready} == {"joint__p1", "joint__p2"}


def test_one_countersign_reject_rejects_the_application(bpmn: str) -> None:
    run = wf.start(bpmn, {"amount": 500})
    run = wf.complete(bpmn, run.state, run.ready[0].id, outcome="approve")
    run = wf.complete(bpmn, run.state, run.ready[1].id, outcome="reject")
    assert run.finished and run.outcome == "rejected" and run.ready == []
    assert run.next_timer_at is None
    with pytest.raises(ValidationError):
        wf.complete(bpmn, run.state, "00000000-0000-0000-0000-000000000000", outcome="approve")


def test_reject_ends_the_process(bpmn: str) -> None:
    run = wf.start(bpmn, {"amount": 500})
    run = wf.complete(bpmn, run.state, run.ready[0].id, outcome="reject")
    assert run.finished and run.outcome == "rejected"


def test_return_keeps_the_task_ready(bpmn: str) -> None:
    run = wf.start(bpmn, {"amount": 500})
    again = wf.complete(bpmn, run.state, run.ready[0].id, outcome="return")
    assert [t.id for t in again.ready] == [t.id for t in run.ready]
    assert not again.finished


def test_unknown_outcome_task_or_stale_task(bpmn: str) -> None:
    run = wf.start(bpmn, {"amount": 500})
    with pytest.raises(ValidationError):
        wf.complete(bpmn, run.state, run.ready[0].id, outcome="maybe")
    with pytest.raises(ValidationError):
        wf.complete(bpmn, run.state, "not-a-uuid", outcome="approve")
    done = wf.complete(bpmn, run.state, run.ready[0].id, outcome="approve")
    with pytest.raises(ValidationError):  # the same task again, on the new state
        wf.complete(bpmn, done.state, run.ready[0].id, outcome="approve")


def test_state_is_json_and_carries_only_condition_data(bpmn: str) -> None:
    run = wf.start(bpmn, {"amount": 500, "name": "张三", "id_number": "11010519491231002X"})
    text = json.dumps(run.state, ensure_ascii=False)
    assert "张三" not in text and "11010519491231002X" not in text
    assert "spec" not in run.state["wf"]  # the process definition is not repeated per run
    restored = json.loads(text)
    run = wf.complete(bpmn, restored, run.ready[0].id, outcome="approve")
    assert len(run.ready) == 2


def test_state_of_another_flow_is_refused(bpmn: str) -> None:
    run = wf.start(bpmn, {"amount": 500})
    other = wf.build_bpmn(
        {
            "version": 1,
            "steps": [{"kind": "task", "id": "only", "name": "审核", "department": "$matter"}],
        }
    )
    with pytest.raises(ValidationError):
        wf.complete(other, run.state, run.ready[0].id, outcome="approve")
    with pytest.raises(ValidationError):
        wf.complete(bpmn, {"v": 99}, run.ready[0].id, outcome="approve")


def test_timers_count_working_days_and_fire_once(demo_calendar: None) -> None:
    bpmn = wf.build_bpmn(SPEC)
    friday = datetime(2026, 2, 13, 10, 0, tzinfo=SH)  # before 春节
    run = wf.start(bpmn, {"amount": 50}, now=friday)
    assert run.next_timer_at == datetime(2026, 2, 24, 10, 0, tzinfo=SH)  # 14th, then 24th
    early = wf.fire_timers(bpmn, run.state, datetime(2026, 2, 23, 23, 0, tzinfo=SH))
    assert early.escalations == [] and early.next_timer_at == run.next_timer_at
    due = wf.fire_timers(bpmn, run.state, datetime(2026, 2, 24, 10, 1, tzinfo=SH))
    assert [(e["spec"], e["action"], e["task"]) for e in due.escalations] == [
        ("accept", "warn", run.ready[0].id)
    ]
    assert [t.id for t in due.ready] == [run.ready[0].id]  # non-interrupting: still ready
    assert due.next_timer_at is None
    again = wf.fire_timers(bpmn, due.state, datetime(2026, 2, 25, 10, 0, tzinfo=SH))
    assert again.escalations == []
    # the next task's timer starts when it becomes ready
    later = datetime(2026, 2, 26, 9, 0, tzinfo=SH)
    run = wf.complete(bpmn, again.state, run.ready[0].id, outcome="approve", now=later)
    assert [t.spec for t in run.ready] == ["decide"]
    assert run.next_timer_at == datetime(2026, 3, 2, 9, 0, tzinfo=SH)  # 27, 28 (Sat), 2
    fired = wf.fire_timers(bpmn, run.state, datetime(2026, 3, 2, 9, 0, tzinfo=SH))
    assert fired.escalations[0]["action"] == "escalate"
    assert fired.escalations[0]["to_position"] == "director"
    assert approve_all(bpmn, fired).outcome == "approved"


def test_parsed_specs_are_cached_by_hash(bpmn: str) -> None:
    assert engine.parse(bpmn) is engine.parse(bpmn)
    assert engine.parse(bpmn) is not engine.parse(bpmn + "\n")


def _tamper(bpmn: str, old: str, new: str) -> str:
    assert old in bpmn
    return bpmn.replace(old, new)


def test_python_conditions_are_never_evaluated(bpmn: str) -> None:
    evil = _tamper(bpmn, '{"&gt;":[{"var":"amount"},100]}', '__import__("os").system("false")')
    with pytest.raises(ValidationError) as info:
        wf.start(evil, {"amount": 500})
    assert "JSON Logic" in " ".join(info.value.messages)
    # and the script engine refuses at run time too (defence in depth)
    with pytest.raises(engine.ExpressionRefused):
        engine.JsonLogicEnvironment().evaluate("1 + 1", {})
    with pytest.raises(engine.ExpressionRefused):
        engine.ENGINE.execute(None, "x = 1")


def test_script_tasks_in_a_stored_bpmn_are_refused(bpmn: str) -> None:
    evil = _tamper(bpmn, '<bpmn:userTask id="decide"', '<bpmn:scriptTask id="decide"')
    evil = evil.replace(
        "</bpmn:userTask>\n  <bpmn:boundaryEvent", "</bpmn:scriptTask>\n  <bpmn:boundaryEvent"
    )
    with pytest.raises(ValidationError):
        wf.start(evil, {"amount": 1})


def test_check_spec_names_each_problem(db: Any) -> None:
    bad = copy.deepcopy(SPEC)
    bad["steps"][0]["name"] = ""
    bad["steps"][0]["timer"] = {"after_days": 0, "action": "explode"}
    bad["steps"][1]["branches"][0]["when"] = {"eval": ["1"]}
    bad["steps"][1]["branches"].reverse()
    bad["steps"][2]["id"] = "accept"
    bad["steps"][2]["department"] = "no-such-dept"
    with pytest.raises(ValidationError) as info:
        wf.check_spec(bad)
    text = "\n".join(info.value.messages)
    for expected in (
        "环节名称",
        "计时器天数",
        "计时器动作",
        "eval",
        "其他情况",
        "重复",
        "no-such-dept 不存在",
    ):
        assert expected in text, expected


def test_check_spec_knows_departments_and_positions(db: Any) -> None:
    from yiwang.platform.orgs import service as orgs
    from yiwang.platform.regions import testing as regions_testing

    regions_testing.make_chain(geometry=False)
    orgs.create_department("scjg", "市场监管局", region_code=regions_testing.CITY)
    orgs.create_position("scjg", "clerk", "窗口受理")
    ok = {
        "version": 1,
        "steps": [
            {"kind": "task", "id": "a", "name": "受理", "department": "scjg", "position": "clerk"}
        ],
    }
    assert wf.check_spec(ok)["steps"][0]["department"] == "scjg"
    ok["steps"][0]["position"] = "boss"
    with pytest.raises(ValidationError, match="没有岗位 boss"):
        wf.check_spec(ok)


def test_describe_spec_flattens_countersigns(db: Any) -> None:
    rows = wf.describe_spec(wf.check_spec(SPEC))
    assert [r["spec"] for r in rows] == ["accept", "joint__p1", "joint__p2", "decide"]


def test_the_clock_must_be_aware(bpmn: str) -> None:
    with pytest.raises(ValueError):
        wf.start(bpmn, {}, now=datetime(2026, 3, 2, 9, 0))
    with pytest.raises(ValueError):
        wf.fire_timers(bpmn, wf.start(bpmn, {}).state, datetime(2026, 3, 2, 9, 0))
