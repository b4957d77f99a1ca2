"""The signature plugins: round trips, tampering, key formats, the DER/raw conversions."""

import pytest
from asn1crypto import keys as asn1_keys

from yiwang.core.crypto import registry, service
from yiwang.core.crypto.signatures import InvalidKey, InvalidSignatureEncoding, KeyCache

ALGORITHMS = ["ed25519", "ecdsa-p256", "sm2"]


@pytest.mark.parametrize("name", ALGORITHMS)
def test_round_trip_and_every_flipped_byte_fails(name):
    algorithm = registry.get_signature(name)
    private = algorithm.generate_key()
    public = algorithm.public_key(private)
    data = "营业执照 91350100M000100Y43".encode()
    signature = algorithm.sign(private, data)
    assert algorithm.verify(public, data, signature)
    assert not algorithm.verify(public, data + b"!", signature)
    for position in range(len(signature)):
        flipped = bytearray(signature)
        flipped[position] ^= 0x01
        assert not algorithm.verify(public, data, bytes(flipped)), position
    other = algorithm.public_key(algorithm.generate_key())
    assert not algorithm.verify(other, data, signature)


@pytest.mark.parametrize("name", ALGORITHMS)
@pytest.mark.parametrize("signature", [b"", b"0", b"\x30\x02\x02\x00", bytes(64), bytes(72),
                                       b"\x30\x06\x02\x01\x00\x02\x01\x00"])
def test_malformed_signatures_are_invalid_not_errors(name, signature):
    algorithm = registry.get_signature(name)
    public = algorithm.public_key(algorithm.generate_key())
    assert algorithm.verify(public, b"x", signature) is False


@pytest.mark.parametrize("name", ALGORITHMS)
def test_malformed_public_keys_are_invalid_not_errors(name):
    algorithm = registry.get_signature(name)
    private = algorithm.generate_key()
    signature = algorithm.sign(private, b"x")
    assert algorithm.verify(b"junk", b"x", signature) is False
    assert algorithm.verify(algorithm.public_key(private)[:-1], b"x", signature) is False


def test_keys_of_one_algorithm_are_refused_by_another():
    p256, sm2, ed = (registry.get_signature(n) for n in ("ecdsa-p256", "sm2", "ed25519"))
    with pytest.raises(InvalidKey, match="SM2"):
        sm2.sign(p256.generate_key(), b"x")
    with pytest.raises(InvalidKey, match="P-256"):
        p256.sign(sm2.generate_key(), b"x")
    with pytest.raises(InvalidKey):
        ed.sign(p256.generate_key(), b"x")
    p256_key = p256.generate_key()
    assert not sm2.verify(p256.public_key(p256_key), b"x", p256.sign(p256_key, b"x"))


def test_sm2_keys_carry_the_sm2_curve_oid():
    sm2 = registry.get_signature("sm2")
    private = sm2.generate_key()
    info = asn1_keys.PrivateKeyInfo.load(private)
    assert info["private_key_algorithm"]["algorithm"].dotted == "1.2.840.10045.2.1"
    assert info["private_key_algorithm"]["parameters"].chosen.dotted == "1.2.156.10197.1.301"
    spki = asn1_keys.PublicKeyInfo.load(sm2.public_key(private))
    assert spki["algorithm"]["parameters"].chosen.dotted == "1.2.156.10197.1.301"
    assert len(spki["public_key"].native) == 65  # uncompressed point


def test_sm2_accepts_only_canonical_der():
    sm2 = registry.get_signature("sm2")
    private = sm2.generate_key()
    signature = sm2.sign(private, b"x")
    raw = service.ecdsa_der_to_raw(signature)
    # The same (r, s) with a needless leading zero in r is not DER.
    padded = service.ecdsa_raw_to_der(raw)
    assert padded == signature
    assert not sm2.verify(sm2.public_key(private), b"x", signature + b"\x00")


def test_der_raw_conversions_round_trip_and_refuse_junk():
    p256 = registry.get_signature("ecdsa-p256")
    private = p256.generate_key()
    for _ in range(20):  # some r or s have a high bit set or are shorter than 32 bytes
        signature = p256.sign(private, b"x")
        raw = service.ecdsa_der_to_raw(signature)
        assert len(raw) == 64
        assert service.ecdsa_raw_to_der(raw) == signature
    assert service.ecdsa_raw_to_der(bytes(31) + b"\x01" + bytes(31) + b"\x02") == bytes.fromhex(
        "3006020101020102")
    with pytest.raises(InvalidSignatureEncoding):
        service.ecdsa_der_to_raw(b"junk")
    with pytest.raises(InvalidSignatureEncoding):
        service.ecdsa_der_to_raw(service.ecdsa_raw_to_der(b"\xff" * 66), size=32)
    with pytest.raises(ValueError):
        service.ecdsa_raw_to_der(b"odd")


def test_key_cache_is_bounded_and_least_recently_used():
    loads = []
    cache = KeyCache(lambda b: loads.append(b) or b.upper(), size=2)
    assert cache.get(b"a") == b"A"
    cache.get(b"b")
    cache.get(b"a")  # a is now the most recent
    cache.get(b"c")  # evicts b
    assert len(cache) == 2
    cache.get(b"a")
    cache.get(b"b")
    assert loads == [b"a", b"b", b"c", b"b"]


def test_ed25519_example_1_of_rfc_8032():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    secret = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    pkcs8 = ed25519.Ed25519PrivateKey.from_private_bytes(secret).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    algorithm = registry.get_signature("ed25519")
    public = algorithm.public_key(pkcs8)
    assert public[-32:].hex() == ("d75a980182b10ab7d54bfed3c964073a"
                                  "0ee172f3daa62325af021a68f707511a")
    signature = algorithm.sign(pkcs8, b"")
    assert signature.hex() == (
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555"
        "fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
    assert algorithm.verify(public, b"", signature)
