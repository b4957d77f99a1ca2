"""The licence QR: COSE_Sign1 over a CWT, zlib, Base45 — checked against pycose, then bad input."""

from __future__ import annotations

import datetime as dt
import zlib

import base45
import cbor2
import pytest
from cryptography.hazmat.primitives import serialization
from pycose.keys import CoseKey
from pycose.messages import Sign1Message

from yiwang.verify import keys, qr

NOW = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
LICENCE = {
    "type": "yyzz",
    "id": "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U",
    "holder": "深圳市示例科技有限公司",
    "fields": {"统一社会信用代码": "91440300MA5EXAMPLE", "法定代表人": "张三",
               "注册资本": "100万元人民币", "成立日期": "2020-01-01",
               "住所": "深圳市南山区粤海街道科技园路 1 号"},
    "status": [{"purpose": "revocation", "index": 94567,
                "list": "https://yiwang.example/credentials/status/3"}],
}


def _claims() -> dict:
    return {"iss": "11440300MB2C93285X", "iat": dt.datetime(2024, 3, 1, tzinfo=dt.UTC),
            "exp": dt.datetime(2029, 3, 1, tzinfo=dt.UTC), "licence": LICENCE}


def _resolver(test_key):
    kid = keys.cose_kid(test_key.public_key)
    return lambda ref: test_key.info() if ref == keys.kid_ref(kid) else None


@pytest.fixture(params=["ES256", "EdDSA"])
def signer(request, p256_key, ed_key):
    return (p256_key if request.param == "ES256" else ed_key), request.param


def _encode(test_key, alg: str) -> str:
    return qr.encode(_claims(), kid=keys.cose_kid(test_key.public_key), sign=test_key.sign,
                     alg=alg)


def _cose(text: str) -> bytes:
    return zlib.decompress(base45.b45decode(text[len(qr.PREFIX):]))


def test_round_trip(signer) -> None:
    test_key, alg = signer
    text = _encode(test_key, alg)
    assert text.startswith("YW1:")
    result = qr.decode_and_verify(text, _resolver(test_key), now=NOW)
    assert result.valid, result.errors
    assert result.subject == LICENCE
    assert result.summary["licence_type"] == "yyzz"
    assert [c.name for c in result.checks] == [
        "prefix", "encoding", "cose", "kid", "key", "signature", "validity"]


def test_pycose_verifies_our_cose_sign1(signer) -> None:
    """pycose, an independent COSE implementation, accepts the signature and the headers."""
    test_key, alg = signer
    tagged = cbor2.loads(_cose(_encode(test_key, alg)))
    assert tagged.tag == 18
    # pycose 1.1's decode() expects cbor2 < 6 (mutable arrays inside tags); hand it the
    # array as a list — header parsing, Sig_structure and the signature check stay pycose's.
    protected, unprotected, payload, signature = tagged.value
    message = Sign1Message.from_cose_obj([protected, dict(unprotected), payload, signature], True)
    pem = keys.load_public_key(test_key.algorithm, test_key.public_key).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    message.key = CoseKey.from_pem_public_key(pem)
    assert message.verify_signature()
    headers = {getattr(k, "identifier", k): v for k, v in message.phdr.items()}
    assert headers[4] == keys.cose_kid(test_key.public_key)
    assert len(headers[4]) == 8
    claims = cbor2.loads(message.payload)
    assert claims[1] == "11440300MB2C93285X"
    assert claims[-65537]["id"] == LICENCE["id"]


def test_we_verify_a_message_pycose_signed(p256_key) -> None:
    """And the other way round: a COSE_Sign1 made by pycose verifies with decode_and_verify."""
    from pycose.algorithms import Es256
    from pycose.headers import KID, Algorithm

    kid = keys.cose_kid(p256_key.public_key)
    pem = p256_key.private.private_bytes(serialization.Encoding.PEM,
                                         serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()).decode()
    payload = cbor2.dumps({1: "x", 6: 1709251200, 4: 1867017600, -65537: LICENCE})
    message = Sign1Message(phdr={Algorithm: Es256, KID: kid}, payload=payload)
    message.key = CoseKey.from_pem_private_key(pem)
    text = qr.PREFIX + base45.b45encode(zlib.compress(message.encode(), 9)).decode()
    result = qr.decode_and_verify(text, _resolver(p256_key), now=NOW)
    assert result.valid, result.errors
    assert result.subject == LICENCE


def test_size_fits_a_phone_readable_code(p256_key) -> None:
    text = _encode(p256_key, "ES256")
    assert len(text) <= qr.MAX_TEXT
    assert qr.qr_version(text) <= qr.MAX_QR_VERSION
    svg = qr.qr_svg(text, title="营业执照")
    assert svg.startswith("<svg") and "</svg>" in svg


def test_oversized_claims_are_refused(p256_key) -> None:
    import os

    big = {**_claims(), "licence": {**LICENCE, "blob": os.urandom(1500).hex()}}
    with pytest.raises(ValueError, match="exceeds"):
        qr.encode(big, kid=b"12345678", sign=p256_key.sign)


def _failed(result) -> list[str]:
    assert not result.valid
    return result.failed_names()


def test_truncated(p256_key) -> None:
    text = _encode(p256_key, "ES256")
    for cut in (5, len(text) // 2, len(text) - 3):
        assert _failed(qr.decode_and_verify(text[:cut], _resolver(p256_key), now=NOW)) \
            == ["encoding"]


def test_garbled_characters(p256_key) -> None:
    text = _encode(p256_key, "ES256")
    garbled = text[:40] + ("A" if text[40] != "A" else "B") + text[41:]
    failed = _failed(qr.decode_and_verify(garbled, _resolver(p256_key), now=NOW))
    assert failed[0] in ("encoding", "cose", "signature")
    assert qr.decode_and_verify(text[:20] + "~" + text[21:], _resolver(p256_key)).errors[0].name \
        == "encoding"


@pytest.mark.parametrize("text", ["", "HC1:6BFOXN", "yw1:ABC", "https://example.org", None, 42])
def test_wrong_prefix_or_not_text(text) -> None:
    assert _failed(qr.decode_and_verify(text, lambda ref: None))[0] in ("prefix", "malformed")


def _wrap(payload: bytes) -> str:
    return qr.PREFIX + base45.b45encode(zlib.compress(payload)).decode()


@pytest.mark.parametrize("payload", [
    b"\xff\xfe not cbor",
    cbor2.dumps({"a": 1}),
    cbor2.dumps(cbor2.CBORTag(98, [b"", {}, b"", []])),
    cbor2.dumps([b"", {}, b""]),
    cbor2.dumps([b"\xa1\x01\x26", {}, b"\xff", b"x" * 64]),
    cbor2.dumps([cbor2.dumps({1: -37, 4: b"12345678"}), {}, cbor2.dumps({}), b"x" * 64]),
    cbor2.dumps([cbor2.dumps({1: -7}), {}, cbor2.dumps({}), b"x" * 64]),
])
def test_bad_cbor_or_cose(payload) -> None:
    assert _failed(qr.decode_and_verify(_wrap(payload), lambda ref: None)) == ["cose"]


def test_not_zlib() -> None:
    text = qr.PREFIX + base45.b45encode(b"plain bytes").decode()
    assert _failed(qr.decode_and_verify(text, lambda ref: None)) == ["encoding"]


def test_zip_bomb_is_refused() -> None:
    text = qr.PREFIX + base45.b45encode(zlib.compress(b"\0" * (10 * 1024 * 1024), 9)).decode()
    assert _failed(qr.decode_and_verify(text, lambda ref: None)) == ["encoding"]


def test_bad_signature(p256_key) -> None:
    message = cbor2.loads(_cose(_encode(p256_key, "ES256")))
    parts = list(message.value)
    sig = bytearray(parts[3])
    sig[5] ^= 1
    parts[3] = bytes(sig)
    message = cbor2.CBORTag(18, parts)
    failed = _failed(qr.decode_and_verify(_wrap(cbor2.dumps(message)), _resolver(p256_key),
                                          now=NOW))
    assert failed == ["signature"]


def test_payload_edited_after_signing(ed_key) -> None:
    message = cbor2.loads(_cose(_encode(ed_key, "EdDSA")))
    parts = list(message.value)
    claims = cbor2.loads(parts[2])
    claims[-65537]["fields"]["法定代表人"] = "李四"
    parts[2] = cbor2.dumps(claims)
    message = cbor2.CBORTag(18, parts)
    assert _failed(qr.decode_and_verify(_wrap(cbor2.dumps(message)), _resolver(ed_key),
                                        now=NOW)) == ["signature"]


def test_unknown_kid(p256_key, ed_key) -> None:
    text = _encode(p256_key, "ES256")
    result = qr.decode_and_verify(text, _resolver(ed_key), now=NOW)
    assert _failed(result) == ["kid", "signature"]
    # The unverified issuer claim is kept for the verifier to name, and nothing else is.
    assert result.summary["claimed_issuer"] == _claims()["iss"]
    assert "issuer" not in result.summary and result.subject is None


def test_alg_that_does_not_match_the_key(p256_key) -> None:
    kid = keys.cose_kid(p256_key.public_key)
    text = qr.encode(_claims(), kid=kid, sign=lambda data: b"\1" * 64, alg="EdDSA")
    assert _failed(qr.decode_and_verify(text, _resolver(p256_key), now=NOW)) == ["key"]


def test_expired_and_future(p256_key) -> None:
    text = _encode(p256_key, "ES256")
    later = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert _failed(qr.decode_and_verify(text, _resolver(p256_key), now=later)) == ["validity"]
    earlier = dt.datetime(2024, 2, 1, tzinfo=dt.UTC)
    assert _failed(qr.decode_and_verify(text, _resolver(p256_key), now=earlier)) == ["created"]


def test_revoked_key(p256_key) -> None:
    text = _encode(p256_key, "ES256")
    result = qr.decode_and_verify(text, lambda ref: p256_key.info(status="revoked"), now=NOW)
    assert _failed(result) == ["key"]


def test_random_garbage_never_raises() -> None:
    import random

    rng = random.Random(4)
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
    for _ in range(300):
        text = qr.PREFIX + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 200)))
        assert not qr.decode_and_verify(text, lambda ref: None).valid


def test_b45decode_matches_the_base45_package() -> None:
    import os
    import random

    rng = random.Random(9285)
    for size in list(range(0, 40)) + [rng.randrange(40, 2000) for _ in range(50)]:
        data = os.urandom(size)
        text = base45.b45encode(data).decode()
        assert qr.b45decode(text) == data
    # RFC 9285 §4.3 examples.
    assert qr.b45decode("BB8") == b"AB"
    assert qr.b45decode("%69 VD92EX0") == b"Hello!!"
    assert qr.b45decode("UJCLQE7W581") == b"base-45"
    for bad in ("GGW", "A", "ABCD", "abc", "é12", "::::"):
        with pytest.raises(ValueError):
            qr.b45decode(bad)


def test_qr_without_iat_is_judged_at_now_against_the_key_window(p256_key) -> None:
    """Review L1: a QR with no ``iat`` does not skip the key's validity: it is checked at the
    verification time, so an expired key's undated QR fails ``key``."""
    claims = _claims()
    del claims["iat"]
    text = qr.encode(claims, kid=keys.cose_kid(p256_key.public_key), sign=p256_key.sign)
    kid_ref = keys.kid_ref(keys.cose_kid(p256_key.public_key))

    def resolver(**overrides):
        return lambda ref: p256_key.info(**overrides) if ref == kid_ref else None

    assert qr.decode_and_verify(text, resolver(), now=NOW).valid
    expired = qr.decode_and_verify(
        text, resolver(valid_until=dt.datetime(2024, 1, 1, tzinfo=dt.UTC)), now=NOW)
    assert _failed(expired) == ["key"]
    assert "no iat" in expired.errors[0].message
    not_yet = qr.decode_and_verify(
        text, resolver(valid_from=dt.datetime(2025, 1, 1, tzinfo=dt.UTC)), now=NOW)
    assert _failed(not_yet) == ["key"]
