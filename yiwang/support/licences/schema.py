"""Checking a licence's fields against its type's field schema (a JSON Schema subset).

Each field of ``LicenceType.schema["fields"]`` has a ``key``, a ``label``, a ``type``
(``string``, ``date``, ``integer``), ``required``, and optionally a ``format``
(``id_number``, ``credit_code``, ``date``), an ``enum`` and a ``maxLength``. Unknown keys are
refused, so that nothing the type does not declare ends up on a licence. Every failure names
the field, in Chinese, so the official can correct it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from yiwang.core.identifiers.service import (
    InvalidIdentifier,
    validate_credit_code,
    validate_id_number,
)

FIELD_TYPES = ("string", "date", "integer")
FORMATS = ("id_number", "credit_code", "date")


def fields_of(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The field definitions of a schema, in order."""
    return list(schema.get("fields") or [])


def check_schema(schema: dict[str, Any]) -> None:
    """Refuse a malformed schema (for administrators editing a type)."""
    seen: set[str] = set()
    for field in fields_of(schema):
        key = field.get("key")
        if not isinstance(key, str) or not key.isidentifier() or key in seen:
            raise ValidationError(_("字段定义有误:字段代码 %(key)s 无效或重复。"),
                                  params={"key": key})
        seen.add(key)
        if field.get("type", "string") not in FIELD_TYPES:
            raise ValidationError(_("字段 %(key)s 的类型无效。"), params={"key": key})
        if field.get("format") and field["format"] not in FORMATS:
            raise ValidationError(_("字段 %(key)s 的格式无效。"), params={"key": key})


def _clean_one(field: dict[str, Any], value: Any) -> Any:
    label = field.get("label") or field["key"]
    kind = field.get("type", "string")
    fmt = field.get("format", "")
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ValidationError(_("“%(label)s”应为整数。"), params={"label": label})
        try:
            return int(value)
        except ValueError:
            raise ValidationError(_("“%(label)s”应为整数。"), params={"label": label}) from None
    if isinstance(value, date):
        value = value.isoformat()
    if not isinstance(value, str):
        raise ValidationError(_("“%(label)s”应为文字。"), params={"label": label})
    value = " ".join(value.split())
    if kind == "date" or fmt == "date":
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise ValidationError(_("“%(label)s”应为日期,格式如 2024-05-01。"),
                                  params={"label": label}) from None
    if fmt == "id_number":
        try:
            return validate_id_number(value).value
        except InvalidIdentifier as exc:
            raise ValidationError(_("“%(label)s”:%(problem)s"),
                                  params={"label": label, "problem": exc.message}) from None
    if fmt == "credit_code":
        try:
            return validate_credit_code(value).value
        except InvalidIdentifier as exc:
            raise ValidationError(_("“%(label)s”:%(problem)s"),
                                  params={"label": label, "problem": exc.message}) from None
    if field.get("enum") and value not in field["enum"]:
        raise ValidationError(_("“%(label)s”只能是:%(choices)s。"),
                              params={"label": label, "choices": "、".join(field["enum"])})
    limit = int(field.get("maxLength") or 0)
    if limit and len(value) > limit:
        raise ValidationError(_("“%(label)s”最多 %(max)s 个字。"),
                              params={"label": label, "max": limit})
    return value


def validate_fields(schema: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The cleaned values of ``values`` under ``schema`` (dates ISO, ID numbers upper case).

    Raises ``ValidationError`` with one message per failing field (keyed by field)."""
    if not isinstance(values, dict):
        raise ValidationError(_("照面信息格式有误。"))
    known = {f["key"]: f for f in fields_of(schema)}
    errors: dict[str, list[ValidationError]] = {}
    unknown = sorted(set(values) - set(known))
    if unknown:
        errors["__all__"] = [ValidationError(_("证照类型没有这些字段:%(keys)s。"),
                                             params={"keys": "、".join(unknown)})]
    cleaned: dict[str, Any] = {}
    for key, field in known.items():
        value = values.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if field.get("required", False):
                errors[key] = [ValidationError(_("请填写“%(label)s”。"),
                                               params={"label": field.get("label") or key})]
            continue
        try:
            cleaned[key] = _clean_one(field, value)
        except ValidationError as exc:
            errors[key] = [exc]
    if errors:
        raise ValidationError(errors)
    return cleaned


def holder_field(schema: dict[str, Any], role: str) -> str | None:
    """The key of the field filled from the holder (``role``: ``name`` or ``code``)."""
    for field in fields_of(schema):
        if field.get("holder") == role:
            return str(field["key"])
    return None


def personal_keys(schema: dict[str, Any]) -> set[str]:
    """Keys of the fields holding personal data (masked in lists and pages)."""
    return {f["key"] for f in fields_of(schema) if f.get("personal")}
