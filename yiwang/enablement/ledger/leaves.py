"""What a ledger leaf is, byte for byte (pure Python: the offline verifier uses it too).

A record is canonicalised with JCS (RFC 8785) and hashed with the log's algorithm: that is
the *record hash*. The leaf's data (what tlog-tiles entry bundles carry, and what the leaf
hash covers with RFC 9162's 0x00 prefix) is the JCS text of::

    {"record_hash": "<hex>", "timestamp": <ms since the epoch, UTC>, "type": "<entry type>"}

so the type and time of every entry are as tamper-evident as the record itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import rfc8785

from yiwang.enablement.ledger import merkle

ENTRY_TYPE = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+")
MAX_ENTRY_TYPE = 64


class RecordError(ValueError):
    """A record that cannot be canonicalised (not JSON), with the reason."""


def canonical(record: Mapping[str, Any]) -> bytes:
    """The JCS (RFC 8785) bytes of ``record``; raises :class:`RecordError` for non-JSON."""
    if not isinstance(record, Mapping):
        raise RecordError("a record is a JSON object")
    if not isinstance(record, dict):
        record = dict(record)
    if _check_json(record, ""):
        # No floats and ASCII keys only: Python's JSON encoder (sorted keys, no spaces, no
        # ASCII escaping) writes exactly what JCS prescribes — strings escape the same
        # characters the same way, integers print alike and code-point order is UTF-16
        # order for ASCII keys — at a fraction of the pure-Python serialiser's cost.
        try:
            return json.dumps(record, ensure_ascii=False, separators=(",", ":"),
                              sort_keys=True, allow_nan=False).encode("utf-8")
        except (UnicodeEncodeError, ValueError) as exc:
            raise RecordError(f"not valid JSON text ({exc.__class__.__name__})") from None
    try:
        return rfc8785.dumps(record)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise RecordError(str(exc) or "not a JSON value") from None


def _check_json(value: Any, path: str) -> bool:
    """Raise RecordError for a value that is not plain JSON; return whether the fast
    serialiser applies (no floats, ASCII object keys)."""
    # rfc8785 is lenient with some Python types (tuples); a record must be plain JSON, so
    # that the same bytes come back when an auditor parses the exported record.
    if value is None or isinstance(value, (bool, str)):
        return True
    if isinstance(value, int):
        if abs(value) > 2**53 - 1:
            raise RecordError(f"{path or 'record'}: integer outside the JSON-safe range")
        return True
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise RecordError(f"{path or 'record'}: not a finite number")
        return False
    if isinstance(value, dict):
        fast = True
        for key, item in value.items():
            if not isinstance(key, str):
                raise RecordError(f"{path or 'record'}: object keys must be strings")
            fast = _check_json(item, f"{path}.{key}" if path else key) and fast and key.isascii()
        return fast
    if isinstance(value, list):
        fast = True
        for i, item in enumerate(value):
            fast = _check_json(item, f"{path}[{i}]") and fast
        return fast
    raise RecordError(f"{path or 'record'}: {type(value).__name__} is not a JSON value")


def record_hash_of(canonical_bytes: bytes, algorithm: str) -> bytes:
    return merkle.hasher_for(algorithm).digest(canonical_bytes)


_HEX64 = re.compile(r"[0-9a-f]{64}")


def entry_bytes(entry_type: str, record_hash_hex: str, timestamp_ms: int) -> bytes:
    """The leaf data of an entry (see the module docstring)."""
    if (type(timestamp_ms) is int and 0 <= timestamp_ms < 2**53
            and ENTRY_TYPE.fullmatch(entry_type) and _HEX64.fullmatch(record_hash_hex)):
        # What JCS gives for these values (keys in order, nothing to escape), without
        # the general serialiser's cost on the append path; a test checks they agree.
        return b'{"record_hash":"%s","timestamp":%d,"type":"%s"}' % (
            record_hash_hex.encode(), timestamp_ms, entry_type.encode())
    return rfc8785.dumps({"record_hash": record_hash_hex, "timestamp": timestamp_ms,
                          "type": entry_type})


def leaf_hash_of(entry_type: str, record_hash_hex: str, timestamp_ms: int,
                 algorithm: str) -> bytes:
    return merkle.hasher_for(algorithm).hash_leaf(
        entry_bytes(entry_type, record_hash_hex, timestamp_ms))


def parse_entry_bytes(data: bytes) -> tuple[str, str, int]:
    """(type, record hash hex, timestamp) from leaf data; ValueError if it is not one."""
    obj = json.loads(data)
    if not isinstance(obj, dict) or set(obj) != {"record_hash", "timestamp", "type"}:
        raise ValueError("not a ledger leaf")
    if entry_bytes(obj["type"], obj["record_hash"], obj["timestamp"]) != data:
        raise ValueError("leaf data is not canonical")
    return obj["type"], obj["record_hash"], obj["timestamp"]
