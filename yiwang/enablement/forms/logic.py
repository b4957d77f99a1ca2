"""JSON Logic (jsonlogic.com) restricted to an allow-list of operators, with bounded size and
bounded work.

Conditions, calculations and custom rules of forms, gateway conditions of approval flows and
fee tables are all JSON Logic, authored by civil servants in the builders. They are data,
never code: only the operators below (no ``log``, nothing custom that reaches outside the
data), after a structural check that rejects unknown operators, deep nesting, big rules and a
scoped operator (``map``/``filter``/...) inside another one's per-item rule before anything
runs. The evaluation itself is bounded too: :data:`MAX_OPERATIONS` steps, strings of
:data:`MAX_RESULT_STRING` characters and lists of :data:`MAX_RESULT_ITEMS` items at most; past
a bound the whole rule gives ``None`` ("no value"). The operators are ``panzi-json-logic``'s
(``json_logic``); the control flow is our own loop below, which counts. The browser's
evaluator (``static/forms/logic.js``) implements the same operators and the same bounds.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from json_logic import builtins as _builtins

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
# Bounds of one evaluation (the same in static/forms/logic.js). A step is one operation
# evaluated, one item visited by a scoped operator, one item produced by ``merge``, or 100
# characters produced by ``cat``.
MAX_OPERATIONS = 100_000
MAX_RESULT_STRING = 20_000  # the longest text a form field may hold (textarea)
MAX_RESULT_ITEMS = 1_000
# All the rules evaluated for one submission share this many steps (shared_budget): a table
# of 200 rows runs its column rules 200 times, each within MAX_OPERATIONS.
MAX_SHARED_OPERATIONS = 500_000


def _div(data: Any = None, a: Any = None, b: Any = None, *_ignored: Any) -> Any:
    divisor = _builtins.to_number(b)
    if not divisor:  # 0 or NaN: JavaScript gives Infinity/NaN; we give "no value"
        return None
    return _builtins.to_number(a) / divisor


def _mod(data: Any = None, a: Any = None, b: Any = None, *_ignored: Any) -> Any:
    divisor = _builtins.to_number(b)
    if not divisor:
        return None
    # JavaScript's remainder takes the sign of the dividend (-7 % 3 is -1), Python's % that
    # of the divisor: as the browser does (review 2026-11-27 session 2, M12).
    dividend = _builtins.to_number(a)
    result = math.fmod(dividend, divisor)
    both_int = isinstance(dividend, int) and isinstance(divisor, int)
    return int(result) if both_int and math.isfinite(result) else result


def _string_number(value: str) -> Any:
    """JavaScript's ToNumber of a string: blank is 0 (json_logic makes it NaN)."""
    return 0 if not value.strip() else _builtins.to_number(value)


def _equals(data: Any = None, a: Any = None, b: Any = None, *_ignored: Any) -> bool:
    """JavaScript's ``==`` (as logic.js uses it): null equals only null, a string compared
    with a number or a boolean is read as a number with blank as 0. Elsewhere json_logic's
    ``op_equals`` already agrees (review M12: an empty field was equal to 0 on the server
    and not in the browser)."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, str) and isinstance(b, (int, float)):
        return bool(_string_number(a) == b)
    if isinstance(b, str) and isinstance(a, (int, float)):
        return bool(a == _string_number(b))
    return bool(_builtins.op_equals(data, a, b))


def _not_equals(data: Any = None, a: Any = None, b: Any = None, *_ignored: Any) -> bool:
    return not _equals(data, a, b)


_OPERATIONS = {op: fn for op, fn in _builtins.BUILTINS.items() if op in OPERATORS}
_OPERATIONS.update({"/": _div, "%": _mod, "==": _equals, "!=": _not_equals})


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
        if op in SCOPED and scoped:
            yield gettext("“%(op)s”不能放在 map/filter/reduce/all/some/none 的逐项规则里"
                          "（逐项规则中不能再逐项运算）") % {"op": op}
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


class _OverBudget(Exception):
    """The evaluation went past one of its bounds."""


class SharedBudget:
    """Steps left to the rules of one submission; ``exhausted`` once one went past it."""

    def __init__(self, steps: int) -> None:
        self.left = steps
        self.exhausted = False


_shared: ContextVar[SharedBudget | None] = ContextVar("forms_logic_budget", default=None)


@contextmanager
def shared_budget(steps: int | None = None) -> Iterator[SharedBudget]:
    """Within this block every :func:`apply_checked` also spends from one budget of
    ``steps``; past it each rule gives ``None`` and ``budget.exhausted`` is true."""
    budget = SharedBudget(MAX_SHARED_OPERATIONS if steps is None else steps)
    token = _shared.set(budget)
    try:
        yield budget
    finally:
        _shared.reset(token)


class _Evaluator:
    """json_logic's ``apply`` with the same semantics, counting its steps."""

    def __init__(self) -> None:
        self.left = MAX_OPERATIONS
        self.shared = _shared.get()

    def spend(self, steps: int) -> None:
        self.left -= steps
        shared = self.shared
        if shared is not None:
            shared.left -= steps
            if shared.left < 0:
                shared.exhausted = True
                raise _OverBudget
        if self.left < 0:
            raise _OverBudget

    def items(self, rule: Any, data: Any) -> list[Any] | None:
        items = self.apply(rule, data)
        if not isinstance(items, list):
            return None
        self.spend(len(items))
        return items

    def apply(self, logic: Any, data: Any) -> Any:
        if isinstance(logic, list):
            return [self.apply(item, data) for item in logic]
        if not isinstance(logic, dict) or len(logic) != 1:
            return logic
        self.spend(1)
        op, args = next(iter(logic.items()))
        if not isinstance(args, list):
            args = [args]
        truth = _builtins.to_bool
        if op in ("if", "?:"):
            index, last = 0, len(args) - 1
            while index < last:
                if truth(self.apply(args[index], data)):
                    return self.apply(args[index + 1], data)
                index += 2
            return self.apply(args[index], data) if index < len(args) else None
        if op in ("and", "or"):
            current = None
            for arg in args:
                current = self.apply(arg, data)
                if truth(current) == (op == "or"):
                    return current
            return current
        if op in ("map", "filter"):
            items = self.items(args[0], data) if len(args) >= (1 if op == "map" else 2) else []
            if not items:
                return []
            sub = args[1] if len(args) > 1 else None
            if op == "map":
                return _capped([self.apply(sub, item) for item in items])
            return _capped([item for item in items if truth(self.apply(sub, item))])
        if op == "reduce":
            if not args:
                return None
            init = args[2] if len(args) > 2 else None
            items = self.items(args[0], data)
            if items is None:
                return init
            sub = args[1] if len(args) > 1 else None
            context: dict[str, Any] = {"accumulator": init}
            for item in items:
                context["current"] = item
                context["accumulator"] = self.apply(sub, context)
            return context["accumulator"]
        if op in ("all", "some", "none"):
            if len(args) < 2:
                return op == "none"
            items = self.items(args[0], data)
            if items is None:
                return op == "none"
            if op == "all":
                return bool(items) and all(truth(self.apply(args[1], it)) for it in items)
            found = any(truth(self.apply(args[1], it)) for it in items)
            return not found if op == "none" else found
        values = [self.apply(arg, data) for arg in args]
        if op not in _OPERATIONS:
            raise ReferenceError(f"Unrecognized operation: {str(op)[:40]!r}")
        result = _OPERATIONS[op](data, *values)
        if op == "merge":
            self.spend(len(result))
            return _capped(result)
        if op == "cat":
            if len(result) > MAX_RESULT_STRING:
                raise _OverBudget
            self.spend(len(result) // 100)
        return result


def _capped(items: list[Any]) -> list[Any]:
    if len(items) > MAX_RESULT_ITEMS:
        raise _OverBudget
    return items


def apply_checked(rule: Any, data: Any) -> Any:
    """Evaluate a rule already checked by :func:`check_logic`. Arithmetic and type errors of
    the evaluation, and going past the bounds of work and size (:data:`MAX_OPERATIONS`,
    :data:`MAX_RESULT_STRING`, :data:`MAX_RESULT_ITEMS`), give ``None``."""
    try:
        result = _Evaluator().apply(rule, data)
    except (_OverBudget, MemoryError, ArithmeticError, TypeError, ValueError, ReferenceError,
            RecursionError, AttributeError, IndexError, KeyError):
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
