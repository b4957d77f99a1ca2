"""JSON Logic (jsonlogic.com) restricted to an allow-list of operators, with bounded size.

Conditions, calculations and custom rules of forms, gateway conditions of approval flows and
fee tables are all JSON Logic, authored by civil servants in the builders. They are data,
never code: the evaluator is ``panzi-json-logic`` (``json_logic``) given only the operators
below (no ``log``, nothing custom that reaches outside the data), after a structural check
that rejects unknown operators, deep nesting and big rules before anything runs. The
browser's evaluator (``static/forms/render.js``) implements the same operators.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from json_logic import builtins as _builtins
from json_logic.apply import apply as _apply

# Operators handled by json_logic's apply() itself (control flow and iteration).
CONTROL = frozenset({"if", "?:", "and", "or", "map", "filter", "reduce", "all", "some", "none"})
# In these, the second argument runs on each item of the first: ``var`` refers to the item.
SCOPED = frozenset({"map", "filter", "reduce", "all", "some", "none"})
OPERATORS: frozenset[str] = CONTROL | frozenset({
    "var", "missing", "missing_some",
    "==", "!=", "===", "!==", "!", "!!", ">", ">=", "<", "<=",
    "+", "-", "*", "/", "%", "min", "max",
    "in", "cat", "substr", "merge",
})

MAX_DEPTH = 24
MAX_NODES = 600
MAX_JSON_CHARS = 20_000
MAX_STRING = 2_000


def _div(data: Any = None, a: Any = None, b: Any = None, *_ignored: Any) -> Any:
    divisor = _builtins.to_number(b)
    if not divisor:  # 0 or NaN: JavaScript gives Infinity/NaN; we give "no value"
        return None
    return _builtins.to_number(a) / divisor


def _mod(data: Any = None, a: Any = None, b: Any = None, *_ignored: Any) -> Any:
    divisor = _builtins.to_number(b)
    if not divisor:
        return None
    return _builtins.to_number(a) % divisor


_OPERATIONS = {op: fn for op, fn in _builtins.BUILTINS.items() if op in OPERATORS}
_OPERATIONS.update({"/": _div, "%": _mod})


def _problems(rule: Any, known_keys: set[str] | frozenset[str] | None) -> Iterator[str]:
    nodes = 0

    def walk(node: Any, depth: int, scoped: bool) -> Iterator[str]:
        nonlocal nodes
        nodes += 1
        if nodes > MAX_NODES:
            raise _TooBig
        if depth > MAX_DEPTH:
            yield gettext("嵌套超过 %(n)d 层") % {"n": MAX_DEPTH}
            return
        if isinstance(node, list):
            for item in node:
                yield from walk(item, depth + 1, scoped)
            return
        if isinstance(node, str):
            if len(node) > MAX_STRING:
                yield gettext("文字常量超过 %(n)d 个字符") % {"n": MAX_STRING}
            return
        if isinstance(node, float) and not math.isfinite(node):
            yield gettext("数字常量无效")
            return
        if not isinstance(node, dict):
            if node is not None and not isinstance(node, (bool, int, float)):
                yield gettext("无法识别的值：%(value)s") % {"value": type(node).__name__}
            return
        if len(node) != 1:
            yield gettext("每个运算须是只有一个键的对象，例如 {\"==\": [{\"var\": \"a\"}, 1]}")
            return
        op, args = next(iter(node.items()))
        if op not in OPERATORS:
            yield gettext("不允许的运算符“%(op)s”") % {"op": str(op)[:40]}
            return
        if op in ("var", "missing", "missing_some") and known_keys is not None and not scoped:
            yield from _check_refs(op, args, known_keys)
        items = args if isinstance(args, list) else [args]
        for index, arg in enumerate(items):
            yield from walk(arg, depth + 1, scoped or (op in SCOPED and index >= 1))

    try:
        yield from walk(rule, 0, False)
    except _TooBig:
        yield gettext("规则过大：超过 %(n)d 个节点") % {"n": MAX_NODES}


class _TooBig(Exception):
    pass


def _check_refs(op: str, args: Any, known_keys: set[str] | frozenset[str]) -> Iterator[str]:
    if op == "var":
        name = args[0] if isinstance(args, list) and args else args
        names = [name]
    elif op == "missing":
        names = args if isinstance(args, list) else [args]
        if len(names) == 1 and isinstance(names[0], list):
            names = names[0]
    else:  # missing_some: [count, [keys]]
        names = args[1] if isinstance(args, list) and len(args) > 1 else []
        names = names if isinstance(names, list) else []
    for name in names:
        if isinstance(name, dict):
            yield gettext("字段名须是文字，不能是运算")
            continue
        if name in (None, "") or isinstance(name, (int, float)):
            continue
        first = str(name).split(".", 1)[0]
        if first not in known_keys:
            yield gettext("引用了不存在的字段“%(key)s”") % {"key": str(name)[:64]}


def logic_problems(rule: Any, *, known_keys: set[str] | frozenset[str] | None = None
                   ) -> list[str]:
    """Every problem of ``rule`` (operators, limits, references), as Chinese sentences."""
    try:
        size = len(json.dumps(rule, ensure_ascii=False, allow_nan=False))
    except (TypeError, ValueError, RecursionError):
        return [gettext("规则不是有效的 JSON")]
    if size > MAX_JSON_CHARS:
        return [gettext("规则过大：超过 %(n)d 个字符") % {"n": MAX_JSON_CHARS}]
    seen: list[str] = []
    for problem in _problems(rule, known_keys):
        if problem not in seen:
            seen.append(problem)
    return seen


def check_logic(rule: Any, *, known_keys: set[str] | frozenset[str] | None = None,
                where: str = "") -> None:
    """Raise ``ValidationError`` naming each problem of ``rule`` (see logic_problems)."""
    problems = logic_problems(rule, known_keys=known_keys)
    if problems:
        prefix = f"{where}：" if where else gettext("JSON Logic 规则：")
        raise ValidationError([prefix + p for p in problems], code="invalid_logic")


def apply_checked(rule: Any, data: Any) -> Any:
    """Evaluate a rule already checked by :func:`check_logic`. Arithmetic and type errors of
    the evaluation give ``None``."""
    try:
        result = _apply(rule, data, _OPERATIONS)
    except (ArithmeticError, TypeError, ValueError, ReferenceError, RecursionError,
            AttributeError, IndexError, KeyError):
        return None
    if isinstance(result, float) and not math.isfinite(result):
        return None
    return result


def evaluate(rule: Any, data: Any) -> Any:
    """Check ``rule`` (operators and limits, not references) then evaluate it on ``data``."""
    check_logic(rule)
    return apply_checked(rule, data)


def truthy(value: Any) -> bool:
    """JSON Logic truthiness (``[]`` and ``"0"``-free: the JavaScript rules json_logic uses)."""
    return bool(_builtins.to_bool(value))


def references(rule: Any) -> set[str]:
    """The field keys (first dotted segment) a rule's unscoped ``var``s refer to."""
    found: set[str] = set()

    def walk(node: Any, scoped: bool, depth: int) -> None:
        if depth > MAX_DEPTH:
            return
        if isinstance(node, list):
            for item in node:
                walk(item, scoped, depth + 1)
            return
        if not isinstance(node, dict) or len(node) != 1:
            return
        op, args = next(iter(node.items()))
        if op == "var" and not scoped:
            name = args[0] if isinstance(args, list) and args else args
            if isinstance(name, str) and name:
                found.add(name.split(".", 1)[0])
        items = args if isinstance(args, list) else [args]
        for index, arg in enumerate(items):
            walk(arg, scoped or (op in SCOPED and index >= 1), depth + 1)

    walk(rule, False, 0)
    return found
