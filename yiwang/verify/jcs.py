"""JSON Canonicalization Scheme (RFC 8785), fast where it safely can be.

For JSON made only of strings, booleans, null, integers within ±(2^53-1), arrays and objects
whose keys sort the same by code point as by UTF-16 code unit, RFC 8785's output is plain
compact JSON with sorted keys, in UTF-8, escaping only ``"``, ``\\`` and control characters
(as ``\\b \\t \\n \\f \\r`` or ``\\u00xx``). Such a value is written by a C encoder,
checked against the ``rfc8785`` package at import and unused if it differs:

- ``orjson`` (``OPT_SORT_KEYS | OPT_STRICT_INTEGER``) where it is installed: a walk checks that
  every value is of an exact JSON type (no float, no subclass, no tuple, no other object);
  orjson itself refuses keys that are not exact strings, integers beyond ±(2^53-1) and lone
  surrogates; and only if the output has a character beyond the BMP are the keys walked for
  one (it would sort differently).
- else the standard library's encoder, after one walk that checks all of that.

That is 10-20 times faster than the pure-Python ``rfc8785`` package, which matters because
canonicalisation is most of a credential verification's overhead over the signature itself.
Anything else (a float, a big integer, a key with a character beyond U+FFFF, a lone
surrogate, nesting deeper than the C encoder goes) goes to ``rfc8785``, the reference
implementation, which writes it or refuses it.
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
    # on every verification without orjson, so it is kept to a few operations per node.
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
    """True if ``value`` is JSON the C encoders write exactly as RFC 8785 does: exact types
    (no float, no subclass, no tuple, no other object), integers within ±(2^53-1), string
    keys, none with a character beyond the BMP."""
    try:
        return _plain_node(value)
    except RecursionError:  # too deep, or cyclic: the reference implementation decides
        return False


def _json_node(container: Any) -> bool:
    for item in container.values() if type(container) is dict else container:
        t = type(item)
        if t is str:
            continue
        if t is dict or t is list:
            if not _json_node(item):
                return False
        elif not (t is int or t is bool or item is None):
            return False
    return True


def _json_only(value: Any) -> bool:
    """True if ``value`` and everything in it is of an exact JSON type (dict, list, str, int,
    bool, None). Keys and integer ranges are left to orjson, which refuses a key that is not
    an exact str and an integer beyond ±(2^53-1) with ``OPT_STRICT_INTEGER``."""
    t = type(value)
    if t is dict or t is list:
        try:
            return _json_node(value)
        except RecursionError:  # too deep, or cyclic: the reference implementation decides
            return False
    return t is str or t is int or t is bool or value is None


def canonicalize(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of ``value``."""
    if _orjson_jcs is not None:
        if _json_only(value):
            try:
                out: bytes = orjson.dumps(value, option=_orjson_jcs)
            except TypeError:  # orjson.JSONEncodeError: a key that is not an exact str, an
                pass  # integer out of range, a lone surrogate, over 254 levels: the reference
            else:
                # A character beyond the BMP (UTF-8 lead byte F0..F4) may sort differently in
                # a key; where there is one anywhere, the full walk looks at the keys.
                # (An int needle: memchr, where a bytes needle first fails as an int.)
                if not (0xF0 in out or 0xF1 in out or 0xF2 in out or 0xF3 in out
                        or 0xF4 in out) or _plain(value):
                    return out
    elif _plain(value):
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
