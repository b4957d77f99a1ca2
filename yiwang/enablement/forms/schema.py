"""The JSON Schema (2020-12) of a form's data, for API clients.

It describes the canonical data (what ``validate_submission`` returns and what an API client
should send): types, formats, enumerations, lengths, ranges, rows, and the fields required
whatever else is answered. Conditions, calculations, custom JSON Logic rules, date bounds,
checksums of ID numbers and credit codes, and the existence of regions are checked by the
server only; the schema's ``description`` says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from yiwang.enablement.forms import components as C
from yiwang.enablement.forms.submission import _fields
from yiwang.enablement.forms.values import TOKEN_RE

DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID_NUMBER_PATTERN = r"^[0-9]{17}[0-9X]$"
CREDIT_CODE_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"
PHONE_PATTERNS = {
    "mobile": r"^1[3-9][0-9]{9}$",
    "landline": r"^0[0-9]{2,3}-?[0-9]{7,8}(-[0-9]{1,6})?$",
}
DESCRIPTION = ("Data of a yiwang form. The server also checks what JSON Schema cannot express: "
               "conditions (hidden fields are dropped), calculated fields (recomputed), custom "
               "rules, date bounds, ID-number and credit-code checksums, region existence.")


def _phone_pattern(kind: str) -> str:
    if kind in PHONE_PATTERNS:
        return PHONE_PATTERNS[kind]
    return "|".join(f"(?:{p})" for p in PHONE_PATTERNS.values())


def _scalar(comp: dict[str, Any]) -> dict[str, Any]:
    kind = comp["type"]
    rules = comp.get("validate", {})
    if kind in ("text", "textarea"):
        limit = min(rules.get("max_length") or C.TEXT_LIMIT[kind], C.MAX_TEXT_LIMIT[kind])
        schema: dict[str, Any] = {"type": "string", "minLength": max(1, rules.get(
            "min_length", 1)), "maxLength": limit}
        if rules.get("pattern"):
            schema["pattern"] = f"^(?:{rules['pattern']})$"
        return schema
    if kind == "number":
        schema = {"type": "integer" if rules.get("integer") else "number"}
        if "min" in rules:
            schema["minimum"] = rules["min"]
        if "max" in rules:
            schema["maximum"] = rules["max"]
        return schema
    if kind == "date":
        return {"type": "string", "format": "date", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
    if kind == "choice":
        values = [o["value"] for o in comp.get("options", [])]
        if comp.get("multiple"):
            schema = {"type": "array", "items": {"enum": values}, "uniqueItems": True,
                      "minItems": max(1, rules.get("min_items", 1))}
            if "max_items" in rules:
                schema["maxItems"] = rules["max_items"]
            return schema
        return {"type": "string", "enum": values}
    if kind == "id_number":
        return {"type": "string", "pattern": ID_NUMBER_PATTERN,
                "description": "GB 11643 居民身份证号码"}
    if kind == "credit_code":
        return {"type": "string", "pattern": CREDIT_CODE_PATTERN,
                "description": "GB 32100 统一社会信用代码"}
    if kind == "phone":
        return {"type": "string", "pattern": _phone_pattern(rules.get("kind", "any"))}
    if kind == "address":
        return {"type": "object", "additionalProperties": False, "required": ["region"],
                "properties": {
                    "region": {"type": "string", "pattern": r"^[0-9]{12}$",
                               "description": "行政区划代码 (GB/T 2260 + 统计用区划代码)"},
                    "detail": {"type": "string", "maxLength": 200}}}
    if kind == "map_point":
        return {"type": "object", "additionalProperties": False, "required": ["lng", "lat"],
                "properties": {"lng": {"type": "number", "minimum": -180, "maximum": 180},
                               "lat": {"type": "number", "minimum": -90, "maximum": 90}},
                "description": "WGS-84"}
    token = {"type": "string", "pattern": TOKEN_RE.pattern,
             "description": "upload token (POST the file to the uploads endpoint first)"}
    if kind == "signature":
        return token
    if kind == "file":
        return {"type": "array", "items": token, "uniqueItems": True,
                "minItems": max(1, rules.get("min_files", 1)),
                "maxItems": comp.get("max_files", C.DEFAULT_MAX_FILES)}
    raise AssertionError(kind)  # pragma: no cover


def _annotated(comp: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    schema = {"title": comp.get("label", ""), **schema}
    if comp.get("label_en"):
        schema["x-title-en"] = comp["label_en"]
    if comp.get("help"):
        schema["description"] = comp["help"]
    if "calculate" in comp:
        schema["readOnly"] = True
    return schema


def _table(comp: dict[str, Any]) -> dict[str, Any]:
    columns = comp.get("components", [])
    row = {"type": "object", "additionalProperties": False,
           "properties": {c["key"]: _annotated(c, _scalar(c)) for c in columns},
           "required": [c["key"] for c in columns if c.get("required")
                        and "conditional" not in c and "calculate" not in c]}
    low = max(comp.get("min_rows", 0), 1)
    return {"type": "array", "items": row, "minItems": low,
            "maxItems": min(comp.get("max_rows", C.DEFAULT_MAX_ROWS), C.MAX_MAX_ROWS)}


def to_json_schema(definition: Mapping[str, Any]) -> dict[str, Any]:
    """See ``service.to_json_schema``."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for field in _fields(definition.get("components")):
        comp = field.comp
        schema = _table(comp) if comp["type"] == "table" else _scalar(comp)
        properties[comp["key"]] = _annotated(comp, schema)
        if comp.get("required") and not field.conditions and "calculate" not in comp:
            required.append(comp["key"])
    return {"$schema": DIALECT, "type": "object", "description": DESCRIPTION,
            "additionalProperties": False, "properties": properties, "required": required}
