"""Who answers for a case: the responsible department for the category on the grid, and
the person in it; the inspector who verifies; whom an overdue case escalates to.

The department: the organisation's responsibilities (职责分工) for the category's code in
the case's community or any region above it (the most specific wins, see
``orgs.responsible_for``), else the category's default unit. The person: the department's
handler on duty for the grid (网格责任人), else — when the responsibility names a position
— the holder of that position with the fewest open cases, else the member with the fewest
open cases. A department without members gets the case without a person (its head
assigns it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from yiwang.industry.city.models import CLOCK_STATES, Case, DutyRole, GridDuty
from yiwang.platform.orgs import service as orgs


@dataclass(frozen=True)
class Answer:
    department_code: str
    assignee: Any


def _least_loaded(users: list[Any]) -> Any:
    if not users:
        return None
    load = dict(Case.objects.filter(state__in=CLOCK_STATES, assignee__in=users)
                .values_list("assignee").annotate(n=Count("id")).values_list("assignee", "n"))
    return min(users, key=lambda u: (load.get(u.pk, 0), u.pk))


def _person(case: Case, department_code: str, position_code: str | None) -> Any:
    duty = (GridDuty.objects.filter(grid_code=case.grid_code, role=DutyRole.HANDLER,
                                    department_code=department_code)
            .select_related("user").order_by("id").first())
    if duty is not None and duty.user.is_active:
        return duty.user
    members = [m for m in orgs.members_of(department_code) if m.user.is_active]
    if position_code:
        holders = [m.user for m in members if m.position and m.position.code == position_code]
        if holders:
            return _least_loaded(holders)
    return _least_loaded([m.user for m in members])


def responsible(case: Case) -> Answer | None:
    """The department and person answering for ``case``, or None when nobody does."""
    code = case.category.code
    found = []
    if orgs.get_category(code) is not None:
        found = orgs.responsible_for(case.community_code, code)
    if found:
        first = found[0]
        department = first.department.code
        position = first.position.code if first.position else None
    elif case.category.department_code:
        department, position = case.category.department_code, None
    else:
        return None
    return Answer(department, _person(case, department, position))


def to_department(case: Case, department_code: str, assignee: Any = None) -> Answer:
    """A dispatcher's choice of department (and optionally person, who must belong to it)."""
    department = orgs.get_department(department_code)
    if department is None or not department.active:
        raise ValidationError({"department_code": [ValidationError(
            _("部门 %(code)s 不存在或已停用") % {"code": department_code}, code="no_department")]})
    if assignee is not None:
        if not orgs.is_member(assignee, department_code):
            raise ValidationError({"assignee": [ValidationError(
                _("处置人须为该部门人员"), code="not_member")]})
        return Answer(department_code, assignee)
    return Answer(department_code, _person(case, department_code, None))


def inspector(case: Case) -> Any:
    """The grid's inspector (网格监督员) who will verify the case, or None."""
    duty = (GridDuty.objects.filter(grid_code=case.grid_code, role=DutyRole.INSPECTOR)
            .filter(Q(user__is_active=True)).select_related("user").order_by("id").first())
    return duty.user if duty is not None else None


def escalation_targets(case: Case) -> list[int]:
    """Whom an overdue case is reported to: the handler and the department's head (the
    holder of its first position)."""
    targets: list[int] = []
    if case.assignee_id:
        targets.append(case.assignee_id)
    if case.department_code:
        members = list(orgs.members_of(case.department_code))
        heads = [m for m in members if m.position is not None]
        if heads and heads[0].user_id not in targets:
            targets.append(heads[0].user_id)
    return targets
