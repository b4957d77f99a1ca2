"""Forms of the sign-in screens: what each field accepts and how it is labelled.

Inputs carry the attributes that make them easy to fill in on any device: ``autocomplete``
(so password managers and phones offer the right thing, including ``one-time-code`` for SMS
codes), ``inputmode="numeric"`` for codes, no spell-checking or capitalisation of names and
numbers. A field with an error is marked ``aria-invalid`` and described by its message.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core import validators
from django.utils.translation import gettext_lazy as _

from yiwang.support.identity import accounts, otp


def _text(**attrs: Any) -> forms.TextInput:
    return forms.TextInput(attrs={"class": "input", "spellcheck": "false",
                                  "autocapitalize": "none", **attrs})


def _password(autocomplete: str) -> forms.PasswordInput:
    return forms.PasswordInput(attrs={"class": "input", "autocomplete": autocomplete})


class AccessibleForm(forms.Form):
    """Django (5.2) marks a field with errors ``aria-invalid`` and points its
    ``aria-describedby`` at ``<id>_helptext`` and ``<id>_error``, which
    ``identity/signin/_field.html`` renders — also for errors added after cleaning."""


def _code_field(label: Any = None) -> forms.CharField:
    return forms.CharField(
        label=label or _("短信验证码"), max_length=12,
        error_messages={"required": _("请输入短信中的 6 位数字验证码。")},
        widget=_text(autocomplete="one-time-code", inputmode="numeric", pattern="[0-9]*",
                     maxlength="6", **{"class": "input input--id"}))


class PasswordLoginForm(AccessibleForm):
    login = forms.CharField(
        label=_("手机号码或用户名"), max_length=150,
        error_messages={"required": _("请输入手机号码或用户名。")},
        widget=_text(autocomplete="username"))
    password = forms.CharField(
        label=_("密码"), strip=False, max_length=4096,
        error_messages={"required": _("请输入密码。")},
        widget=_password("current-password"))


class PhoneForm(AccessibleForm):
    phone = forms.CharField(
        label=_("手机号码"), max_length=32,
        help_text=_("中国大陆手机号码，例如 13812345678。"),
        error_messages={"required": _("请输入手机号码。")},
        widget=forms.TextInput(attrs={"class": "input input--id", "type": "tel",
                                      "autocomplete": "tel-national", "inputmode": "tel",
                                      "spellcheck": "false"}))

    def clean_phone(self) -> str:
        return accounts.validate_phone(self.cleaned_data["phone"])


class CodeForm(AccessibleForm):
    code = _code_field()

    def clean_code(self) -> str:
        code = otp.normalise(self.cleaned_data["code"])
        if len(code) != otp.CODE_LENGTH or not code.isascii() or not code.isdigit():
            raise forms.ValidationError(otp.MESSAGES["format"], code="format")
        return code


class RegisterForm(CodeForm):
    username = forms.CharField(
        label=_("用户名（选填）"), max_length=30, required=False,
        help_text=_("4 至 30 位英文字母、数字或 _ . -,以字母开头。不填则由系统生成，"
                    "您也可以一直用手机号码登录。"),
        widget=_text(autocomplete="username"))
    password1 = forms.CharField(
        label=_("设置密码"), strip=False, max_length=4096,
        help_text=_("至少 10 个字符，不能全是数字，不能是常见密码，也不能包含手机号码。"),
        error_messages={"required": _("请设置密码。")},
        widget=_password("new-password"))
    password2 = forms.CharField(
        label=_("再次输入密码"), strip=False, max_length=4096,
        error_messages={"required": _("请再次输入密码。")},
        widget=_password("new-password"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        one, two = data.get("password1"), data.get("password2")
        if one and two and one != two:
            self.add_error("password2", _("两次输入的密码不一致。"))
        return data


class RealNameForm(AccessibleForm):
    name = forms.CharField(
        label=_("姓名"), max_length=64,
        help_text=_("与身份证上的写法一致。"),
        error_messages={"required": _("请输入您身份证上的姓名。")},
        widget=forms.TextInput(attrs={"class": "input", "autocomplete": "name",
                                      "spellcheck": "false"}))
    id_number = forms.CharField(
        label=_("公民身份号码"), max_length=32,
        help_text=_("18 位，最后一位可能是 X。"),
        error_messages={"required": _("请输入 18 位公民身份号码。")},
        widget=_text(autocomplete="off", **{"class": "input input--id"}))


class PasswordChangeForm(AccessibleForm):
    old_password = forms.CharField(
        label=_("当前密码"), strip=False, max_length=4096, required=False,
        widget=_password("current-password"))
    new_password1 = forms.CharField(
        label=_("新密码"), strip=False, max_length=4096,
        help_text=_("至少 10 个字符，不能全是数字，不能是常见密码，也不能包含手机号码。"),
        error_messages={"required": _("请输入新密码。")},
        widget=_password("new-password"))
    new_password2 = forms.CharField(
        label=_("再次输入新密码"), strip=False, max_length=4096,
        error_messages={"required": _("请再次输入新密码。")},
        widget=_password("new-password"))

    def __init__(self, *args: Any, need_old: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.need_old = need_old
        if not need_old:
            del self.fields["old_password"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.need_old and not data.get("old_password"):
            self.add_error("old_password", _("请输入当前密码。"))
        one, two = data.get("new_password1"), data.get("new_password2")
        if one and two and one != two:
            self.add_error("new_password2", _("两次输入的密码不一致。"))
        return data


class SecondFactorForm(AccessibleForm):
    """A code of the chosen factor: TOTP, SMS, recovery code or the password."""

    code = forms.CharField(
        label=_("验证码"), max_length=64, strip=True,
        error_messages={"required": _("请输入验证码。")},
        widget=_text(autocomplete="one-time-code", inputmode="numeric", pattern="[0-9]*",
                     maxlength="6", **{"class": "input input--id"}))

    def __init__(self, *args: Any, method: str = "totp", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["code"]
        if method == "recovery":
            field.label = _("恢复码")
            field.error_messages["required"] = _("请输入一个恢复码。")
            field.widget = _text(autocomplete="off", **{"class": "input input--id"})
        elif method == "password":
            field.label = _("密码")
            field.strip = False
            field.max_length = 4096
            # The code field's own length validator (set in __init__) must go too.
            field.validators = [v for v in field.validators
                                if not isinstance(v, validators.MaxLengthValidator)]
            field.widget.attrs.pop("maxlength", None)
            field.error_messages["required"] = _("请输入密码。")
            field.widget = _password("current-password")
        elif method == "sms":
            field.label = _("短信验证码")
        else:
            field.label = _("动态口令")
            field.help_text = _("身份验证器应用中显示的 6 位数字。")
