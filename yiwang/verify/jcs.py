"""JSON Canonicalization Scheme (RFC 8785), fast where it safely can be.

For JSON made only of strings, booleans, null, integers within ±(2^53-1), arrays and objects
whose keys sort the same by code point as by UTF-16 code unit, RFC 8785's output is plain
compact JSON with sorted keys, in UTF-8, escaping only ``"``, ``\\`` and control characters
(as ``\\b \\t \\n \\f \\r`` or ``\\u00xx``). :func:`_plain` checks that a value is made only
of those (one walk, exact types: no float, no subclass, no tuple, no other object), and such a
value is written by a C encoder: ``orjson`` (``OPT_SORT_KEYS | OPT_STRICT_INTEGER``) where it
is installed, else the standard library's, each checked against the ``rfc8785`` package at
import and unused if it differs. That is 10-20 times faster than the pure-Python ``rfc8785``
package, which matters because canonicalisation is most of a credential verification's
overhead over the signature itself. Anything else (a float, a big integer, a key with a
character beyond U+FFFF, a lone surrogate, nesting deeper than the C encoder goes) goes to
``rfc8785``, the reference implementation, which writes it or refuses it.
"""

from __future__ import annotations

import json
import re
from typing import Any

import rfc8785

try:  # optional: without it the standard library's C encoder is used (about ten times slower)
    import orjson
except ImportError:  # pragma: no cover - depends on the environment
    orjson = None  # type: ignore[assignment]

_SAFE_INT = 2**53 - 1
_astral = re.compile("[\U00010000-\U0010ffff]").search  # sorts differently in UTF-16
_dumps = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode

# Self-test sample: escapes, non-ASCII (BMP) text and keys, nesting, booleans, null, limits.
_SAMPLE: Any = {"b": [1, True, None, False, "\u00e9\n\t\"\\/\u0001\u001f\u007f\u2028"],
           "a": {"y": "x", "x": -2, "\u00e9": [], "\uffff": {}, "A": _SAFE_INT},
           "\u4e2d\u6587": "\u8bc1\u7167 \ufeff", "": -_SAFE_INT}


def _direct_encoder() -> Any:
    """The standard library's C encoder called directly (skipping JSONEncoder's wrappers and
    circular-reference bookkeeping, which :func:`_plain` makes unnecessary); None where this
    Python's C encoder differs, after a self-test."""
    make = getattr(json.encoder, "c_make_encoder", None)
    escape = getattr(json.encoder, "c_encode_basestring", None)
    if make is None or escape is None:
        return None
    try:
        encode = make(None, None, escape, None, ":", ",", True, False, False)
        if "".join(encode(_SAMPLE, 0)).encode("utf-8") != rfc8785.dumps(_SAMPLE):
            return None
    except Exception:
        return None
    return encode


def _orjson_option() -> int | None:
    """The ``orjson.dumps`` option for JCS (sorted keys, the 53-bit integer limit), if orjson
    is installed and writes the self-test sample exactly as ``rfc8785`` does; else None."""
    if orjson is None:
        return None
    option: int = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER
    try:
        if orjson.dumps(_SAMPLE, option=option) != rfc8785.dumps(_SAMPLE):
            return None
    except Exception:
        return None
    return option


_c_encode = _direct_encoder()
_orjson_jcs = _orjson_option()


class CanonicalizationError(ValueError):
    """A value JCS cannot canonicalise (NaN, an integer out of range, a lone surrogate, ...)."""


def _plain_node(value: Any) -> bool:
    # Recursive over containers, with the common leaf (a string) skipped first: this walk runs
    # on every verification, so it is kept to a few operations per node. Exact types only.
    t = type(value)
    if t is dict:
        try:
            keys = "".join(value)  # all keys strings? (in C, not per key in Python)
        except TypeError:
            return False
        if not keys.isascii() and _astral(keys):
            return False
        value = value.values()
    elif t is not list:
        return (t is str or t is bool or value is None
                or (t is int and -_SAFE_INT <= value <= _SAFE_INT))
    for item in value:
        t = type(item)
        if t is str:
            continue
        if t is dict or t is list:
            if not _plain_node(item):
                return False
        elif not (t is bool or item is None
                  or (t is int and -_SAFE_INT <= item <= _SAFE_INT)):
            return False
    return True


def _plain(value: Any) -> bool:
    """True if ``value`` is JSON the C encoders write exactly as RFC 8785 does."""
    try:
        return _plain_node(value)
    except RecursionError:  # too deep, or cyclic: the reference implementation decides
        return False


def canonicalize(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of ``value``."""
    if _plain(value):
        if _orjson_jcs is not None:
            try:
                return orjson.dumps(value, option=_orjson_jcs)
            except TypeError:  # orjson.JSONEncodeError: a lone surrogate, nesting over 254
                pass  # levels, a key of a str subclass: let the reference write or refuse it
        else:
            try:
                if _c_encode is not None:
                    return "".join(_c_encode(value, 0)).encode("utf-8")
                return _dumps(value).encode("utf-8")
            except (UnicodeEncodeError, RecursionError):  # let the reference say so
                pass
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError, UnicodeError,
            RecursionError) as exc:
        raise CanonicalizationError(str(exc) or type(exc).__name__) from None
