"""Multikey, multibase and signature helpers."""

from __future__ import annotations

import base64
import datetime as dt

import pytest

from yiwang.verify import keys, multibase


@pytest.mark.parametrize("name", ["ed_key", "p256_key", "sm2_key"])
def test_multikey_round_trip(request, name) -> None:
    test_key = request.getfixturevalue(name)
    text = multibase.encode_multikey(test_key.algorithm, test_key.public_key)
    assert text.startswith("z")
    algorithm, spki = multibase.decode_multikey(text)
    assert algorithm == test_key.algorithm
    assert spki == test_key.public_key
    if name == "ed_key":
        assert text.startswith("z6Mk")
    if name == "p256_key":
        assert text.startswith("zDn")


@pytest.mark.parametrize("name", ["ed_key", "p256_key", "sm2_key"])
def test_verify_signature(request, name) -> None:
    test_key = request.getfixturevalue(name)
    signature = test_key.sign(b"data")
    assert keys.verify_signature(test_key.algorithm, test_key.public_key, b"data", signature)
    assert not keys.verify_signature(test_key.algorithm, test_key.public_key, b"date", signature)
    assert not keys.verify_signature(test_key.algorithm, b"garbage", b"data", signature)
    assert not keys.verify_signature(test_key.algorithm, test_key.public_key, b"data", b"\x30")


def test_ecdsa_raw_der_round_trip(p256_key) -> None:
    der = p256_key.sign(b"x")
    raw = keys.der_to_raw(der)
    assert len(raw) == 64
    assert keys.raw_to_der(raw) == der
    with pytest.raises(ValueError):
        keys.raw_to_der(b"\x01" * 63)


@pytest.mark.parametrize("bad", ["", "x123", "z0OIl", "u***", 42])
def test_multibase_rejects(bad) -> None:
    with pytest.raises(multibase.MultibaseError):
        multibase.decode(bad)  # type: ignore[arg-type]


def test_multikey_rejects_unknown_header() -> None:
    with pytest.raises(multibase.MultibaseError):
        multibase.decode_multikey(multibase.encode(b"\x12\x34" + bytes(32)))


def test_key_info_from_mapping_and_times(ed_key) -> None:
    info = keys.key_info({"algorithm": "ed25519",
                          "public_key": base64.b64encode(ed_key.public_key).decode(),
                          "valid_from": "2024-01-01T00:00:00Z", "licence_types": ["yyzz"],
                          "authorisations": {"yyzz": {"from": "2024-02-01T08:00:00+08:00",
                                                      "until": None}}})
    assert info.valid_from == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    assert info.authorisations["yyzz"] == (dt.datetime(2024, 2, 1, tzinfo=dt.UTC), None)
    with pytest.raises(ValueError):
        keys.key_info({"algorithm": "rsa", "public_key": b""})
    assert keys.kid_ref(b"12345678") == "cose:MTIzNDU2Nzg="
