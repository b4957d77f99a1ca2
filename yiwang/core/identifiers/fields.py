"""Form fields and validators for resident ID numbers and unified social credit codes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from yiwang.core.identifiers.service import (
    InvalidIdentifier,
    validate_credit_code,
    validate_id_number,
)


def _as_validation_error(exc: InvalidIdentifier) -> ValidationError:
    # The code is the failing part, so forms and APIs can tell a wrong check character
    # from a wrong birth date; the message stays translatable.
    return ValidationError(exc.template, code=exc.part, params=exc.params or None)


def validate_id_number_django(value: Any) -> None:
    """Django validator: raise ``ValidationError`` (code = failing part) for a bad ID number."""
    try:
        validate_id_number(value)
    except InvalidIdentifier as exc:
        raise _as_validation_error(exc) from None


def validate_credit_code_django(value: Any) -> None:
    """Django validator: raise ``ValidationError`` (code = failing part) for a bad credit code."""
    try:
        validate_credit_code(value)
    except InvalidIdentifier as exc:
        raise _as_validation_error(exc) from None


class IdNumberFormField(forms.CharField):
    """A resident ID number (居民身份证号码); cleans to the normalised 18 characters."""

    default_error_messages = {"required": _("请输入身份证号码")}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 40)  # room for pasted whitespace, which is stripped
        kwargs.setdefault("label", _("身份证号码"))
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("autocomplete", "off")
        self.widget.attrs.setdefault("spellcheck", "false")
        self.widget.attrs.setdefault("inputmode", "text")

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        if value in self.empty_values:
            return ""
        try:
            return validate_id_number(value).value
        except InvalidIdentifier as exc:
            raise _as_validation_error(exc) from None


class CreditCodeFormField(forms.CharField):
    """A unified social credit code (统一社会信用代码); cleans to the upper-case 18 characters."""

    default_error_messages = {"required": _("请输入统一社会信用代码")}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("label", _("统一社会信用代码"))
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("autocomplete", "off")
        self.widget.attrs.setdefault("spellcheck", "false")

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        if value in self.empty_values:
            return ""
        try:
            return validate_credit_code(value).value
        except InvalidIdentifier as exc:
            raise _as_validation_error(exc) from None
