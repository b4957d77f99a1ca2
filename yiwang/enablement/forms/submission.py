"""Server-side validation of a submission, and the functions that read data against a form
(materials, prefill, display).

Order of work (``validate_submission``): structural check of every value sent (``values.coerce``);
then, in passes until stable, the visible values → table rows resolved → calculations →
visibility (a field whose ``conditional``, or whose section's, is false is hidden and its
value dropped, which can hide or show others); then, for a complete submission, the required,
format and custom-rule checks of the visible fields. Errors of hidden fields are discarded:
what a person cannot see cannot block them.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext

from yiwang.enablement.forms import components as C
from yiwang.enablement.forms.errors import SubmissionInvalid
from yiwang.enablement.forms.logic import apply_checked, references, shared_budget, truthy
from yiwang.enablement.forms.values import (
    Bad,
    calculated,
    check,
    coerce,
    english,
    is_empty,
    label,
    localised,
    prefetch_regions,
)
from yiwang.platform.regions import service as regions

MAX_UNKNOWN_REPORTED = 20
_CELL_RE = re.compile(r"^[a-z][a-z0-9_]*\[(?P<index>\d+)\]\.(?P<name>[a-z][a-z0-9_]*)$")
MAX_PASSES = 6

Errors = dict[str, list[str]]


@dataclass(frozen=True)
class _Field:
    comp: dict[str, Any]
    conditions: tuple[Any, ...]  # of the enclosing sections, then the field's own


def _fields(components: Any, conditions: tuple[Any, ...] = ()) -> list[_Field]:
    found: list[_Field] = []
    for comp in components or []:
        if not isinstance(comp, dict):
            continue
        own = (*conditions, comp["conditional"]) if "conditional" in comp else conditions
        if comp.get("type") == "section":
            found.extend(_fields(comp.get("components"), own))
        elif comp.get("type") in C.VALUE_TYPES and isinstance(comp.get("key"), str):
            found.append(_Field(comp, own))
    return found


def _shown(conditions: tuple[Any, ...], data: Mapping[str, Any]) -> bool:
    return all(truthy(apply_checked(rule, data)) for rule in conditions)


def _calc_order(comps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Calculated components, each after the calculated ones it uses (no cycles: checked)."""
    by_key = {c["key"]: c for c in comps}
    order: list[dict[str, Any]] = []
    done: set[str] = set()

    def visit(key: str, trail: frozenset[str]) -> None:
        if key in done or key in trail:
            return
        for dep in sorted(references(by_key[key]["calculate"])):
            if dep in by_key:
                visit(dep, trail | {key})
        done.add(key)
        order.append(by_key[key])

    for comp in comps:
        visit(comp["key"], frozenset())
    return order


def _path(key: str, sub: str | None = None) -> str:
    return f"{key}.{sub}" if sub else key


def _add(errors: Errors, path: str, message: str) -> None:
    messages = errors.setdefault(path, [])
    if message not in messages:
        messages.append(message)


# --- tables ------------------------------------------------------------------------------

def _coerce_table(comp: dict[str, Any], value: Any, key: str, errors: Errors
                  ) -> list[dict[str, Any]] | None:
    if value is None or value == []:
        return None
    if not isinstance(value, list):
        _add(errors, key, gettext("“%(label)s”须为表格行的列表") % {"label": label(comp)})
        return None
    limit = min(comp.get("max_rows", C.DEFAULT_MAX_ROWS), C.MAX_MAX_ROWS)
    if len(value) > limit:
        _add(errors, key, gettext("“%(label)s”最多 %(n)d 行，现在 %(count)d 行")
             % {"label": label(comp), "n": limit, "count": len(value)})
        return None
    columns = {c["key"]: c for c in comp.get("components", [])}
    rows: list[dict[str, Any]] = []
    for index, row in enumerate(value):
        where = f"{key}[{index}]"
        if not isinstance(row, dict):
            _add(errors, where, gettext("“%(label)s”第 %(n)d 行须为对象")
                 % {"label": label(comp), "n": index + 1})
            rows.append({})
            continue
        cleaned: dict[str, Any] = {}
        for name in list(row)[:MAX_UNKNOWN_REPORTED + len(columns)]:
            if name not in columns:
                _add(errors, f"{where}.{str(name)[:64]}",
                     gettext("“%(label)s”没有“%(name)s”这一列")
                     % {"label": label(comp), "name": str(name)[:64]})
        for name, column in columns.items():
            if name not in row or "calculate" in column:
                continue
            try:
                cell = coerce(column, row[name])
            except Bad as exc:
                _add(errors, f"{where}.{name}", _row_message(comp, index, exc.message))
                continue
            if cell is not None:
                cleaned[name] = cell
        rows.append(cleaned)
    return rows


def _row_message(table: dict[str, Any], index: int, message: str) -> str:
    return gettext("%(table)s第 %(n)d 行：%(message)s") % {
        "table": label(table), "n": index + 1, "message": message}


def _resolve_rows(comp: dict[str, Any], rows: list[dict[str, Any]], data: Mapping[str, Any]
                  ) -> list[dict[str, Any]]:
    columns = comp.get("components", [])
    calcs = _calc_order([c for c in columns if "calculate" in c])
    out = []
    for row in rows:
        current = dict(row)
        for column in calcs:
            result = calculated(column, apply_checked(column["calculate"], {**data, **current}))
            if result is None:
                current.pop(column["key"], None)
            else:
                current[column["key"]] = result
        context = {**data, **current}
        out.append({k: v for k, v in current.items()
                    if "conditional" not in (col := _column(columns, k))
                    or truthy(apply_checked(col["conditional"], context))})
    return out


def _column(columns: list[dict[str, Any]], key: str) -> dict[str, Any]:
    for column in columns:
        if column["key"] == key:
            return column
    return {}


def _check_table(comp: dict[str, Any], rows: list[dict[str, Any]] | None, key: str,
                 data: Mapping[str, Any], errors: Errors) -> list[dict[str, Any]] | None:
    count = len(rows or [])
    low = max(comp.get("min_rows", 0), 1 if comp.get("required") else 0)
    if count < low:
        _add(errors, key, gettext("“%(label)s”至少填写 %(n)d 行") % {"label": label(comp), "n": low}
             if count else gettext("请填写“%(label)s”") % {"label": label(comp)})
    columns = comp.get("components", [])
    for index, row in enumerate(rows or []):
        context = {**data, **row}
        for column in columns:
            name = column["key"]
            if "conditional" in column and not truthy(apply_checked(column["conditional"],
                                                                    context)):
                continue
            where = f"{key}[{index}].{name}"
            if where in errors:
                continue
            value = row.get(name)
            if is_empty(value):
                if column.get("required"):
                    _add(errors, where, _row_message(comp, index, _required(column)))
                continue
            try:
                row[name] = check(column, value)
            except Bad as exc:
                _add(errors, where, _row_message(comp, index, exc.message))
                continue
            rule = column.get("validate", {}).get("rule")
            if rule is not None and not truthy(apply_checked(rule, {**data, **row})):
                _add(errors, where, _row_message(comp, index,
                                                 localised(column["validate"], "message")))
    return rows


def _hidden_cell(comp: dict[str, Any], path: str, data: Mapping[str, Any]) -> bool:
    match = _CELL_RE.match(path)
    if not match:
        return False
    index, name = int(match["index"]), match["name"]
    column = _column(comp.get("components", []), name)
    rows = data.get(comp["key"]) or []
    if "conditional" not in column or index >= len(rows):
        return False
    return not truthy(apply_checked(column["conditional"], {**data, **rows[index]}))


def _required(comp: dict[str, Any]) -> str:
    kind = comp["type"]
    if kind == "choice":
        template = gettext("请选择“%(label)s”")
    elif kind == "file":
        template = gettext("请上传“%(label)s”")
    elif kind == "signature":
        template = gettext("请在“%(label)s”处签名")
    elif kind == "map_point":
        template = gettext("请在地图上选择“%(label)s”或填写经纬度")
    else:
        template = gettext("请填写“%(label)s”")
    return template % {"label": label(comp)}


# --- the submission ----------------------------------------------------------------------

def _resolve(fields: list[_Field], raw: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """Visible values with tables resolved and calculations done, and the visible keys."""
    calcs = _calc_order([f.comp for f in fields if "calculate" in f.comp])
    tables = [f.comp for f in fields if f.comp["type"] == "table"]
    visible = {f.comp["key"] for f in fields}
    current: dict[str, Any] = {}
    def calculate(current: dict[str, Any]) -> None:
        for comp in calcs:
            if comp["key"] not in visible:
                continue
            result = calculated(comp, apply_checked(comp["calculate"], current))
            if result is None:
                current.pop(comp["key"], None)
            else:
                current[comp["key"]] = result

    for _ in range(MAX_PASSES):
        current = {k: v for k, v in raw.items() if k in visible}
        # Form calculations before the rows (a column may use them) and after (a total may
        # sum a calculated column).
        calculate(current)
        for table in tables:
            key = table["key"]
            if current.get(key):
                current[key] = _resolve_rows(table, current[key], current)
        calculate(current)
        now_visible = {f.comp["key"] for f in fields if _shown(f.conditions, current)}
        if now_visible == visible:
            break
        visible = now_visible
    current = {k: v for k, v in current.items() if k in visible}
    return current, visible


def validate_submission(definition: Mapping[str, Any], data: Any, *, partial: bool = False,
                        present: Collection[str] = ()) -> dict[str, Any]:
    """See ``service.validate_submission``."""
    if not isinstance(data, dict):
        raise SubmissionInvalid({"__all__": [gettext("提交的数据须为 JSON 对象")]})
    fields = _fields(definition.get("components"))
    by_key = {f.comp["key"]: f for f in fields}
    errors: Errors = {}
    unknown = [k for k in data if k not in by_key]
    for name in unknown[:MAX_UNKNOWN_REPORTED]:
        _add(errors, str(name)[:64], gettext("表单中没有“%(name)s”这一项，请删除它")
             % {"name": str(name)[:64]})
    if len(unknown) > MAX_UNKNOWN_REPORTED:
        _add(errors, "__all__", gettext("提交的数据中有 %(n)d 项不属于这个表单")
             % {"n": len(unknown)})

    raw: dict[str, Any] = {}
    field_errors: dict[str, Errors] = {}
    for field in fields:
        comp, key = field.comp, field.comp["key"]
        if key not in data or "calculate" in comp:
            continue  # a calculated value from the client is never trusted
        own: Errors = {}
        if comp["type"] == "table":
            value = _coerce_table(comp, data[key], key, own)
        else:
            try:
                value = coerce(comp, data[key])
            except Bad as exc:
                _add(own, _path(key, exc.sub), exc.message)
                value = None
        if value is not None:
            raw[key] = value
        if own:
            field_errors[key] = own

    with shared_budget() as budget:
        current, visible = _resolve(fields, raw)
        with prefetch_regions(set() if partial else _region_codes(fields, current, visible)):
            _check_fields(fields, current, visible, field_errors, errors, partial=partial,
                          present=present)
    if budget.exhausted:  # review 2026-11-27 session 2, M3: bounded work per submission
        _add(errors, "__all__", gettext("这张表单的规则计算量超出上限，无法检查。"
                                        "请联系办理部门修改表单。"))
    if errors:
        raise SubmissionInvalid(errors)
    return {f.comp["key"]: current[f.comp["key"]] for f in fields
            if not is_empty(current.get(f.comp["key"]))}


def _region_codes(fields: list[_Field], current: Mapping[str, Any], visible: set[str]
                  ) -> set[str]:
    codes: set[str] = set()
    for field in fields:
        comp = field.comp
        if comp["type"] not in ("address", "map_point") or comp["key"] not in visible:
            continue
        if comp.get("validate", {}).get("within"):
            codes.add(comp["validate"]["within"])
        value = current.get(comp["key"])
        if comp["type"] == "address" and isinstance(value, dict) and value.get("region"):
            codes.add(value["region"])
    return codes


def _check_fields(fields: list[_Field], current: dict[str, Any], visible: set[str],
                  field_errors: dict[str, Errors], errors: Errors, *, partial: bool,
                  present: Collection[str]) -> None:
    for field in fields:
        comp, key = field.comp, field.comp["key"]
        if key not in visible:
            continue
        if key in field_errors:
            for path, messages in field_errors[key].items():
                if comp["type"] == "table" and _hidden_cell(comp, path, current):
                    continue
                for message in messages:
                    _add(errors, path, message)
            if comp["type"] != "table" or partial:
                continue
        if partial:
            continue
        value = current.get(key)
        if comp["type"] == "table":
            _check_table(comp, value, key, current, errors)
            if any(p == key or p.startswith(f"{key}[") for p in errors):
                continue
        elif is_empty(value):
            if comp.get("required") and key not in present:
                _add(errors, key, _required(comp) if "calculate" not in comp else
                     gettext("无法计算“%(label)s”，请先填写它依赖的项目") % {"label": label(comp)})
            continue
        else:
            try:
                current[key] = check(comp, value)
            except Bad as exc:
                _add(errors, _path(key, exc.sub), exc.message)
                continue
        rule = comp.get("validate", {}).get("rule")
        if rule is not None and not truthy(apply_checked(rule, current)):
            _add(errors, key, localised(comp["validate"], "message"))


# --- reading data against a form --------------------------------------------------------

def _visible_data(definition: Mapping[str, Any], data: Mapping[str, Any]
                  ) -> tuple[list[_Field], dict[str, Any], set[str]]:
    fields = _fields(definition.get("components"))
    raw: dict[str, Any] = {}
    for field in fields:
        key = field.comp["key"]
        if key in data and "calculate" not in field.comp:
            if field.comp["type"] == "table":
                value = _coerce_table(field.comp, data[key], key, {})
            else:
                try:
                    value = coerce(field.comp, data[key])
                except Bad:
                    value = None
            if value is not None:
                raw[key] = value
    current, visible = _resolve(fields, raw)
    return fields, current, visible


def file_fields(definition: Mapping[str, Any], data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """See ``service.file_fields``."""
    fields, _current, visible = _visible_data(definition, data if isinstance(data, dict) else {})
    out = []
    for field in fields:
        comp = field.comp
        if comp["type"] not in C.FILE_TYPES or comp["key"] not in visible:
            continue
        out.append({
            "key": comp["key"], "type": comp["type"], "label": comp.get("label", ""),
            "label_en": comp.get("label_en", ""), "required": bool(comp.get("required")),
            "material": comp.get("material", ""),
            "accept": list(comp.get("accept", C.UPLOAD_TYPES if comp["type"] == "file"
                                    else ("image/png",))),
            "max_bytes": comp.get("max_bytes", C.DEFAULT_MAX_BYTES),
            "max_files": comp.get("max_files", 1 if comp["type"] == "signature"
                                  else C.DEFAULT_MAX_FILES),
            "help": comp.get("help", ""),
        })
    return out


def _source(sources: Mapping[str, Any], name: str) -> Any:
    if name.startswith("licence:"):
        type_code, field = name[len("licence:"):].split(".", 1)
        node: Any = sources.get("licence", {})
        path = [type_code, field]
    else:
        node = sources
        path = name.split(".")
    for part in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def prefill_names(definition: Mapping[str, Any], *,
                  skip_keys: Collection[str] = ()) -> set[str]:
    """See ``service.prefill_names``."""
    return {str(f.comp["prefill"]) for f in _fields(definition.get("components"))
            if isinstance(f.comp.get("prefill"), str) and f.comp["key"] not in skip_keys}


def prefill(definition: Mapping[str, Any], sources: Mapping[str, Any]) -> dict[str, Any]:
    """See ``service.prefill``."""
    values: dict[str, Any] = {}
    for field in _fields(definition.get("components")):
        comp = field.comp
        name = comp.get("prefill")
        if not isinstance(name, str) or comp["type"] == "table":
            continue
        found = _source(sources, name)
        if found is None:
            continue
        if comp["type"] == "address" and isinstance(found, str):
            found = {"region": "", "detail": found}  # the person picks the region
        try:
            value = coerce(comp, found)
        except Bad:
            continue
        if value is not None:
            values[comp["key"]] = value
    return values


def _display(comp: dict[str, Any], value: Any, region_names: Mapping[str, str]) -> str:
    kind = comp["type"]
    if kind == "choice":
        labels = {o["value"]: localised(o, "label") for o in comp.get("options", [])}
        chosen = value if isinstance(value, list) else [value]
        return "、".join(labels.get(v, str(v)) for v in chosen)
    if kind == "address":
        region = region_names.get(value.get("region", ""), value.get("region", ""))
        return " ".join(part for part in (region, value.get("detail", "")) if part)
    if kind == "map_point":
        return f"{value.get('lng')}, {value.get('lat')}"
    if kind == "file":
        return gettext("%(n)d 个文件") % {"n": len(value)}
    if kind == "signature":
        return gettext("已签名")
    if kind == "number":
        unit = localised(comp, "unit")
        return f"{value} {unit}".strip()
    return str(value)


def describe(definition: Mapping[str, Any], data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """See ``service.describe``."""
    fields, current, visible = _visible_data(definition, data if isinstance(data, dict) else {})
    codes = {v.get("region") for f in fields if f.comp["type"] == "address"
             and isinstance(v := current.get(f.comp["key"]), dict) and v.get("region")}
    found = regions.regions_by_code(c for c in codes if c) if codes else {}
    names = {code: str(r.name_en if english() and r.name_en else r.name)
             for code, r in found.items()}
    out: list[dict[str, Any]] = []
    for field in fields:
        comp, key = field.comp, field.comp["key"]
        if key not in visible or is_empty(current.get(key)):
            continue
        value = current[key]
        item: dict[str, Any] = {"key": key, "type": comp["type"], "label": label(comp)}
        if comp["type"] == "table":
            columns = comp.get("components", [])
            item["columns"] = [label(c) for c in columns]
            item["rows"] = [[_display(c, row[c["key"]], names) if not is_empty(row.get(c["key"]))
                             else "" for c in columns] for row in value]
            item["display"] = gettext("%(n)d 行") % {"n": len(value)}
        else:
            item["display"] = _display(comp, value, names)
            if comp["type"] in C.FILE_TYPES:
                item["tokens"] = value if isinstance(value, list) else [value]
        out.append(item)
    return out
