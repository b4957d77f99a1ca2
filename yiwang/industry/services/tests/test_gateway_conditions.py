"""Gateway conditions of a version's approval flow read the version's form: a branch on a field
the form does not have could never be taken, so saving and publishing refuse it — for flows
built in the editor (flow spec) and for imported BPMN files alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from yiwang.industry.services import service
from yiwang.industry.services.tests.conftest import FORM

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parents[4] / "examples" / "bpmn"
TASK = {"kind": "task", "department": "$matter", "position": None, "days": 1}


def gateway_flow(when: Any, *, inner: Any = None) -> dict[str, Any]:
    branch_steps: list[dict[str, Any]] = [{**TASK, "id": "inspect", "name": "现场核查"}]
    if inner is not None:
        branch_steps.append({"kind": "gateway", "id": "inner", "name": "规模", "branches": [
            {"name": "较大", "when": inner,
             "steps": [{**TASK, "id": "visit", "name": "复核"}]},
            {"otherwise": True, "steps": []}]})
    return {"version": 1, "steps": [
        {**TASK, "id": "accept", "name": "受理"},
        {"kind": "gateway", "id": "family_check", "name": "组成形式", "branches": [
            {"name": "家庭经营", "when": when, "steps": branch_steps},
            {"otherwise": True, "steps": []}]},
        {**TASK, "id": "decide", "name": "决定"},
    ]}


def flow_messages(caught: Any) -> list[str]:
    return caught.value.message_dict["flow"]


def test_a_gateway_on_a_field_the_form_lacks_is_refused_naming_gateway_and_field(
        matter: service.Matter) -> None:
    draft = service.create_draft(matter)
    with pytest.raises(ValidationError) as caught:
        service.save_draft(draft, form=FORM, flow_spec=gateway_flow(
            {"==": [{"var": "business_kind"}, "food"]}))
    assert flow_messages(caught) == [
        "网关“组成形式”第1个分支“家庭经营”的条件：引用了不存在的字段“business_kind”"]
    assert not service.get_version(draft.pk).flow_spec  # nothing saved


def test_gateways_inside_branches_are_checked_too(matter: service.Matter) -> None:
    draft = service.create_draft(matter)
    with pytest.raises(ValidationError) as caught:
        service.save_draft(draft, form=FORM, flow_spec=gateway_flow(
            {"==": [{"var": "kind"}, "family"]}, inner={">": [{"var": "area"}, 20]}))
    assert flow_messages(caught) == [
        "网关“规模”第1个分支“较大”的条件：引用了不存在的字段“area”"]


@pytest.mark.parametrize("when", [
    {"==": [{"var": "kind"}, "family"]},
    {">": [{"var": "capital.amount"}, 10]},       # a dotted path into a form field
    {"==": [{"var": "outcomes.accept"}, "approve"]},  # the engine's record of decisions
    {"==": [{"var": "outcome"}, "approve"]},
])
def test_form_fields_and_the_flows_own_variables_are_allowed(matter: service.Matter,
                                                             when: Any) -> None:
    draft = service.save_draft(service.create_draft(matter), form=FORM,
                               flow_spec=gateway_flow(when))
    assert draft.flow_spec["steps"][1]["branches"][0]["when"] == when


def test_an_imported_bpmn_is_checked_against_the_form(matter: service.Matter) -> None:
    xml = (EXAMPLES / "individual-business-registration.bpmn").read_text(encoding="utf-8")
    draft = service.save_draft(service.create_draft(matter), form=FORM)
    with pytest.raises(ValidationError) as caught:
        service.save_draft(draft, bpmn=xml)
    assert flow_messages(caught) == [
        "网关“经营类别？”通往“食品经营”的条件：引用了不存在的字段“business_kind”",
        "网关“经营类别？”通往“食品经营”的条件：引用了不存在的字段“area”"]
    assert not service.get_version(draft.pk).bpmn
    form = {**FORM, "components": [*FORM["components"],
        {"type": "choice", "key": "business_kind", "label": "经营类别", "required": True,
         "options": [{"value": "food", "label": "食品"}, {"value": "other", "label": "其他"}]},
        {"type": "number", "key": "area", "label": "经营面积", "required": False}]}
    draft = service.save_draft(draft, form=form, bpmn=xml)
    assert "Gateway_kind" in draft.bpmn
    # Taking the field out of the form again is refused while the flow reads it.
    with pytest.raises(ValidationError) as caught:
        service.save_draft(draft, form=FORM)
    assert "引用了不存在的字段“area”" in " ".join(flow_messages(caught))


def test_publishing_checks_again(matter: service.Matter) -> None:
    """A draft saved before the check (or whose form changed underneath) is not published."""
    draft = service.save_draft(service.create_draft(matter), form=FORM, flow_spec=gateway_flow(
        {"==": [{"var": "kind"}, "family"]}))
    service.ServiceVersion.objects.filter(pk=draft.pk).update(form={
        "version": 1, "components": [c for c in FORM["components"] if c["key"] != "kind"]})
    with pytest.raises(ValidationError) as caught:
        service.publish_version(service.get_version(draft.pk))
    assert "引用了不存在的字段“kind”" in " ".join(flow_messages(caught))
    assert service.published_version(matter.code) is None


def test_a_countersign_party_without_a_name_is_named_after_its_department(db: Any) -> None:
    from yiwang.enablement.workflow import service as workflow
    from yiwang.industry.services.checks import _name_parties
    from yiwang.platform.orgs import service as orgs
    from yiwang.platform.regions import testing as regions_testing

    regions_testing.make_chain(geometry=False)
    for code, name in (("swj", "示例市税务局"), ("bdc", "示例市不动产登记中心")):
        orgs.create_department(code, name, region_code=regions_testing.CITY)
    spec = workflow.check_spec({"version": 1, "steps": [
        {"kind": "countersign", "id": "cs", "name": "会签", "days": 2, "parties": [
            {"department": "swj", "position": None},
            {"department": "bdc", "position": None, "name": "登记"}]}]})
    named = _name_parties(spec)
    assert [p.get("name") for p in named["steps"][0]["parties"]] == ["示例市税务局", "登记"]
    xml = workflow.build_bpmn(named)
    assert "会签（示例市税务局）" in xml and "会签（swj）" not in xml
    assert workflow.build_bpmn(named) == xml  # built from the spec alone: the same again
