"""Who may see and act on an application.

- A citizen sees the applications they filed. An enterprise's agent (经办人) files for the
  enterprise with a live mandate holding the ``apply`` scope and sees those they filed; the
  enterprise's legal representative sees every application filed for it.
- An official sees and handles the applications of their departments (the department that
  accepted it, or one with a task on it) — never another department's. One holding a
  department's leading position (its first, the head) also handles its internal units'
  (科室) inboxes; an ordinary member only their own unit's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from yiwang.industry.applications import integration as ext
from yiwang.industry.applications.models import Application, Task

HANDLE_PERMISSION = "applications.handle_application"


_OFFICIAL = "_applications_official"


def is_official(user: Any) -> bool:
    """A staff account holding 办理办件 — checked here, so the workbench pages and the
    internal API apply the same rule. The answer is kept on the user object (loaded once
    per request), keyed by its pk: the inbox and the detail ask it several times."""
    if not (user and user.is_authenticated and user.is_active and user.is_staff):
        return False
    cached = getattr(user, _OFFICIAL, None)
    if cached is not None and cached[0] == user.pk:
        return bool(cached[1])
    # Django's has_perm loads every permission of the account and its groups (two queries):
    # its answer is kept per process against the account's access_version, which every
    # change of groups or permissions renews (identity.access_snapshot). A superuser's is
    # decided, as Django does, from the row.
    answer = bool(user.is_superuser) or ext.identity.access_snapshot(
        user, HANDLE_PERMISSION, lambda: bool(user.has_perm(HANDLE_PERMISSION)))
    setattr(user, _OFFICIAL, (user.pk, answer))
    return answer


def check_may_file_for(user: Any, credit_code: str) -> str:
    """The enterprise's credit code, normalised, if ``user`` may file for it (a live mandate
    with the 办事申报 scope, or the representative's); raises ``ValidationError`` otherwise."""
    code = (credit_code or "").strip().upper()
    mandate = ext.identity.mandate_of(user, code)
    if mandate is None or not (mandate.role == ext.identity.MandateRole.REPRESENTATIVE
                               or "apply" in (mandate.scopes or [])):
        raise ValidationError(_("您没有代该企业办事申报的有效授权,请联系企业法定代表人授权。"),
                              code="mandate")
    return code


def is_representative(user: Any, credit_code: str) -> bool:
    mandate = ext.identity.mandate_of(user, credit_code)
    return mandate is not None and mandate.role == ext.identity.MandateRole.REPRESENTATIVE


def may_file_for(user: Any, credit_code: str) -> bool:
    """Whether ``user`` holds, now, a mandate to file for the enterprise (the
    representative's, or an agent's with the ``apply`` scope)."""
    mandate = ext.identity.mandate_of(user, credit_code)
    return mandate is not None and (mandate.role == ext.identity.MandateRole.REPRESENTATIVE
                                    or "apply" in (mandate.scopes or []))


def may_view_as_applicant(user: Any, app: Application) -> bool:
    """A person's own application; for an enterprise's (``acting_for``): its representative,
    or the agent who filed it while their mandate still holds the ``apply`` scope — a
    revoked, expired or narrowed mandate ends the agent's access to the enterprise's
    applications (review M3)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if not app.acting_for:
        return app.applicant_id == user.pk
    mandate = ext.identity.mandate_of(user, app.acting_for)
    if mandate is None:
        return False
    if mandate.role == ext.identity.MandateRole.REPRESENTATIVE:
        return True
    return app.applicant_id == user.pk and "apply" in (mandate.scopes or [])


_SCOPE = "_applications_scope"
MAX_UNIT_DEPTH = 5


@dataclass(frozen=True)
class Scope:
    """What an official handles: ``departments`` — the units they are members of (tasks
    there for ``positions``, or for anyone); ``supervised`` — the internal units (科室, any
    depth) of a department where they hold its leading position (the first in its order,
    its head), whose tasks they see and act on whatever position the task names."""

    departments: tuple[str, ...] = ()
    positions: tuple[str, ...] = ()
    supervised: tuple[str, ...] = ()

    def covers(self, department: str) -> bool:
        return department in self.departments or department in self.supervised


def _is_leading(membership: Any) -> bool:
    if membership.position_id is None:
        return False
    head = ext.orgs.positions_of(membership.department).values_list("pk", flat=True).first()
    return head == membership.position_id


def _scope_of(user: Any) -> Scope:
    departments: dict[str, None] = {}
    positions: set[str] = set()
    supervised: dict[str, None] = {}
    for membership in ext.orgs.memberships_of(user):
        departments.setdefault(membership.department.code)
        if membership.position is not None:
            positions.add(membership.position.code)
        if _is_leading(membership):
            for code in ext.orgs.units_below(membership.department, depth=MAX_UNIT_DEPTH):
                supervised.setdefault(code)
    return Scope(tuple(departments), tuple(sorted(positions)),
                 tuple(c for c in supervised if c not in departments))


def official_scope(user: Any) -> Scope:
    """The official's :class:`Scope`, from their memberships, kept on the user object for
    the rest of the request."""
    if not is_official(user):
        return Scope()
    kept = getattr(user, _SCOPE, None)
    cached = kept[1] if kept is not None and kept[0] == user.pk else None
    if cached is None:
        # Memberships, positions and units change rarely: the scope is kept per process
        # against the account's access_version (renewed by every change of them, see
        # identity.access_snapshot) and the day (memberships start and end on dates).
        cached = ext.identity.access_snapshot(user, _SCOPE, lambda: _scope_of(user))
        setattr(user, _SCOPE, (user.pk, cached))
    return cached


def department_codes(user: Any) -> list[str]:
    """The codes of the official's own units (direct memberships)."""
    return list(official_scope(user).departments)


def supervised_codes(user: Any) -> list[str]:
    """The internal units the official leads from their department's leading position."""
    return list(official_scope(user).supervised)


def position_codes(user: Any) -> list[str]:
    return list(official_scope(user).positions)


def may_handle(user: Any, app: Application) -> bool:
    """Whether an official may see and act on ``app``: a member of its department or of a
    unit with a task on it, or the leader of a department above such a unit. A member of
    a unit (科室) does not thereby handle the whole department's applications."""
    scope = official_scope(user)
    if not (scope.departments or scope.supervised):
        return False
    if scope.covers(app.department_code):
        return True
    codes = set(Task.objects.filter(application=app).values_list("department_code", flat=True))
    return any(scope.covers(code) for code in codes if code)


def may_act_on_task(user: Any, task: Task) -> bool:
    """A member of the task's unit (tasks name the unit that handles them) holding its
    position, if it names one; or the leader of a department above that unit."""
    scope = official_scope(user)
    if task.department_code in scope.supervised:
        return True
    if task.department_code not in scope.departments:
        return False
    return not task.position_code or task.position_code in scope.positions


def own_application(user: Any, app: Application) -> Application:
    if not may_view_as_applicant(user, app):
        raise PermissionDenied("not the applicant")
    return app
