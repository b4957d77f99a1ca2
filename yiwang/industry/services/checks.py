"""The checks of a service version's parts (服务版本的校验): its form, approval flow (and the
fields its gateways read), fee decision table and licence mapping, each checked with its
owner (forms, workflow, ours) against the form; used when a draft is saved, a version
published and a pack imported (:mod:`.versions`, :mod:`.packs`)."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from yiwang.enablement.forms import service as forms
from yiwang.enablement.workflow import service as workflow
from yiwang.industry.services.common import MAX_FEE_ROWS, MAX_FEN, form_keys
from yiwang.industry.services.holders import check_holder
from yiwang.industry.services.models import Matter
from yiwang.platform.orgs import service as orgs

HIT_POLICIES = ("FIRST", "COLLECT", "UNIQUE")
# Licence field sources the system fills at decision time rather than the form: the
# decision date, a fresh serial (e.g. a card number the card system would assign) and the
# application's receipt number (passed by the caller).
SYSTEM_SOURCES = ("$today", "$serial", "$application_number")
# What a gateway condition may read besides the form's fields: the workflow engine records
# each task's decision (``outcomes.<task id>``) and the last one (``outcome``) in the flow's
# data; the application's form data is all else the flow gets (``workflow.start``/``complete``).
FLOW_VARIABLES = frozenset({"outcome", "outcomes"})
_BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def _messages(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


def _name_parties(spec: dict[str, Any]) -> dict[str, Any]:
    """A countersign party without a name of its own is named after its department (its
    task reads 税费核验（示例市税务局）, not 税费核验（swj）), in the spec itself: the BPMN is
    built from the spec alone, and so built again the same."""

    def walk(steps: list[dict[str, Any]]) -> None:
        for step in steps:
            for party in step.get("parties") or ():
                code = str(party.get("department") or "")
                if not party.get("name") and code and not code.startswith("$"):
                    found = orgs.get_department(code)
                    if found is not None:
                        party["name"] = str(found.name)[:64]
            for branch in step.get("branches") or ():
                walk(branch.get("steps") or [])

    walk(spec.get("steps") or [])
    return spec


def check_fee_table(table: Any, form: dict[str, Any] | None) -> dict[str, Any]:
    """Validate a fee decision table against the form; return it normalised.

    ``{}`` or no rows means free. Each row: ``when`` (JSON Logic over the form data; omitted
    or ``true`` = always), ``item`` (收费项目), ``amount_fen`` (integer ≥ 0)."""
    if table in (None, {}, []):
        return {"hit_policy": "FIRST", "rows": []}
    if not isinstance(table, dict):
        raise ValidationError(_("收费决策表必须是一个对象。"))
    policy = str(table.get("hit_policy") or "FIRST").upper()
    rows = table.get("rows") or []
    problems: list[str] = []
    if policy not in HIT_POLICIES:
        problems.append(_("命中策略只能是 FIRST、COLLECT 或 UNIQUE。"))
    if not isinstance(rows, list):
        raise ValidationError(_("收费决策表的规则行必须是列表。"))
    if len(rows) > MAX_FEE_ROWS:
        problems.append(_("收费规则不能超过%(n)d行。") % {"n": MAX_FEE_ROWS})
    keys = form_keys(form)
    clean_rows = []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            problems.append(_("第%(n)d行不是一条规则。") % {"n": number})
            continue
        item = str(row.get("item") or "").strip()
        if not item:
            problems.append(_("第%(n)d行缺少收费项目名称。") % {"n": number})
        amount = row.get("amount_fen")
        if isinstance(amount, bool) or not isinstance(amount, int) or not 0 <= amount <= MAX_FEN:
            # Said in yuan, as officials type it, and in fen for ``amount_fen`` (API clients)
            problems.append(_("第%(n)d行的金额必须在0到%(max)d元之间,最多两位小数"
                              "(amount_fen 为 0 到 %(max_fen)d 的整数,单位分)。")
                            % {"n": number, "max": MAX_FEN // 100, "max_fen": MAX_FEN})
        when = row.get("when", True)
        if when is not True:
            try:
                forms.check_logic(when, known_keys=keys,
                                  where=_("第%(n)d行的条件") % {"n": number})
            except ValidationError as exc:
                problems.extend(_messages(exc))
        clean_rows.append({"when": when, "item": item,
                           "item_en": str(row.get("item_en") or ""), "amount_fen": amount})
    if problems:
        raise ValidationError(problems)
    return {"hit_policy": policy, "rows": clean_rows}


def check_licence(licence: Any, form: dict[str, Any] | None,
                  department_code: str) -> dict[str, Any]:
    """Validate a licence mapping against the licence type's schema and the form.

    ``{}`` means the matter issues no licence. Otherwise ``{"type": code, "map": {field:
    source}, "holder": {...}}``: every required field of the type (except those filled from
    the holder) is mapped, every mapped field exists, a source is a form key (``"a"`` or
    ``"a.b"``) or a JSON Logic rule over the form keys, the matter's department issues that
    type, and the optional ``holder`` (who gets the licence when not the applicant) is a
    known kind with valid sources (see :mod:`.holders`)."""
    if licence in (None, {}, ""):
        return {}
    from yiwang.support.licences import service as licences

    if not isinstance(licence, dict) or not isinstance(licence.get("map", {}), dict):
        raise ValidationError(_("证照映射必须是 {\"type\": 代码, \"map\": {…}}。"))
    ltype = licences.get_type(str(licence.get("type") or ""))
    if ltype is None or not ltype.active:
        raise ValidationError(_("证照类型“%(code)s”不存在或未启用。")
                              % {"code": licence.get("type")})
    problems: list[str] = []
    if department_code not in (ltype.issuing_departments or []):
        problems.append(_("本事项的实施部门不是“%(name)s”的发证部门。") % {"name": ltype.name})
    schema_fields = {f["key"]: f for f in (ltype.schema or {}).get("fields", [])}
    mapping = licence.get("map") or {}
    keys = form_keys(form)
    for licence_field, source in mapping.items():
        if licence_field not in schema_fields:
            problems.append(_("证照“%(name)s”没有字段“%(field)s”。")
                            % {"name": ltype.name, "field": licence_field})
            continue
        if isinstance(source, str) and source.startswith("$"):
            if source not in SYSTEM_SOURCES:
                problems.append(_("字段“%(field)s”的系统取值只能是 %(names)s。")
                                % {"field": schema_fields[licence_field]["label"],
                                   "names": "、".join(SYSTEM_SOURCES)})
        elif isinstance(source, str):
            if source.split(".")[0] not in keys:
                problems.append(_("字段“%(field)s”映射到表单中没有的字段“%(key)s”。")
                                % {"field": schema_fields[licence_field]["label"], "key": source})
        elif isinstance(source, dict):
            try:
                forms.check_logic(source, known_keys=keys, where=_("字段“%(field)s”的规则")
                                  % {"field": schema_fields[licence_field]["label"]})
            except ValidationError as exc:
                problems.extend(_messages(exc))
        else:
            problems.append(_("字段“%(field)s”的来源必须是表单字段或 JSON Logic 规则。")
                            % {"field": schema_fields[licence_field]["label"]})
    for key, spec in schema_fields.items():
        if spec.get("required") and not spec.get("holder") and key not in mapping:
            problems.append(_("证照必填字段“%(field)s”尚未映射。") % {"field": spec["label"]})
    holder = None
    try:
        holder = check_holder(licence.get("holder"), keys, str(ltype.holder_kind))
    except ValidationError as exc:
        problems.extend(_messages(exc))
    if problems:
        raise ValidationError(problems)
    clean = {"type": ltype.code, "map": dict(mapping)}
    if holder:
        clean["holder"] = holder
    return clean


def _spec_conditions(steps: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    """``(where, rule)`` of every branch condition of a (checked) flow spec's gateways."""
    found: list[tuple[str, Any]] = []
    for step in steps:
        gateway = step.get("name") or step.get("id")
        for number, branch in enumerate(step.get("branches") or [], start=1):
            if "when" in branch:
                found.append((_("网关“%(gateway)s”第%(n)d个分支%(branch)s的条件") % {
                    "gateway": gateway, "n": number,
                    "branch": f"“{branch['name']}”" if branch.get("name") else ""},
                    branch["when"]))
            found.extend(_spec_conditions(branch.get("steps") or []))
    return found


def _bpmn_conditions(xml: str) -> list[tuple[str, Any]]:
    """``(where, rule)`` of every JSON Logic condition of an imported (normalised) BPMN."""
    from lxml import etree

    # The XML comes from ``workflow.import_bpmn``; parsed as untrusted all the same.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False)
    try:
        root = etree.fromstring(xml.encode("utf-8"), parser)
    except etree.XMLSyntaxError:
        return []  # the workflow's import names it
    names = {el.get("id"): el.get("name") or el.get("id")
             for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    found: list[tuple[str, Any]] = []
    for flow in root.iter(f"{{{_BPMN_NS}}}sequenceFlow"):
        condition = flow.find(f"{{{_BPMN_NS}}}conditionExpression")
        if condition is None or (condition.get("language") or "").lower() != "jsonlogic":
            continue
        try:
            rule = json.loads(condition.text or "")
        except (ValueError, RecursionError):
            continue  # refused by the workflow's import
        found.append((_("网关“%(gateway)s”通往“%(target)s”的条件") % {
            "gateway": names.get(flow.get("sourceRef"), flow.get("sourceRef")),
            "target": flow.get("name") or names.get(flow.get("targetRef"),
                                                    flow.get("targetRef"))}, rule))
    return found


def check_gateway_conditions(flow_spec: dict[str, Any] | None, bpmn: str | None,
                             form: dict[str, Any] | None) -> None:
    """Every gateway condition of the flow (the editor's spec, else the imported BPMN) reads
    only the form's fields (or :data:`FLOW_VARIABLES`): a branch on a field the form does not
    have could never be taken. Raises ``ValidationError`` naming the gateway and the field."""
    conditions = (_spec_conditions((flow_spec or {}).get("steps") or []) if flow_spec
                  else _bpmn_conditions(bpmn) if bpmn else [])
    keys = form_keys(form) | FLOW_VARIABLES
    problems: list[str] = []
    for where, rule in conditions:
        try:
            forms.check_logic(rule, known_keys=keys, where=where)
        except ValidationError as exc:
            problems.extend(_messages(exc))
    if problems:
        raise ValidationError(problems)


def check_parts(matter: Matter, *, form: Any, flow_spec: Any, bpmn: str | None,
                 fee_table: Any, licence: Any) -> dict[str, Any]:
    """Check each part with its owner (forms, workflow, ours); one error per part."""
    problems: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    try:
        clean["form"] = forms.check_definition(form) if form else {"version": 1,
                                                                  "components": []}
    except ValidationError as exc:
        problems["form"] = _messages(exc)
        clean["form"] = form if isinstance(form, dict) else {}
    if bpmn:
        try:
            clean["bpmn"] = workflow.import_bpmn(bpmn)["bpmn"]
            clean["flow_spec"] = {}
        except ValidationError as exc:
            problems["flow"] = _messages(exc)
    elif flow_spec:
        try:
            clean["flow_spec"] = _name_parties(workflow.check_spec(flow_spec))
            clean["bpmn"] = workflow.build_bpmn(clean["flow_spec"])
        except ValidationError as exc:
            problems["flow"] = _messages(exc)
    else:
        clean["flow_spec"], clean["bpmn"] = {}, ""
    if "flow" not in problems:
        try:
            check_gateway_conditions(clean["flow_spec"], clean["bpmn"], clean["form"])
        except ValidationError as exc:
            problems["flow"] = _messages(exc)
    try:
        clean["fee_table"] = check_fee_table(fee_table, clean["form"])
    except ValidationError as exc:
        problems["fee_table"] = _messages(exc)
    try:
        clean["licence"] = check_licence(licence, clean["form"], matter.department_code)
    except ValidationError as exc:
        problems["licence"] = _messages(exc)
    if problems:
        raise ValidationError(problems)
    return clean
