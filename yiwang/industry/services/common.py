"""Small helpers shared by the services modules (not part of the app's facade)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ValidationError

PAGE_SIZE = 20
MAX_FEE_ROWS = 50
MAX_FEN = 100_000_000  # 一百万元: a fee above it is a typing mistake


# Codes appear in URLs (``<str:code>``): letters, digits, ``.``, ``_`` and ``-`` only, so that
# every code can be reversed (review M1: a ``/`` in a code broke the public catalogue).
CODE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")


def check_code(code: Any, what: str) -> str:
    """The code stripped, or a ``ValidationError`` saying what a code may contain."""
    from django.utils.translation import gettext as _

    text = str(code or "").strip()
    if not CODE_PATTERN.fullmatch(text):
        raise error(_("%(what)s只能由字母、数字、点、下划线和连字符组成,以字母或数字开头,"
                      "不超过40个字符。") % {"what": what}, "code")
    return text


def error(message: str, error_code: str, /, **params: Any) -> ValidationError:
    """A ``ValidationError`` with a code and its parameters (Chinese, actionable message)."""
    return ValidationError(message, code=error_code, params=params or None)


def walk_components(components: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every data component of a form definition, through sections (not table columns)."""
    for component in components or []:
        if not isinstance(component, dict):
            continue
        if component.get("type") == "section":
            yield from walk_components(component.get("components") or [])
        elif component.get("type") != "content":
            yield component


def form_keys(definition: dict[str, Any] | None) -> set[str]:
    """The top-level data keys a form definition collects."""
    return {str(c["key"]) for c in walk_components((definition or {}).get("components") or [])
            if c.get("key")}


def logic_vars(rule: Any) -> set[str]:
    """The variable names a JSON Logic rule reads (``{"var": "a.b"}`` → ``"a.b"``)."""
    found: set[str] = set()
    if isinstance(rule, dict):
        for op, args in rule.items():
            if op == "var":
                name = args[0] if isinstance(args, list) and args else args
                if isinstance(name, str) and name:
                    found.add(name)
            else:
                found |= logic_vars(args)
    elif isinstance(rule, list):
        for item in rule:
            found |= logic_vars(item)
    return found


def lookup(data: dict[str, Any], path: str) -> Any:
    """``data["a"]["b"]`` for ``"a.b"``; None when a step is missing."""
    value: Any = data
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value
