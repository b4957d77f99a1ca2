"""Who may see and act on a case.

- the command centre (指挥中心: the ``city.dispatch_case`` permission) files, dispatches,
  extends and re-dispatches the cases of the regions its departments govern, and sees them;
- a department answers for the cases dispatched to it or its internal units: its members
  accept, update, return and report them handled, and see them;
- an inspector (``city.verify_case``) verifies the handled cases of the grids they patrol
  (a grid duty) or of their departments' regions;
- a hotline operator (``city.take_calls``) enters calls, answers the caller (答复, as may
  the department that handled it) and calls back (回访: the satisfaction) after answering;
- a citizen sees and evaluates the cases they reported.

Anything else is "not found" to the caller (the API never says that a case exists).
"""

from __future__ import annotations

from typing import Any

from yiwang.industry.city.models import Case, DutyRole, GridDuty
from yiwang.platform.orgs import service as orgs
from yiwang.platform.regions import service as regions

DISPATCH = "city.dispatch_case"
VERIFY = "city.verify_case"
CALLS = "city.take_calls"

_KEY = "_city_scope"


def _departments(user: Any) -> list[Any]:
    return orgs.departments_of(user)


def unit_codes(user: Any) -> list[str]:
    """The user's departments and their internal units."""
    return orgs.unit_codes_of(user)


def region_codes(user: Any) -> list[str]:
    """The regions governed by the user's departments."""
    return sorted({d.region_id for d in _departments(user)})


def is_official(user: Any) -> bool:
    return bool(getattr(user, "is_staff", False))


def in_regions(case: Case, codes: list[str]) -> bool:
    return any(regions.covers(code, case.grid_code) for code in codes)


def inspects(user: Any, case: Case) -> bool:
    if not user.has_perm(VERIFY):
        return False
    if GridDuty.objects.filter(grid_code=case.grid_code, role=DutyRole.INSPECTOR,
                               user=user).exists():
        return True
    return in_regions(case, region_codes(user))


def can_see(user: Any, case: Case) -> bool:
    """Whether ``user`` may read ``case``."""
    if user is None or not user.is_authenticated:
        return False
    if not is_official(user):
        return case.reporter_id == user.pk
    if user.is_superuser:
        return True
    if case.department_code and case.department_code in unit_codes(user):
        return True
    if (user.has_perm(DISPATCH) or user.has_perm(CALLS)) and in_regions(
            case, region_codes(user)):
        return True
    return inspects(user, case)


def report_source(user: Any) -> str | None:
    """How an official reports a case themselves: a grid inspector's patrol report
    (``inspector``, filed and dispatched at once), a 12345 operator's call (``hotline``, to
    the command centre); None for anyone else."""
    if not is_official(user):
        return None
    if user.has_perm(VERIFY):
        return "inspector"
    if user.has_perm(CALLS):
        return "hotline"
    return None


def may(user: Any, action: str, case: Case) -> bool:
    """Whether ``user`` may take ``action`` on ``case`` (None: the platform itself)."""
    if user is None:
        return True
    if action in ("file", "not_file", "dispatch", "extend", "merge"):
        return bool(user.has_perm(DISPATCH) and (user.is_superuser or in_regions(
            case, region_codes(user))))
    if action in ("accept", "return", "update", "handle"):
        return bool(case.department_code and case.department_code in unit_codes(user))
    if action in ("verify_pass", "verify_fail"):
        return inspects(user, case)
    if action == "reply":  # the department that handled the call, or a hotline operator
        return case.source == "hotline" and (
            bool(case.department_code and case.department_code in unit_codes(user))
            or bool(user.has_perm(CALLS) and in_regions(case, region_codes(user))))
    if action == "evaluate":
        if not is_official(user):
            return case.reporter_id == user.pk
        return bool(user.has_perm(CALLS) and in_regions(case, region_codes(user)))
    return False
