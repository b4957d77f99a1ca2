"""Flow specs (审批流程定义) made by the structured editor: checking and flattening.

A spec is ``{"version": 1, "steps": [...]}``; see ``service`` and docs/workflow.md for the step
kinds. ``check_spec`` collects every problem before raising, so the editor can show them all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

#: Departments resolved by the caller when the flow runs.
DYNAMIC_DEPARTMENTS = ("$applicant_department", "$matter")
STEP_KINDS = ("task", "countersign", "gateway")
TIMER_ACTIONS = ("escalate", "warn")
MAX_STEPS = 200
MAX_NESTING = 8
MAX_DAYS = 365
ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

_STEP_KEYS = {
    "task": {"kind", "id", "name", "name_en", "department", "position", "days", "timer"},
    "countersign": {"kind", "id", "name", "name_en", "parties", "days", "timer"},
    "gateway": {"kind", "id", "name", "name_en", "branches"},
}
_PARTY_KEYS = {"department", "position", "name"}
_TIMER_KEYS = {"after_days", "action", "to_position"}


class _Checker:
    def __init__(self, check_departments: bool) -> None:
        self.problems: list[str] = []
        self.ids: set[str] = set()
        self.count = 0
        self.depth = 0
        self.check_departments = check_departments
        self._positions: dict[str, set[str] | None] = {}

    def fail(self, message: str) -> None:
        self.problems.append(message)

    # -- departments -------------------------------------------------------------------
    def positions(self, department: str) -> set[str] | None:
        """Position codes of a department, or None when it does not exist."""
        if department not in self._positions:
            from yiwang.platform.orgs import service as orgs

            found = orgs.get_department(department)
            self._positions[department] = (
                None
                if found is None
                else set(orgs.positions_of(found).values_list("code", flat=True))
            )
        return self._positions[department]

    def department(self, where: str, department: Any, position: Any) -> tuple[str, str | None]:
        if not isinstance(department, str) or not department.strip():
            self.fail(_("%(where)s：请选择办理部门") % {"where": where})
            return "", None
        department = department.strip()
        if position in ("", None):
            position = None
        elif not isinstance(position, str) or not CODE_RE.match(position):
            self.fail(
                _("%(where)s：岗位代码“%(code)s”格式不正确") % {"where": where, "code": position}
            )
            position = None
        if department in DYNAMIC_DEPARTMENTS:
            return department, position
        if not CODE_RE.match(department):
            self.fail(
                _("%(where)s：部门代码“%(code)s”格式不正确") % {"where": where, "code": department}
            )
            return department, position
        if self.check_departments:
            codes = self.positions(department)
            if codes is None:
                self.fail(
                    _("%(where)s：部门 %(code)s 不存在") % {"where": where, "code": department}
                )
            elif position and position not in codes:
                self.fail(
                    _("%(where)s：部门 %(code)s 没有岗位 %(position)s")
                    % {"where": where, "code": department, "position": position}
                )
        return department, position

    # -- steps ---------------------------------------------------------------------------
    def steps(self, steps: Any, where: str, depth: int = 0) -> list[dict[str, Any]]:
        if depth > MAX_NESTING:
            self.fail(
                _("%(where)s：条件分支嵌套过深（最多 %(n)d 层）")
                % {"where": where, "n": MAX_NESTING}
            )
            return []
        self.depth = depth
        if not isinstance(steps, list):
            self.fail(_("%(where)s：步骤必须是列表") % {"where": where})
            return []
        return [s for s in (self.step(step, where, n) for n, step in enumerate(steps, 1)) if s]

    def step(self, step: Any, where: str, number: int) -> dict[str, Any] | None:
        self.count += 1
        if self.count > MAX_STEPS:
            if self.count == MAX_STEPS + 1:
                self.fail(_("流程步骤过多（最多 %(n)d 个）") % {"n": MAX_STEPS})
            return None
        label = _("%(where)s第 %(n)d 步") % {"where": where, "n": number}
        if not isinstance(step, dict):
            self.fail(_("%(where)s：格式不正确") % {"where": label})
            return None
        kind = step.get("kind")
        if kind not in STEP_KINDS:
            self.fail(_("%(where)s：不支持的步骤类型“%(kind)s”") % {"where": label, "kind": kind})
            return None
        unknown = sorted(set(step) - _STEP_KEYS[kind])
        if unknown:
            self.fail(
                _("%(where)s：未知属性 %(keys)s") % {"where": label, "keys": "、".join(unknown)}
            )
        step_id = step.get("id")
        if not isinstance(step_id, str) or not ID_RE.match(step_id):
            self.fail(
                _("%(where)s：标识“%(id)s”须以字母开头，只含字母、数字和下划线")
                % {"where": label, "id": step_id}
            )
            step_id = f"step_{self.count}"
        elif step_id in self.ids:
            self.fail(_("%(where)s：标识 %(id)s 重复") % {"where": label, "id": step_id})
        self.ids.add(step_id)
        out: dict[str, Any] = {"kind": kind, "id": step_id}
        name = step.get("name")
        if kind != "gateway" or name:
            if not isinstance(name, str) or not name.strip():
                self.fail(_("%(where)s：请填写环节名称") % {"where": label})
                name = ""
            elif len(name.strip()) > 64:
                self.fail(_("%(where)s：环节名称不能超过 64 个字") % {"where": label})
            out["name"] = (name or "").strip()
        if isinstance(step.get("name_en"), str) and step["name_en"].strip():
            out["name_en"] = step["name_en"].strip()[:128]
        label = f"{label}（{out.get('name') or step_id}）"
        if kind == "task":
            out["department"], out["position"] = self.department(
                label, step.get("department"), step.get("position")
            )
        if kind in ("task", "countersign"):
            out["days"] = self.days(label, step.get("days"), _("办理时限"), allow_none=True)
            if step.get("timer") not in (None, {}):
                out["timer"] = self.timer(label, step["timer"])
        if kind == "countersign":
            out["parties"] = self.parties(label, step.get("parties"))
        if kind == "gateway":
            out["branches"] = self.branches(label, step.get("branches"))
        return out

    def days(
        self, where: str, value: Any, what: str, *, allow_none: bool = False, minimum: int = 0
    ) -> int | None:
        if value in (None, "") and allow_none:
            return None
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not minimum <= value <= MAX_DAYS
        ):
            self.fail(
                _("%(where)s：%(what)s须为 %(min)d 到 %(max)d 之间的工作日数")
                % {"where": where, "what": what, "min": minimum, "max": MAX_DAYS}
            )
            return None
        return value

    def timer(self, where: str, timer: Any) -> dict[str, Any] | None:
        if not isinstance(timer, dict):
            self.fail(_("%(where)s：计时器格式不正确") % {"where": where})
            return None
        unknown = sorted(set(timer) - _TIMER_KEYS)
        if unknown:
            self.fail(
                _("%(where)s：计时器未知属性 %(keys)s")
                % {"where": where, "keys": "、".join(unknown)}
            )
        out: dict[str, Any] = {
            "after_days": self.days(where, timer.get("after_days"), _("计时器天数"), minimum=1)
        }
        action = timer.get("action")
        if action not in TIMER_ACTIONS:
            self.fail(_("%(where)s：计时器动作须为“督办升级”或“预警”") % {"where": where})
        out["action"] = action
        to_position = timer.get("to_position") or None
        if to_position is not None and (
            not isinstance(to_position, str) or not CODE_RE.match(to_position)
        ):
            self.fail(_("%(where)s：升级岗位代码格式不正确") % {"where": where})
            to_position = None
        if action == "escalate" and not to_position:
            self.fail(_("%(where)s：督办升级须选择升级到的岗位") % {"where": where})
        out["to_position"] = to_position
        return out

    def parties(self, where: str, parties: Any) -> list[dict[str, Any]]:
        if not isinstance(parties, list) or len(parties) < 2:
            self.fail(_("%(where)s：会签至少需要两个参与方") % {"where": where})
            return []
        if len(parties) > 20:
            self.fail(_("%(where)s：会签参与方不能超过 20 个") % {"where": where})
            return []
        out = []
        seen = set()
        for n, party in enumerate(parties, 1):
            label = _("%(where)s参与方 %(n)d") % {"where": where, "n": n}
            if not isinstance(party, dict):
                self.fail(_("%(where)s：格式不正确") % {"where": label})
                continue
            unknown = sorted(set(party) - _PARTY_KEYS)
            if unknown:
                self.fail(
                    _("%(where)s：未知属性 %(keys)s") % {"where": label, "keys": "、".join(unknown)}
                )
            dept, pos = self.department(label, party.get("department"), party.get("position"))
            if (dept, pos) in seen:
                self.fail(_("%(where)s：与前面的参与方重复") % {"where": label})
            seen.add((dept, pos))
            entry: dict[str, Any] = {"department": dept, "position": pos}
            if isinstance(party.get("name"), str) and party["name"].strip():
                entry["name"] = party["name"].strip()[:64]
            out.append(entry)
        return out

    def branches(self, where: str, branches: Any) -> list[dict[str, Any]]:
        from yiwang.enablement.forms import service as forms

        if not isinstance(branches, list) or len(branches) < 2:
            self.fail(_("%(where)s：条件分支至少需要两个分支") % {"where": where})
            return []
        out = []
        for n, branch in enumerate(branches, 1):
            label = _("%(where)s分支 %(n)d") % {"where": where, "n": n}
            if not isinstance(branch, dict) or set(branch) - {"when", "otherwise", "steps", "name"}:
                self.fail(_("%(where)s：格式不正确") % {"where": label})
                continue
            entry: dict[str, Any] = {}
            if isinstance(branch.get("name"), str) and branch["name"].strip():
                entry["name"] = branch["name"].strip()[:64]
            if branch.get("otherwise"):
                if n != len(branches):
                    self.fail(_("%(where)s：“其他情况”分支必须放在最后") % {"where": label})
                entry["otherwise"] = True
            else:
                rule = branch.get("when")
                if rule in (None, "", {}):
                    self.fail(_("%(where)s：请设置分支条件") % {"where": label})
                else:
                    try:
                        forms.check_logic(rule, where=_("网关条件"))
                    except ValidationError as exc:
                        for message in exc.messages:
                            self.fail(f"{label}：{message}")
                entry["when"] = rule
            depth = self.depth
            entry["steps"] = self.steps(branch.get("steps", []), label, depth + 1)
            self.depth = depth
            out.append(entry)
        if out and not out[-1].get("otherwise"):
            self.fail(
                _("%(where)s：最后一个分支须为“其他情况”，以免没有分支可走") % {"where": where}
            )
        return out


def check_spec(spec: Any, *, check_departments: bool = True) -> dict[str, Any]:
    """See ``service.check_spec``."""
    if not isinstance(spec, dict):
        raise ValidationError(_("审批流程定义格式不正确"), code="invalid")
    checker = _Checker(check_departments)
    if spec.get("version", 1) != 1:
        checker.fail(_("不支持的流程定义版本 %(v)s") % {"v": spec.get("version")})
    unknown = sorted(set(spec) - {"version", "steps", "name"})
    if unknown:
        checker.fail(_("流程定义未知属性 %(keys)s") % {"keys": "、".join(unknown)})
    steps = checker.steps(spec.get("steps"), _("流程"))
    normalised = {"version": 1, "steps": steps}
    if not checker.problems and not any(True for _s in iter_tasks(normalised)):
        checker.fail(_("流程至少需要一个审批环节"))
    if checker.problems:
        raise ValidationError(checker.problems, code="invalid_flow")
    return normalised


def iter_steps(steps: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every step, depth first (gateway branches included)."""
    for step in steps:
        yield step
        for branch in step.get("branches", ()):
            yield from iter_steps(branch.get("steps", []))


def iter_tasks(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every task/countersign step of a spec, depth first."""
    for step in iter_steps(spec.get("steps", [])):
        if step["kind"] != "gateway":
            yield step


def countersign_task_id(step_id: str, index: int) -> str:
    """The BPMN id of party ``index`` (0-based) of countersign ``step_id``."""
    return f"{step_id}__p{index + 1}"


def describe(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """See ``service.describe_spec``."""
    out: list[dict[str, Any]] = []
    for step in iter_tasks(spec):
        if step["kind"] == "task":
            out.append(
                {
                    "spec": step["id"],
                    "name": step["name"],
                    "department": step["department"],
                    "position": step.get("position"),
                    "days": step.get("days"),
                    "countersign_group": None,
                }
            )
        else:
            for n, party in enumerate(step["parties"]):
                out.append(
                    {
                        "spec": countersign_task_id(step["id"], n),
                        "name": step["name"],
                        "department": party["department"],
                        "position": party.get("position"),
                        "days": step.get("days"),
                        "countersign_group": step["id"],
                    }
                )
    return out
