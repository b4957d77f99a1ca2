"""JCS (RFC 8785): the fast paths give exactly the ``rfc8785`` reference's bytes, or refuse.

Property tests over JSON values with control and non-ASCII characters in strings and keys,
keys that sort differently by UTF-16 code unit than by code point (characters beyond the
BMP beside U+E000..U+FFFF), integers up to and beyond ±(2^53-1), floats of every kind, and
values that are not JSON at all. Each runs through orjson (where installed) and through the
standard library's C encoder.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yiwang.verify import jcs
from yiwang.verify.jcs import CanonicalizationError, canonicalize

SAFE = 2**53 - 1
HEALTH = HealthCheck.function_scoped_fixture  # the encoder fixture is set once per test

# Characters where the two orders part: beyond the BMP (a surrogate pair in UTF-16, 0xD8..)
# sorts before U+E000..U+FFFF by UTF-16 code unit, after them by code point.
_TRICKY = ["a", "B", "\u00e9", "\u4e2d", "\ud7ff", "\ue000", "\uffff", "\U00010000",
           "\U0001f600", "\U0010ffff", "\x00", "\x1f", "\x7f", '"', "\\", "\u2028", "\ufeff"]
_chars = st.characters(exclude_categories=("Cs",))  # every code point but lone surrogates
_text = st.text(_chars, max_size=12) | st.text(st.sampled_from(_TRICKY), max_size=4)
_ints = st.integers(-SAFE, SAFE) | st.sampled_from([SAFE, -SAFE, 0, -1, 2**31, -(2**31)])
_scalars = st.none() | st.booleans() | _ints | _text
json_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_text, inner, max_size=6),
    max_leaves=40,
)
# Anything else the fast paths must leave to the reference (which writes it or refuses it).
_others = (st.floats(allow_nan=True, allow_infinity=True)
           | st.integers(-(2**70), 2**70)
           | st.sampled_from([SAFE + 1, -SAFE - 1, 2**63, -(2**64)])
           | st.text(st.sampled_from(["a", "\ud800", "\udfff"]), min_size=1, max_size=3))
mixed_values = st.recursive(
    _scalars | _others,
    lambda inner: (st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4)
                   | st.lists(inner, max_size=3).map(tuple)),
    max_leaves=25,
)


@pytest.fixture(params=["orjson", "stdlib"])
def encoder(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run a test through orjson, then through the standard library's C encoder."""
    if request.param == "orjson":
        if jcs._orjson_jcs is None:
            pytest.skip("orjson not installed (or it failed the self-test)")
        yield request.param
        return
    saved = jcs._orjson_jcs
    jcs._orjson_jcs = None
    try:
        yield request.param
    finally:
        jcs._orjson_jcs = saved


def _astral_key(value: Any) -> bool:
    if isinstance(value, dict):
        return (any(max(k, default="\0") > "\uffff" for k in value)
                or any(_astral_key(v) for v in value.values()))
    return isinstance(value, list) and any(_astral_key(v) for v in value)


def _reference(value: Any) -> bytes | None:
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError, UnicodeError):
        return None


def _same_as_reference(value: Any) -> None:
    expected = _reference(value)
    if expected is None:
        with pytest.raises(CanonicalizationError):
            canonicalize(value)
    else:
        assert canonicalize(value) == expected


@settings(max_examples=300, deadline=None, suppress_health_check=[HEALTH])
@given(value=json_values)
def test_json_values_match_the_reference(encoder: str, value: Any) -> None:
    assert jcs._json_only(value)
    assert jcs._plain(value) == (not _astral_key(value))  # the rest take a fast path
    assert canonicalize(value) == rfc8785.dumps(value)


@settings(max_examples=300, deadline=None, suppress_health_check=[HEALTH])
@given(keys=st.lists(st.text(st.sampled_from(_TRICKY), min_size=1, max_size=3),
                     min_size=2, max_size=8, unique=True))
def test_keys_sort_by_utf16_code_units(encoder: str, keys: list[str]) -> None:
    value = {k: i for i, k in enumerate(keys)}
    assert canonicalize(value) == rfc8785.dumps(value)
    assert canonicalize({"nested": [value]}) == rfc8785.dumps({"nested": [value]})


@settings(max_examples=300, deadline=None, suppress_health_check=[HEALTH])
@given(value=mixed_values)
def test_anything_else_matches_or_is_refused_like_the_reference(encoder: str, value: Any) -> None:
    _same_as_reference(value)


def test_utf16_order_differs_from_code_point_order(encoder: str) -> None:
    value = {"\ue000": 1, "\U0001f600": 2, "a": 3}
    assert canonicalize(value) == '{"a":3,"\U0001f600":2,"\ue000":1}'.encode()
    assert canonicalize(value) == rfc8785.dumps(value)


@pytest.mark.parametrize("value", [
    {"f": 1.0}, {"f": 1e21}, {"f": 1e-7}, {"f": 0.000001}, {"f": -0.0}, [5e-324],
    {"f": 123456789012345680000.0}, {"n": 2**53 - 1}, {"n": -(2**53 - 1)}, ("a", 1),
    {"s": "\x00\x08\t\n\x0b\x0c\r\x1f\x7f\"\\/\u2028\u2029"},
])
def test_edge_values(encoder: str, value: Any) -> None:
    assert canonicalize(value) == rfc8785.dumps(value)


class _Colour(enum.Enum):
    RED = "red"


class _Str(str):
    pass


class _Int(int):
    pass


@pytest.mark.parametrize("value", [
    {"f": float("nan")}, {"f": float("inf")}, {"n": 2**53}, {"n": -(2**53)}, {1: "x"},
    {"s": "\ud800"}, {"\udc00": 1}, {"u": uuid.UUID(int=1)}, {"e": _Colour.RED}, {"b": b"x"},
    {"set": {1}}, object(),
])
def test_refused_like_the_reference(encoder: str, value: Any) -> None:
    assert _reference(value) is None
    with pytest.raises(CanonicalizationError):
        canonicalize(value)


@pytest.mark.parametrize("value", [{"s": _Str("x")}, {"n": _Int(7)}, [_Int(1)], {"k": ("t",)}])
def test_subclasses_and_tuples_are_left_to_the_reference(encoder: str, value: Any) -> None:
    assert not jcs._plain(value)
    assert not jcs._json_only(value)
    _same_as_reference(value)


def test_subclass_keys(encoder: str) -> None:
    value = {_Str("k"): 1, "j": 2}
    assert canonicalize(value) == rfc8785.dumps(value)


def test_deep_nesting_beyond_orjson(encoder: str) -> None:
    value: Any = "x"
    for _ in range(300):  # orjson stops at 254 levels
        value = [value]
    assert canonicalize(value) == rfc8785.dumps(value)


def test_orjson_is_used_where_installed() -> None:
    pytest.importorskip("orjson")
    assert jcs._orjson_jcs is not None  # it passed the self-test against rfc8785
