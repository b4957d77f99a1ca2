"""JSON Canonicalization Scheme (RFC 8785), fast where it safely can be.

For JSON made only of strings, booleans, null, integers within ±(2^53-1), arrays and objects
whose keys sort the same by code point as by UTF-16 code unit, RFC 8785's output is exactly
``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` encoded as UTF-8:
both escape only ``"``, ``\\`` and control characters (as ``\\b \\t \\n \\f \\r`` or ``\\u00xx``).
That path runs in C and is about ten times faster than the pure-Python ``rfc8785`` package,
which matters because canonicalisation is most of a credential verification's overhead over
the signature itself. Anything else (a float, a big integer, a key with a character beyond
U+FFFF) goes to ``rfc8785``, the reference implementation.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785

_SAFE_INT = 2**53 - 1
_MAX_NODES = 1_000_000  # a walk this long is refused (and a cyclic value never ends)
_dumps = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode


def _direct_encoder() -> Any:
    """The C encoder called directly (skipping JSONEncoder's wrappers and circular-reference
    bookkeeping, which :func:`_plain` makes unnecessary); None where this Python's C encoder
    differs, after a self-test."""
    make = getattr(json.encoder, "c_make_encoder", None)
    escape = getattr(json.encoder, "c_encode_basestring", None)
    if make is None or escape is None:
        return None
    try:
        encode = make(None, None, escape, None, ":", ",", True, False, False)
        sample = {"b": [1, True, None, "\u00e9\n"], "a": {"y": "x", "x": -2}}
        if "".join(encode(sample, 0)) != _dumps(sample):
            return None
    except Exception:
        return None
    return encode


_c_encode = _direct_encoder()


class CanonicalizationError(ValueError):
    """A value JCS cannot canonicalise (NaN, an integer out of range, a lone surrogate, ...)."""


def _plain(value: Any) -> bool:
    # Iterative, with the common leaf (a string) tested first: this walk runs on every
    # verification, so it is kept to a few operations per node.
    stack = [value]
    pop, push, extend = stack.pop, stack.append, stack.extend
    budget = _MAX_NODES
    while stack:
        budget -= 1
        if budget < 0:
            return False
        item = pop()
        t = type(item)
        if t is str or t is bool or item is None:
            continue
        if t is dict:
            try:
                keys = "".join(item)  # all keys strings? (in C, not per key in Python)
            except TypeError:
                return False
            if not keys.isascii() and max(keys) > "\uffff":
                return False
            for v in item.values():
                if type(v) is not str:
                    push(v)
        elif t is list:
            extend(item)
        elif t is int:
            if not -_SAFE_INT <= item <= _SAFE_INT:
                return False
        else:
            return False
    return True


def canonicalize(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of ``value``."""
    if _plain(value):
        try:
            if _c_encode is not None:
                return "".join(_c_encode(value, 0)).encode("utf-8")
            return _dumps(value).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: let the reference say so
            pass
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError, UnicodeError,
            RecursionError) as exc:
        raise CanonicalizationError(str(exc) or type(exc).__name__) from None
