"""Who may see and act on an application.

- A citizen sees the applications they filed. An enterprise's agent (经办人) files for the
  enterprise with a live mandate holding the ``apply`` scope and sees those they filed; the
  enterprise's legal representative sees every application filed for it.
- An official sees and handles the applications of their departments (the department that
  accepted it, or one with a task on it) — never another department's.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from yiwang.industry.applications import integration as ext
from yiwang.industry.applications.models import Application, Task

HANDLE_PERMISSION = "applications.handle_application"


def is_official(user: Any) -> bool:
    """A staff account holding 办理办件 — checked here, so the workbench pages and the
    internal API apply the same rule."""
    return bool(user and user.is_authenticated and user.is_active and user.is_staff
                and user.has_perm(HANDLE_PERMISSION))


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


def official_scope(user: Any) -> tuple[list[str], list[str]]:
    """The official's department codes and position codes, from one query of their
    memberships, kept on the user object for the rest of the request."""
    if not is_official(user):
        return [], []
    cached = getattr(user, _SCOPE, None)
    if cached is None:
        departments: dict[str, None] = {}
        positions: set[str] = set()
        rows = ext.orgs.memberships_of(user).values_list("department__code", "position__code")
        for department, position in rows:
            departments.setdefault(department)
            if position:
                positions.add(position)
        cached = (list(departments), sorted(positions))
        setattr(user, _SCOPE, cached)
    return cached


def department_codes(user: Any) -> list[str]:
    """The codes of the official's departments."""
    return official_scope(user)[0]


def position_codes(user: Any) -> list[str]:
    return official_scope(user)[1]


def may_handle(user: Any, app: Application) -> bool:
    """Whether an official may see and act on ``app``: a member of its department or of a
    department with a task on it."""
    if not is_official(user):
        return False
    codes = {app.department_code} | set(
        Task.objects.filter(application=app).values_list("department_code", flat=True))
    return any(ext.orgs.is_member(user, code) for code in codes if code)


def may_act_on_task(user: Any, task: Task) -> bool:
    """A member of the task's department (directly: tasks name the unit that handles them)
    holding its position, if it names one."""
    departments, positions = official_scope(user)
    if task.department_code not in departments:
        return False
    return not task.position_code or task.position_code in positions


def own_application(user: Any, app: Application) -> Application:
    if not may_view_as_applicant(user, app):
        raise PermissionDenied("not the applicant")
    return app
