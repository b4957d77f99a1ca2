"""Checking and normalising a form definition made by the builder (check_definition)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from yiwang.enablement.forms import components as C
from yiwang.enablement.forms.logic import logic_problems, references
from yiwang.enablement.forms.patterns import is_safe_pattern

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
PREFILL_SOURCES: tuple[str, ...] = (
    "profile.name", "profile.id_number", "profile.phone", "profile.email",
    "profile.address", "enterprise.credit_code", "enterprise.name",
    "enterprise.legal_representative", "enterprise.address",
)
LICENCE_PREFILL_RE = re.compile(r"^licence:[a-z][a-z0-9_]{0,62}\.[a-z][a-z0-9_]{0,62}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_STR = 200
MAX_TEXT = 4000
MAX_SECTION_DEPTH = 3


def iter_components(components: Any, *, into_tables: bool = False
                    ) -> Iterator[dict[str, Any]]:
    """Components in document order, sections flattened (the section itself first)."""
    for comp in components or []:
        if not isinstance(comp, dict):
            continue
        yield comp
        if comp.get("type") == "section":
            yield from iter_components(comp.get("components"), into_tables=into_tables)
        elif into_tables and comp.get("type") == "table":
            yield from iter_components(comp.get("components"))


def value_components(definition: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The components holding a top-level value (inside sections too), in document order."""
    return [c for c in iter_components(definition.get("components"))
            if c.get("type") in C.VALUE_TYPES]


def field_keys(definition: Mapping[str, Any]) -> list[str]:
    """The data keys of a definition, in document order."""
    return [c["key"] for c in value_components(definition)]


def _date_bound(value: Any) -> bool:
    if value == "today":
        return True
    if not isinstance(value, str) or not DATE_RE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []
        self.count = 0
        self.top_keys: set[str] = set()
        self.seen_keys: set[str] = set()
        # (where, rule, known keys) checked once every key is known.
        self.rules: list[tuple[str, Any, str | None]] = []
        self.calcs: dict[str, set[str]] = {}

    def add(self, where: str, message: str) -> None:
        self.problems.append(f"{where}：{message}")

    # --- properties -------------------------------------------------------------------

    def prop(self, where: str, name: str, kind: str, value: Any, comp_type: str) -> Any:
        bad = gettext("属性“%(name)s”") % {"name": name}
        if kind == "str":
            if not isinstance(value, str) or len(value) > MAX_STR:
                self.add(where, bad + gettext("须为不超过 %(n)d 个字符的文字") % {"n": MAX_STR})
                return None
            return value.strip() if name not in ("type", "key") else value
        if kind == "text":
            if not isinstance(value, str) or len(value) > MAX_TEXT:
                self.add(where, bad + gettext("须为不超过 %(n)d 个字符的文字") % {"n": MAX_TEXT})
                return None
            return value
        if kind == "bool":
            if not isinstance(value, bool):
                self.add(where, bad + gettext("须为 true 或 false"))
                return None
            return value
        if kind == "int":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                self.add(where, bad + gettext("须为非负整数"))
                return None
            return value
        if kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or abs(value) > C.MAX_NUMBER or value != value:
                self.add(where, bad + gettext("须为数字"))
                return None
            return value
        if kind == "date":
            if not _date_bound(value):
                self.add(where, bad + gettext("须为日期 YYYY-MM-DD 或 today"))
                return None
            return value
        if kind == "region":
            if not isinstance(value, str) or not re.fullmatch(r"\d{2}|\d{4}|\d{6}|\d{9}|\d{12}",
                                                              value):
                self.add(where, bad + gettext("须为行政区划代码（2、4、6、9 或 12 位数字）"))
                return None
            return value.ljust(12, "0")
        if kind == "prefill":
            if not isinstance(value, str) or not (
                    value in PREFILL_SOURCES or LICENCE_PREFILL_RE.match(value)):
                self.add(where, gettext("预填来源“%(value)s”无效，可用：%(sources)s 或 "
                                        "licence:<证照类型>.<字段>")
                         % {"value": str(value)[:80], "sources": "、".join(PREFILL_SOURCES)})
                return None
            return value
        if kind == "mimes":
            if not isinstance(value, list) or not value or any(
                    m not in C.UPLOAD_TYPES for m in value):
                self.add(where, bad + gettext("须为以下类型中的一个或多个：%(types)s")
                         % {"types": "、".join(C.UPLOAD_TYPES)})
                return None
            return list(dict.fromkeys(value))
        if kind == "logic":
            return value  # checked in finish(), when every key is known
        raise AssertionError(kind)  # pragma: no cover

    def options(self, where: str, value: Any) -> list[dict[str, str]] | None:
        if not isinstance(value, list) or not value:
            self.add(where, gettext("选项不能为空"))
            return None
        if len(value) > C.MAX_OPTIONS:
            self.add(where, gettext("选项不能超过 %(n)d 个") % {"n": C.MAX_OPTIONS})
            return None
        out: list[dict[str, str]] = []
        seen: set[str] = set()
        for index, option in enumerate(value, 1):
            label = gettext("第 %(n)d 个选项") % {"n": index}
            if not isinstance(option, dict) or set(option) - {"value", "label", "label_en"}:
                self.add(where, label + gettext("须为 {value, label, label_en}"))
                continue
            val, text = option.get("value"), option.get("label")
            if not isinstance(val, str) or not val.strip() or len(val) > 64:
                self.add(where, label + gettext("的值须为 1–64 个字符的文字"))
                continue
            if not isinstance(text, str) or not text.strip() or len(text) > MAX_STR:
                self.add(where, label + gettext("须有名称"))
                continue
            label_en = option.get("label_en", "")
            if not isinstance(label_en, str) or len(label_en) > MAX_STR:
                self.add(where, label + gettext("的英文名称须为文字"))
                continue
            if val in seen:
                self.add(where, gettext("选项值“%(value)s”重复") % {"value": val})
                continue
            seen.add(val)
            out.append({"value": val, "label": text.strip(), "label_en": label_en.strip()})
        return out

    def validate_block(self, where: str, comp_type: str, value: Any) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.add(where, gettext("validate 须为对象"))
            return None
        allowed = {**C.VALIDATE_KEYS.get(comp_type, {}), **C.VALIDATE_COMMON}
        out: dict[str, Any] = {}
        for name, sub in value.items():
            kind = allowed.get(name)
            if kind is None:
                self.add(where, gettext("validate 不支持“%(name)s”，可用：%(names)s")
                         % {"name": str(name)[:40], "names": "、".join(allowed)})
                continue
            cleaned = self.prop(where, f"validate.{name}", kind, sub, comp_type)
            if cleaned is not None:
                out[name] = cleaned
        pairs = (("min", "max"), ("min_length", "max_length"), ("min_items", "max_items"),
                 ("min_age", "max_age"))
        for low, high in pairs:
            lo, hi = out.get(low), out.get(high)
            if lo is not None and hi is not None and lo != "today" and hi != "today" \
                    and lo > hi:
                self.add(where, gettext("validate.%(low)s 不能大于 validate.%(high)s")
                         % {"low": low, "high": high})
        if comp_type in C.TEXT_LIMIT and out.get("max_length", 0) > C.MAX_TEXT_LIMIT[comp_type]:
            self.add(where, gettext("validate.max_length 不能超过 %(n)d")
                     % {"n": C.MAX_TEXT_LIMIT[comp_type]})
        if "pattern" in out and not is_safe_pattern(out["pattern"]):
            self.add(where, gettext("validate.pattern 不是可用的正则表达式（不支持反向引用、"
                                    "嵌套重复如 (a+)+，以及前后相接、可能匹配同一字符的两个不定长"
                                    "重复如 \\d*-?\\d* 或 .+@.+；后者可写为 [^@]+@[^@]+）"))
        if "kind" in out and out["kind"] not in C.PHONE_KINDS:
            self.add(where, gettext("validate.kind 须为 %(kinds)s 之一")
                     % {"kinds": "、".join(C.PHONE_KINDS)})
        if "min_level" in out and out["min_level"] not in C.ADDRESS_LEVELS:
            self.add(where, gettext("validate.min_level 须为 %(levels)s 之一")
                     % {"levels": "、".join(C.ADDRESS_LEVELS)})
        if "message" in out and "rule" not in out:
            self.add(where, gettext("validate.message 须与 validate.rule 一起使用"))
        if "rule" in out and not out.get("message"):
            self.add(where, gettext("validate.rule 须附带 validate.message（不通过时显示给申请人的"
                                    "说明）"))
        return out

    # --- components -------------------------------------------------------------------

    def components(self, items: Any, where: str, *, depth: int, table: str | None,
                   column_keys: set[str] | None) -> list[dict[str, Any]]:
        if not isinstance(items, list):
            self.add(where, gettext("components 须为列表"))
            return []
        out = []
        for index, comp in enumerate(items):
            cleaned = self.component(comp, f"{where}[{index}]", depth=depth, table=table,
                                     column_keys=column_keys)
            if cleaned is not None:
                out.append(cleaned)
        return out

    def component(self, comp: Any, where: str, *, depth: int, table: str | None,
                  column_keys: set[str] | None) -> dict[str, Any] | None:
        self.count += 1
        if self.count > C.MAX_COMPONENTS:
            if self.count == C.MAX_COMPONENTS + 1:
                self.add(where, gettext("组件过多：一个表单最多 %(n)d 个")
                         % {"n": C.MAX_COMPONENTS})
            return None
        if not isinstance(comp, dict):
            self.add(where, gettext("组件须为对象"))
            return None
        comp_type = comp.get("type")
        if comp_type not in C.TYPES:
            self.add(where, gettext("不支持的组件类型“%(type)s”，可用：%(types)s")
                     % {"type": str(comp_type)[:40], "types": "、".join(C.TYPES)})
            return None
        key = comp.get("key")
        if isinstance(key, str) and KEY_RE.match(key):
            where = f"{where}（{key}）"
        else:
            self.add(where, gettext("键“%(key)s”无效：须以小写字母开头，只含小写字母、数字和"
                                    "下划线，不超过 63 个字符") % {"key": str(key)[:70]})
            key = None
        if table is not None:
            if comp_type not in C.CELL_TYPES:
                self.add(where, gettext("表格的列只能是 %(types)s")
                         % {"types": "、".join(sorted(C.CELL_TYPES))})
                return None
            if key is not None:
                if key in column_keys:  # type: ignore[operator]
                    self.add(where, gettext("列键“%(key)s”在表格中重复") % {"key": key})
                column_keys.add(key)  # type: ignore[union-attr]
        elif key is not None:
            if key in self.seen_keys:
                self.add(where, gettext("键“%(key)s”重复：每个组件的键须唯一") % {"key": key})
            self.seen_keys.add(key)
            if comp_type in C.VALUE_TYPES:
                self.top_keys.add(key)
        spec = C.PROPS[comp_type]
        out: dict[str, Any] = {}
        for name, value in comp.items():
            kind = spec.get(name)
            if kind is None:
                self.add(where, gettext("组件类型 %(type)s 不支持属性“%(name)s”")
                         % {"type": comp_type, "name": str(name)[:40]})
                continue
            if name in ("components", "options", "validate"):
                continue
            cleaned = self.prop(where, name, kind, value, comp_type)
            if cleaned is not None:
                out[name] = cleaned
        if comp_type != "content" and not out.get("label"):
            self.add(where, gettext("须有名称（label）"))
        out.setdefault("label", "")
        out.setdefault("label_en", "")
        if comp_type in C.VALUE_TYPES:
            out.setdefault("required", False)
        if "validate" in comp:
            block = self.validate_block(where, comp_type, comp["validate"])
            if block:
                out["validate"] = block
        if comp_type == "choice":
            options = self.options(where, comp.get("options"))
            if options is not None:
                out["options"] = options
            out.setdefault("multiple", False)
            widget = out.get("widget")
            if widget is not None and widget not in C.CHOICE_WIDGETS:
                self.add(where, gettext("widget 须为 %(w)s 之一")
                         % {"w": "、".join(C.CHOICE_WIDGETS)})
        if comp_type == "file":
            out.setdefault("accept", list(C.UPLOAD_TYPES))
            out.setdefault("max_files", C.DEFAULT_MAX_FILES)
            if not 1 <= out["max_files"] <= C.MAX_MAX_FILES:
                self.add(where, gettext("max_files 须在 1–%(n)d 之间") % {"n": C.MAX_MAX_FILES})
            if out.get("validate", {}).get("min_files", 0) > out["max_files"]:
                self.add(where, gettext("validate.min_files 不能大于 max_files"))
        if comp_type in C.FILE_TYPES:
            default = C.DEFAULT_MAX_BYTES if comp_type == "file" else C.SIGNATURE_MAX_BYTES
            out.setdefault("max_bytes", default)
            if not 1024 <= out["max_bytes"] <= C.MAX_MAX_BYTES:
                self.add(where, gettext("max_bytes 须在 1024–%(n)d 之间") % {"n": C.MAX_MAX_BYTES})
            out.setdefault("material", "")
        if "calculate" in out and "prefill" in out:
            self.add(where, gettext("计算字段不能同时预填"))
        if comp_type == "section":
            if depth >= MAX_SECTION_DEPTH:
                self.add(where, gettext("分组最多嵌套 %(n)d 层") % {"n": MAX_SECTION_DEPTH})
            out["components"] = self.components(comp.get("components", []),
                                                f"{where}.components", depth=depth + 1,
                                                table=None, column_keys=None)
        if comp_type == "table":
            columns: set[str] = set()
            cols = comp.get("components")
            if not isinstance(cols, list) or not cols:
                self.add(where, gettext("表格须至少有一列"))
                cols = []
            out["components"] = self.components(cols, f"{where}.components", depth=depth + 1,
                                                table=key or "?", column_keys=columns)
            out.setdefault("min_rows", 0)
            out.setdefault("max_rows", C.DEFAULT_MAX_ROWS)
            if out["max_rows"] > C.MAX_MAX_ROWS or out["max_rows"] < 1:
                self.add(where, gettext("max_rows 须在 1–%(n)d 之间") % {"n": C.MAX_MAX_ROWS})
            if out["min_rows"] > out["max_rows"]:
                self.add(where, gettext("min_rows 不能大于 max_rows"))
            for column in out["components"]:
                self._logic_of(column, f"{where}.{column.get('key')}", table=key or "?",
                               columns=columns)
        if table is None:
            self._logic_of(out, where, table=None, columns=None)
        return out

    def _logic_of(self, comp: dict[str, Any], where: str, *, table: str | None,
                  columns: set[str] | None) -> None:
        scope = f"{table}:" if table else ""
        for name, rule in (("conditional", comp.get("conditional")),
                           ("calculate", comp.get("calculate")),
                           ("validate.rule", comp.get("validate", {}).get("rule"))):
            if name in ("conditional", "calculate") and name not in comp:
                continue
            if name == "validate.rule" and "rule" not in comp.get("validate", {}):
                continue
            self.rules.append((f"{where} {name}", rule, table and ",".join(sorted(columns or ()))))
        if "calculate" in comp and comp.get("key"):
            self.calcs[scope + comp["key"]] = {scope + r for r in references(comp["calculate"])}

    def finish(self) -> None:
        for where, rule, columns in self.rules:
            known = set(self.top_keys)
            if columns is not None:
                known |= set(columns.split(",")) if columns else set()
            for problem in logic_problems(rule, known_keys=known):
                self.add(where, problem)
        # Calculations may use other calculations, but not in a circle.
        state: dict[str, int] = {}

        def visit(node: str, trail: list[str]) -> None:
            state[node] = 1
            for dep in sorted(self.calcs.get(node, ())):
                if dep not in self.calcs:
                    continue
                if state.get(dep) == 1:
                    cycle = [*trail[trail.index(dep):], dep] if dep in trail else [node, dep]
                    self.problems.append(gettext("计算公式循环引用：%(cycle)s")
                                         % {"cycle": " → ".join(c.split(":")[-1] for c in cycle)})
                elif dep not in state:
                    visit(dep, [*trail, dep])
            state[node] = 2

        for node in sorted(self.calcs):
            if node not in state:
                visit(node, [node])


def check_definition(definition: Any) -> dict[str, Any]:
    """See ``service.check_definition``."""
    if not isinstance(definition, dict):
        raise ValidationError(gettext("表单定义须为 JSON 对象 {\"version\": 1, \"components\": "
                                      "[...]}"), code="invalid_form")
    checker = _Checker()
    extra = set(definition) - {"version", "components"}
    if extra:
        checker.problems.append(gettext("表单定义不支持属性：%(names)s")
                                % {"names": "、".join(sorted(map(str, extra)))[:200]})
    if definition.get("version") != 1:
        checker.problems.append(gettext("表单定义的 version 须为 1"))
    components = checker.components(definition.get("components", []), "components", depth=0,
                                    table=None, column_keys=None)
    checker.finish()
    if checker.problems:
        raise ValidationError(list(dict.fromkeys(checker.problems)), code="invalid_form")
    return {"version": 1, "components": components}
