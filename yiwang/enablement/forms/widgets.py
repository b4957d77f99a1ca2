"""What ``forms/render.html`` shows: each component prepared for its template (HTML names and
ids, current values as text, errors, options with their checked state), so the templates
stay free of logic. Names follow ``post.parse_post``; ids are the names with ``.``, ``[``
and ``]`` replaced, prefixed ``id_``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext

from yiwang.enablement.forms import components as C
from yiwang.enablement.forms.post import SIGNATURE_SUFFIX, UPLOAD_SUFFIX
from yiwang.enablement.forms.values import localised

_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
INPUT_TYPES = {"text": "text", "number": "text", "date": "date", "phone": "tel",
               "id_number": "text", "credit_code": "text"}
INPUT_MODES = {"number": "decimal", "phone": "tel"}
AUTOCOMPLETE = {"profile.name": "name", "profile.phone": "tel", "profile.email": "email"}


def html_id(name: str) -> str:
    return "id_" + _ID_UNSAFE.sub("__", name).strip("_")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value) if not isinstance(value, (dict, list)) else ""


def _json(rule: Any) -> str:
    return json.dumps(rule, ensure_ascii=False, separators=(",", ":"))


class _Builder:
    def __init__(self, data: Mapping[str, Any], errors: Mapping[str, Any], prefix: str):
        self.data = data if isinstance(data, Mapping) else {}
        self.errors = {str(k): [str(m) for m in (v if isinstance(v, list) else [v])]
                       for k, v in (errors or {}).items()}
        self.prefix = prefix
        self.summary: list[dict[str, str]] = []
        self.shown: set[str] = set()

    def errors_at(self, path: str, anchor: str) -> list[str]:
        self.shown.add(path)
        found = self.errors.get(path, [])
        for message in found:
            self.summary.append({"message": message, "anchor": anchor})
        return found

    def scalar(self, comp: dict[str, Any], name: str, value: Any, path: str) -> dict[str, Any]:
        kind = comp["type"]
        item: dict[str, Any] = {
            "type": kind, "key": comp.get("key", ""), "name": name, "id": html_id(name),
            "label": localised(comp, "label"), "help": localised(comp, "help"),
            "required": bool(comp.get("required")), "placeholder": comp.get("placeholder", ""),
            "value": _text(value), "input_type": INPUT_TYPES.get(kind, "text"),
            "inputmode": INPUT_MODES.get(kind, ""), "unit": localised(comp, "unit"),
            "calculated": "calculate" in comp,
            "calculate": _json(comp["calculate"]) if "calculate" in comp else "",
            "conditional": _json(comp["conditional"]) if "conditional" in comp else "",
            "autocomplete": AUTOCOMPLETE.get(comp.get("prefill", ""), "off"),
            "rows": comp.get("rows", 4),
        }
        item["errors"] = self.errors_at(path, item["id"])
        limit = comp.get("validate", {}).get("max_length") or C.TEXT_LIMIT.get(kind)
        item["maxlength"] = limit or (18 if kind in ("id_number", "credit_code") else 40)
        if kind == "choice":
            chosen = value if isinstance(value, list) else [value]
            item["multiple"] = bool(comp.get("multiple"))
            item["widget"] = comp.get("widget") or ("checkbox" if item["multiple"] else
                                                    "radio" if len(comp["options"]) <= 4
                                                    else "select")
            item["options"] = [{"value": o["value"], "label": localised(o, "label"),
                                "checked": o["value"] in chosen,
                                "id": f"{item['id']}__{i}"}
                               for i, o in enumerate(comp.get("options", []))]
        return item

    def field(self, comp: dict[str, Any]) -> dict[str, Any]:
        kind = comp["type"]
        key = comp.get("key", "")
        name = self.prefix + key
        if kind == "section":
            return {"type": kind, "key": key, "id": html_id(name),
                    "label": localised(comp, "label"), "help": localised(comp, "help"),
                    "conditional": _json(comp["conditional"]) if "conditional" in comp else "",
                    "children": [self.field(c) for c in comp.get("components", [])]}
        if kind == "content":
            text = localised(comp, "text")
            return {"type": kind, "key": key, "id": html_id(name),
                    "label": localised(comp, "label"),
                    "paragraphs": [p for p in text.split("\n") if p.strip()],
                    "conditional": _json(comp["conditional"]) if "conditional" in comp else ""}
        value = self.data.get(key)
        item = self.scalar(comp, name, value, key)
        if kind == "address":
            value = value if isinstance(value, dict) else {}
            item["region"] = _text(value.get("region"))
            item["detail"] = _text(value.get("detail"))
            item["within"] = comp.get("validate", {}).get("within", "")
            item["region_errors"] = self.errors_at(f"{key}.region", item["id"] + "__region")
            item["detail_errors"] = self.errors_at(f"{key}.detail", item["id"] + "__detail")
        elif kind == "map_point":
            value = value if isinstance(value, dict) else {}
            item["lng"], item["lat"] = _text(value.get("lng")), _text(value.get("lat"))
            item["within"] = comp.get("validate", {}).get("within", "")
            item["part_errors"] = (self.errors_at(f"{key}.lng", item["id"] + "__lng")
                                   + self.errors_at(f"{key}.lat", item["id"] + "__lat"))
        elif kind == "file":
            tokens = value if isinstance(value, list) else ([value] if value else [])
            item["tokens"] = [{"token": t, "id": f"{item['id']}__t{i}",
                               "label": gettext("已上传的文件 %(n)d") % {"n": i + 1}}
                              for i, t in enumerate(tokens) if isinstance(t, str)]
            item["upload_name"] = name + UPLOAD_SUFFIX
            item["accept"] = ",".join(comp.get("accept", C.UPLOAD_TYPES))
            item["max_files"] = comp.get("max_files", C.DEFAULT_MAX_FILES)
            item["max_mb"] = round(comp.get("max_bytes", C.DEFAULT_MAX_BYTES) / 1048576, 1)
        elif kind == "signature":
            item["token"] = _text(value) if isinstance(value, str) else ""
            item["png_name"] = name + SIGNATURE_SUFFIX
        elif kind == "table":
            self._table(comp, item, value)
        return item

    def _table(self, comp: dict[str, Any], item: dict[str, Any], value: Any) -> None:
        key, name = comp["key"], self.prefix + comp["key"]
        rows = [r for r in value if isinstance(r, dict)] if isinstance(value, list) else []
        limit = comp.get("max_rows", C.DEFAULT_MAX_ROWS)
        columns = comp.get("components", [])
        item["columns"] = [{"label": localised(c, "label"), "required": bool(c.get("required")),
                            "unit": localised(c, "unit")} for c in columns]
        item["max_rows"] = limit
        item["min_rows"] = comp.get("min_rows", 0)
        blank = max(item["min_rows"] - len(rows), 1 if len(rows) < limit else 0)
        item["rows"] = [self._row(columns, name, key, i, row)
                        for i, row in enumerate([*rows, *({} for _ in range(blank))])]
        # The template row JavaScript clones; __index__ is replaced by the row number.
        saved = self.summary
        self.summary = []
        item["row_template"] = self._row(columns, name, key, "__index__", {})
        self.summary = saved
        item["cell_errors"] = any(p.startswith(f"{key}[") for p in self.errors)

    def _row(self, columns: list[dict[str, Any]], name: str, key: str, index: Any,
             row: Mapping[str, Any]) -> dict[str, Any]:
        cells = []
        for column in columns:
            cell_name = f"{name}[{index}].{column['key']}"
            cell = self.scalar(column, cell_name, row.get(column["key"]),
                               f"{key}[{index}].{column['key']}")
            cells.append(cell)
        number = index + 1 if isinstance(index, int) else "__number__"
        return {"index": index, "number": number, "cells": cells}


def prepare(definition: Mapping[str, Any], data: Mapping[str, Any] | None,
            errors: Mapping[str, Any] | None, prefix: str = "") -> dict[str, Any]:
    """The render context of a form: ``fields`` (tree), ``summary`` (errors with anchors)."""
    builder = _Builder(data or {}, errors or {}, prefix or "")
    components = definition.get("components", []) if isinstance(definition, Mapping) else []
    fields = [builder.field(c) for c in components if isinstance(c, dict)
              and c.get("type") in C.TYPES]
    # Errors of no rendered input (an unknown key, a whole table row) go to the summary.
    general = [m for path, messages in builder.errors.items() if path not in builder.shown
               for m in messages]
    return {"fields": fields, "summary": builder.summary,
            "general_errors": general, "prefix": prefix or ""}
