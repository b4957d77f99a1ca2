"""Context for the structured approval-flow editor (``workflow/editor.html``)."""

from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext as _

from yiwang.enablement.workflow import bpmn_build, diagram


def messages() -> dict[str, str]:
    """The editor script's strings, in the request's language."""
    return {
        "task": _("审批环节"),
        "countersign": _("会签"),
        "gateway": _("条件分支"),
        "name": _("环节名称"),
        "department": _("办理部门"),
        "position": _("岗位"),
        "any_position": _("不限岗位"),
        "days": _("办理时限（工作日）"),
        "applicant_department": _("申请人所在部门"),
        "matter_department": _("事项主管部门"),
        "timer": _("超时计时器"),
        "timer_on": _("超时后督办或预警"),
        "after_days": _("超过（工作日）"),
        "action": _("动作"),
        "escalate": _("督办升级"),
        "warn": _("预警"),
        "to_position": _("升级到岗位"),
        "parties": _("会签参与方"),
        "add_party": _("添加参与方"),
        "remove_party": _("删除参与方"),
        "branches": _("分支"),
        "branch": _("分支"),
        "otherwise": _("其他情况"),
        "add_branch": _("添加分支"),
        "remove_branch": _("删除分支"),
        "condition": _("条件"),
        "field": _("表单字段"),
        "operator": _("比较"),
        "value": _("值"),
        "set_condition": _("生成条件"),
        "raw_condition": _("条件 JSON Logic"),
        "bad_json": _("不是合法的 JSON"),
        "move_up": _("上移"),
        "move_down": _("下移"),
        "remove": _("删除"),
        "add_task": _("添加审批环节"),
        "add_countersign": _("添加会签"),
        "add_gateway": _("添加条件分支"),
        "empty": _("还没有环节。请用上面的按钮添加。"),
        "empty_branch": _("此分支没有环节（直接通过）。"),
        "start": _("提交申请"),
        "end": _("办结"),
        "moved": _("已移动"),
        "removed": _("已删除"),
        "added": _("已添加"),
        "applied": _("已应用 JSON"),
        "step_n": _("第 %(n)s 步"),
        "ops_eq": _("等于"),
        "ops_ne": _("不等于"),
        "ops_gt": _("大于"),
        "ops_ge": _("大于等于"),
        "ops_lt": _("小于"),
        "ops_le": _("小于等于"),
        "ops_in": _("属于（逗号分隔）"),
        "ops_truthy": _("已填写/为真"),
        "diagram": _("流程图"),
        "id": _("标识"),
    }


def department_choices() -> list[dict[str, Any]]:
    """Every active department with its positions, for the editor's selects."""
    from yiwang.platform.orgs import service as orgs

    out = []
    for dept in orgs.list_departments().prefetch_related("positions"):
        positions = sorted(
            dept.positions.all(), key=lambda p: (p.sort_order is None, p.sort_order or 0, p.code)
        )
        out.append(
            {
                "code": dept.code,
                "name": dept.name,
                "name_en": dept.name_en,
                "positions": [{"code": p.code, "name": p.name} for p in positions],
            }
        )
    return out


def editor_context(
    spec: dict[str, Any] | None,
    *,
    bpmn: str | None,
    field_name: str,
    import_url: str,
    departments: Any,
) -> dict[str, Any]:
    """See ``service.editor_context``."""
    if spec is None and bpmn:
        spec = bpmn_build.embedded_spec(bpmn)
    readonly_svg = ""
    if spec is None and bpmn:
        # drawn in Camunda Modeler: shown as a diagram; the editor starts a new spec if used
        readonly_svg = diagram.svg_from_bpmn(bpmn)
    if departments is None:
        departments = department_choices()
    return {
        "spec_json": json.dumps(spec or {"version": 1, "steps": []}, ensure_ascii=False, indent=1),
        "field_name": field_name,
        "departments_json": _script_json(departments),
        "messages_json": _script_json(messages()),
        "import_url": import_url,
        "imported_svg": readonly_svg,
        "has_imported_bpmn": bool(bpmn and readonly_svg),
    }


def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element (no ``</script>``, no HTML comment openers)."""
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
