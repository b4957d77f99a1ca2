"""What the perception app's modules share: field errors and the owner-department check."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from yiwang.platform.orgs import service as orgs


def field_error(message: str, code: str, field: str | None = None) -> ValidationError:
    """A ValidationError for ``field`` (or for the whole input when None)."""
    error = ValidationError(message, code=code)
    return ValidationError({field: [error]}) if field else error


def check_department(code: str) -> None:
    """Refuse an owner department that does not exist or is inactive."""
    department = orgs.get_department(code)
    if department is None or not department.active:
        raise field_error(_("部门 %(code)s 不存在或已停用") % {"code": code}, "no_department",
                          "department_code")
