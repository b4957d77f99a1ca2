"""The allow-listed component types of a form and the properties each may carry.

A property is one of a few kinds (``PropKind``); ``definition.check_definition`` checks a
component against the spec of its type and fills in defaults. Keeping the spec as data
lets the builder, the JSON Schema export and the checks agree on one list.
"""

from __future__ import annotations

from typing import Final, Literal

PropKind = Literal[
    "str", "text", "bool", "int", "number", "logic", "options", "components", "validate",
    "prefill", "mimes", "region",
]

# Palette order of the builder.
TYPES: Final[tuple[str, ...]] = (
    "text", "textarea", "number", "date", "choice", "id_number", "credit_code", "phone",
    "address", "map_point", "file", "signature", "table", "section", "content",
)
# Components that hold a value in the data (the others are layout).
VALUE_TYPES: Final = frozenset(TYPES) - {"section", "content"}
LAYOUT_TYPES: Final = frozenset({"section", "content"})
# Types a table column may have: one scalar per cell.
CELL_TYPES: Final = frozenset({"text", "textarea", "number", "date", "choice", "id_number",
                               "credit_code", "phone"})
# Types whose value may be calculated (a formula, shown read-only).
CALCULABLE_TYPES: Final = frozenset({"text", "textarea", "number", "date"})
FILE_TYPES: Final = frozenset({"file", "signature"})

# What an upload may be (the uploads app sniffs the real type; this is what the form asks).
UPLOAD_TYPES: Final = ("image/jpeg", "image/png", "application/pdf")
DEFAULT_MAX_BYTES: Final = 10 * 1024 * 1024
MAX_MAX_BYTES: Final = 20 * 1024 * 1024
SIGNATURE_MAX_BYTES: Final = 512 * 1024
DEFAULT_MAX_FILES: Final = 5
MAX_MAX_FILES: Final = 20
DEFAULT_MAX_ROWS: Final = 50
MAX_MAX_ROWS: Final = 200
# Hard limits on typed text, whatever the definition says.
TEXT_LIMIT: Final = {"text": 200, "textarea": 5000}
MAX_TEXT_LIMIT: Final = {"text": 1000, "textarea": 20000}
MAX_OPTIONS: Final = 200
MAX_COMPONENTS: Final = 300
MAX_NUMBER: Final = 1e15

_COMMON: Final[dict[str, PropKind]] = {
    "type": "str", "key": "str", "label": "str", "label_en": "str",
    "help": "text", "help_en": "text", "conditional": "logic",
}
_FIELD: Final[dict[str, PropKind]] = {
    **_COMMON, "required": "bool", "validate": "validate", "prefill": "prefill",
    "placeholder": "str",
}

PROPS: Final[dict[str, dict[str, PropKind]]] = {
    "text": {**_FIELD, "calculate": "logic"},
    "textarea": {**_FIELD, "calculate": "logic", "rows": "int"},
    "number": {**_FIELD, "calculate": "logic", "unit": "str", "unit_en": "str"},
    "date": {**_FIELD, "calculate": "logic"},
    "choice": {**_FIELD, "options": "options", "multiple": "bool", "widget": "str"},
    "id_number": dict(_FIELD),
    "credit_code": dict(_FIELD),
    "phone": dict(_FIELD),
    "address": dict(_FIELD),
    "map_point": dict(_FIELD),
    "file": {**_FIELD, "accept": "mimes", "max_bytes": "int", "max_files": "int",
             "material": "str"},
    "signature": {**_FIELD, "max_bytes": "int", "material": "str"},
    "table": {**_FIELD, "components": "components", "min_rows": "int", "max_rows": "int"},
    "section": {**_COMMON, "components": "components"},
    "content": {**_COMMON, "text": "text", "text_en": "text"},
}

# Keys allowed inside ``validate``, per type (all types also accept rule/message/message_en).
VALIDATE_KEYS: Final[dict[str, dict[str, str]]] = {
    "text": {"min_length": "int", "max_length": "int", "pattern": "str",
             "pattern_message": "str", "pattern_message_en": "str"},
    "textarea": {"min_length": "int", "max_length": "int"},
    "number": {"min": "number", "max": "number", "integer": "bool", "decimals": "int"},
    "date": {"min": "date", "max": "date"},
    "choice": {"min_items": "int", "max_items": "int"},
    "id_number": {"min_age": "int", "max_age": "int"},
    "credit_code": {},
    "phone": {"kind": "str"},
    "address": {"within": "region", "min_level": "str"},
    "map_point": {"within": "region"},
    "file": {"min_files": "int"},
    "signature": {},
    "table": {},
}
VALIDATE_COMMON: Final = {"rule": "logic", "message": "str", "message_en": "str"}
PHONE_KINDS: Final = ("any", "mobile", "landline")
CHOICE_WIDGETS: Final = ("select", "radio", "checkbox")
ADDRESS_LEVELS: Final = ("province", "city", "district", "street", "community")


def type_labels() -> dict[str, str]:
    """The palette names of the component types, in the active language."""
    from django.utils.translation import gettext

    return {
        "text": gettext("单行文字"), "textarea": gettext("多行文字"), "number": gettext("数字"),
        "date": gettext("日期"), "choice": gettext("选项"), "id_number": gettext("身份证号码"),
        "credit_code": gettext("统一社会信用代码"), "phone": gettext("电话"),
        "address": gettext("地址"), "map_point": gettext("地图位置"), "file": gettext("附件材料"),
        "signature": gettext("手写签名"), "table": gettext("表格"), "section": gettext("分组"),
        "content": gettext("说明文字"),
    }
