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
_dumps = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode


class CanonicalizationError(ValueError):
    """A value JCS cannot canonicalise (NaN, an integer out of range, a lone surrogate, ...)."""


def _plain(value: Any) -> bool:
    t = type(value)
    if t is str or t is bool or value is None:
        return True
    if t is int:
        return -_SAFE_INT <= value <= _SAFE_INT
    if t is dict:
        for k, v in value.items():
            if type(k) is not str:
                return False
            if not k.isascii() and any(ord(c) > 0xFFFF for c in k):
                return False
            if not _plain(v):
                return False
        return True
    if t is list:
        return all(_plain(v) for v in value)
    return False


def canonicalize(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of ``value``."""
    if _plain(value):
        try:
            return _dumps(value).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: let the reference say so
            pass
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError, UnicodeError) as exc:
        raise CanonicalizationError(str(exc)) from None
