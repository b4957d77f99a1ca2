"""base58-btc: the word-parallel decoder against the digit-by-digit definition."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yiwang.verify import multibase
from yiwang.verify.multibase import MultibaseError, b58decode, b58encode

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _reference(text: str) -> bytes:
    n = 0
    for char in text:
        n = n * 58 + ALPHABET.index(char)
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


@settings(max_examples=500, deadline=None)
@given(st.text(st.sampled_from(ALPHABET), max_size=300))
def test_decode_matches_the_definition(text: str) -> None:
    assert b58decode(text) == _reference(text)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_round_trip(data: bytes) -> None:
    assert b58decode(b58encode(data)) == data


@pytest.mark.parametrize("size", [0, 1, 2, 3, 63, 64, 65, 127, 128, 129])
def test_lane_boundaries(size: int) -> None:
    for text in ("z" * size, "1" * size, "2" + "z" * max(size - 1, 0)):
        assert b58decode(text) == _reference(text)


def test_signature_vector() -> None:
    # A 64-byte signature is 86-88 characters: the 128-digit path.
    data = bytes(range(64))
    assert b58decode(b58encode(data)) == data
    assert multibase.decode("z" + b58encode(b"\0\0" + data)) == b"\0\0" + data


@pytest.mark.parametrize("text", ["0", "O", "I", "l", "abc+", "é", "1 2"])
def test_foreign_characters_are_refused(text: str) -> None:
    with pytest.raises(MultibaseError):
        b58decode(text)
