from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from yiwang.entry.workbench.access import is_official


class OfficialAuthenticationForm(AuthenticationForm):
    """Sign-in of the workbench: only officials' accounts may open a session here."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "not_official": _("此账户不是公职人员账户,不能登录工作台。"),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("用户名")
        self.fields["password"].label = _("密码")

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if not is_official(user):
            raise forms.ValidationError(self.error_messages["not_official"], code="not_official")
