"""Translating simple Camunda (JUEL) conditions to JSON Logic.

Accepted: ``${amount > 100}``, ``${kind == 'shop'}``, ``${a >= 1 && b != "x"}``, ``${!urgent}``,
``${x == true || (y < 2.5 and z == null)}`` — comparisons of a variable (dotted path) with a
literal, combined with ``&&``/``and``, ``||``/``or``, ``!``/``not`` and parentheses. Anything
else (method calls, arithmetic, ``execution.getVariable(...)``) is refused: we translate,
we never evaluate.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _

_TOKEN = re.compile(
    r"""
    \s*(?:
      (?P<num>-?\d+(?:\.\d+)?)
    | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<op>==|!=|>=|<=|>|<|&&|\|\||!|\(|\))
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    )""",
    re.VERBOSE,
)
_WORDS = {
    "and": "&&",
    "or": "||",
    "not": "!",
    "eq": "==",
    "ne": "!=",
    "gt": ">",
    "ge": ">=",
    "lt": "<",
    "le": "<=",
}
_LITERALS = {"true": True, "false": False, "null": None}
_COMPARE = {"==": "==", "!=": "!=", ">": ">", ">=": ">=", "<": "<", "<=": "<="}
MAX_LENGTH = 500
MAX_DEPTH = 20


def _tokens(text: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise ValueError(_("无法识别“%(text)s”") % {"text": text[pos : pos + 20]})
        pos = match.end()
        if match.group("num") is not None:
            num = match.group("num")
            out.append(("lit", float(num) if "." in num else int(num)))
        elif match.group("str") is not None:
            raw = match.group("str")[1:-1]
            out.append(("lit", re.sub(r"\\(.)", r"\1", raw)))
        elif match.group("op") is not None:
            out.append(("op", match.group("op")))
        else:
            name = match.group("name")
            if name in _WORDS:
                out.append(("op", _WORDS[name]))
            elif name in _LITERALS:
                out.append(("lit", _LITERALS[name]))
            else:
                out.append(("var", name))
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, Any]]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.depth = 0

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, Any]:
        token = self.peek()
        if token is None:
            raise ValueError(_("表达式不完整"))
        self.pos += 1
        return token

    def expr(self) -> Any:
        return self.binary("||", "or", self.conj)

    def conj(self) -> Any:
        return self.binary("&&", "and", self.unary)

    def binary(self, symbol: str, op: str, inner: Any) -> Any:
        items = [inner()]
        while self.peek() == ("op", symbol):
            self.take()
            items.append(inner())
        return items[0] if len(items) == 1 else {op: items}

    def unary(self) -> Any:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ValueError(_("条件嵌套过深"))
        try:
            return self._unary()
        finally:
            self.depth -= 1

    def _unary(self) -> Any:
        if self.peek() == ("op", "!"):
            self.take()
            return {"!": [self.unary()]}
        if self.peek() == ("op", "("):
            self.take()
            inner = self.expr()
            if self.take() != ("op", ")"):
                raise ValueError(_("括号不匹配"))
            return inner
        left = self.operand()
        token = self.peek()
        if token and token[0] == "op" and token[1] in _COMPARE:
            self.take()
            right = self.operand()
            return {_COMPARE[token[1]]: [left, right]}
        if isinstance(left, dict):
            return {"!!": [left]}
        raise ValueError(_("单独的常量不是条件"))

    def operand(self) -> Any:
        kind, value = self.take()
        if kind == "var":
            if self.peek() == ("op", "("):
                raise ValueError(_("不支持函数或方法调用 %(name)s(...)") % {"name": value})
            return {"var": value}
        if kind == "lit":
            return value
        raise ValueError(_("此处不应出现“%(token)s”") % {"token": value})


def translate(text: str) -> Any:
    """JSON Logic for a ``${...}`` condition; ``ValueError`` (Chinese message) if not simple."""
    body = text.strip()
    if not (body.startswith("${") and body.endswith("}")):
        raise ValueError(_("条件须写成 ${...}"))
    body = body[2:-1]
    if len(body) > MAX_LENGTH:
        raise ValueError(_("条件表达式过长"))
    try:
        parser = _Parser(_tokens(body))
        rule = parser.expr()
        if parser.peek() is not None:
            raise ValueError(_("多余的内容“%(token)s”") % {"token": parser.peek()[1]})  # type: ignore[index]
    except ValueError as exc:
        raise ValueError(
            _("条件“%(text)s”不是可转换的简单比较：%(error)s") % {"text": text[:80], "error": exc}
        ) from None
    return rule
