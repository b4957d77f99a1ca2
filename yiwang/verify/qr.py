"""The compact QR form of a licence — the EU Digital COVID Certificate recipe.

Claims in a CWT (RFC 8392: ``iss`` 1, ``exp`` 4, ``iat`` 6, and the licence in private claim
``-65537``), signed as a COSE_Sign1 (RFC 9052, CBOR tag 18: protected header ``{1: alg,
4: kid}``, ``alg`` ES256 = -7 or EdDSA = -8, ``kid`` 8 bytes (:func:`keys.cose_kid`); the
signature covers ``Sig_structure = ["Signature1", protected, b"", payload]``; ECDSA
signatures are raw ``r || s``), compressed with zlib, Base45-encoded (RFC 9285) and
prefixed with ``YW1:`` (yiwang, version 1). Everything is in the QR alphanumeric set, so the
code stays small; :data:`MAX_TEXT` keeps it within a QR code a phone camera reads easily.

The licence claim is a map: ``type`` (licence type code), ``id`` (GB/T 36904 identifier),
``fields`` (the licence's fields), optionally ``holder`` and ``status`` (a list of
``{"purpose": "revocation"|"suspension", "index": int, "list": status list URL}``).

:func:`decode_and_verify` never raises: a truncated, garbled or forged code gives a
:class:`~yiwang.verify.result.Result` naming what failed.
"""

from __future__ import annotations

import datetime as dt
import struct
import zlib
from collections.abc import Callable, Mapping
from typing import Any

import base45
import cbor2

from yiwang.verify import keys as keys_mod
from yiwang.verify import result as r

PREFIX = "YW1:"
KID = "kid"  # check name: the kid is known and trusted
ALGS = {"ES256": -7, "EdDSA": -8}
ALG_KEYS = {-7: "ecdsa-p256", -8: "ed25519"}
CLAIM_ISS, CLAIM_EXP, CLAIM_IAT = 1, 4, 6
CLAIM_LICENCE = -65537  # private-use claim key (RFC 8392 §9.1: integers below -65536)
COSE_SIGN1_TAG = 18
QR_ERROR = "m"  # QR error correction level for rendering
MAX_QR_VERSION = 25
MAX_TEXT = 1451  # characters a version-25 code holds at level M in alphanumeric mode
MAX_INFLATED = 64 * 1024  # a licence QR never inflates beyond this (zip-bomb guard)
CLOCK_SKEW = dt.timedelta(minutes=5)
MAX_CLAIMED_ISSUER = 300  # characters of an unverified issuer claim repeated in a result


def _epoch(value: int | dt.datetime) -> int:
    return int(value.timestamp()) if isinstance(value, dt.datetime) else int(value)


def cwt_claims(*, issuer: str, issued_at: int | dt.datetime, expires_at: int | dt.datetime,
               licence: dict[str, Any]) -> dict[int, Any]:
    """The CWT claims map of a licence QR."""
    return {CLAIM_ISS: issuer, CLAIM_IAT: _epoch(issued_at), CLAIM_EXP: _epoch(expires_at),
            CLAIM_LICENCE: licence}


def _normalise_claims(claims: dict[Any, Any]) -> dict[int, Any]:
    names = {"iss": CLAIM_ISS, "iat": CLAIM_IAT, "exp": CLAIM_EXP, "licence": CLAIM_LICENCE}
    out: dict[int, Any] = {}
    for key, value in claims.items():
        code = names.get(key, key)
        if code in (CLAIM_IAT, CLAIM_EXP) and isinstance(value, dt.datetime):
            value = _epoch(value)
        out[code] = value
    return out


def sig_structure(protected: bytes, payload: bytes) -> bytes:
    """The bytes a COSE_Sign1 signature covers (RFC 9052 §4.4), with empty external AAD."""
    return cbor2.dumps(["Signature1", protected, b"", payload])


def encode(claims: dict[Any, Any], *, kid: bytes, sign: Callable[[bytes], bytes],
           alg: str | int = "ES256") -> str:
    """The QR text for ``claims`` (``{"iss", "iat", "exp", "licence"}`` or CWT integer keys).

    ``sign(data)`` signs with the issuer's key in its native form (ES256: DER or raw; EdDSA:
    raw). Raises ValueError if the result would not fit :data:`MAX_TEXT`.
    """
    alg_id = ALGS.get(alg, alg) if isinstance(alg, str) else alg
    if alg_id not in ALG_KEYS:
        raise ValueError(f"unsupported COSE alg {alg!r}")
    protected = cbor2.dumps({1: alg_id, 4: bytes(kid)})
    payload = cbor2.dumps(_normalise_claims(claims))
    signature = sign(sig_structure(protected, payload))
    if alg_id == -7 and not (len(signature) == 64 and signature[0] != 0x30):
        signature = keys_mod.der_to_raw(signature)
    cose = cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {}, payload, signature]))
    text = PREFIX + base45.b45encode(zlib.compress(cose, 9)).decode("ascii")
    if len(text) > MAX_TEXT:
        raise ValueError(f"QR text of {len(text)} characters exceeds {MAX_TEXT}")
    return text


def qr_svg(text: str, *, scale: int = 4, title: str | None = None) -> str:
    """An SVG image of ``text`` as a QR code (level M, no micro codes), for pages and PDFs."""
    import io

    import segno

    code = segno.make(text, error=QR_ERROR, micro=False)
    out = io.BytesIO()
    code.save(out, kind="svg", scale=scale, border=4, xmldecl=False, svgns=True,
              title=title, nl=False)
    return out.getvalue().decode("utf-8")


def qr_version(text: str) -> int:
    """The QR version (1–40) ``text`` needs at level M."""
    import segno

    return int(segno.make(text, error=QR_ERROR, micro=False, boost_error=False).version)


_B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_B45_TABLE = bytes(_B45.index(chr(b)) if chr(b) in _B45 else 0xFF for b in range(256))


def b45decode(text: str) -> bytes:
    """RFC 9285 Base45 decoding; ValueError on a foreign character, a dangling character or
    a group out of range. (About three times faster than the ``base45`` package's decoder,
    which was the largest single cost of verifying a QR.)"""
    if not text.isascii():
        raise ValueError("not Base45")
    values = text.encode("ascii").translate(_B45_TABLE)
    if b"\xff" in values:
        raise ValueError("not Base45")
    size = len(values)
    if size % 3 == 1:
        raise ValueError("dangling Base45 character")
    full = size - size % 3
    it = iter(values[:full])
    groups = [a + b * 45 + c * 2025 for a, b, c in zip(it, it, it, strict=True)]
    try:
        out = struct.pack(f">{len(groups)}H", *groups)
    except struct.error:
        raise ValueError("Base45 group out of range") from None
    if size % 3 == 2:
        last = values[full] + values[full + 1] * 45
        if last > 0xFF:
            raise ValueError("Base45 group out of range")
        out += bytes((last,))
    return out


def _inflate(data: bytes) -> bytes:
    d = zlib.decompressobj()
    out = d.decompress(data, MAX_INFLATED)
    if d.unconsumed_tail:
        raise ValueError("inflates beyond the limit")
    if not d.eof:
        raise ValueError("truncated zlib stream")
    return out


def decode_and_verify(text: Any, resolve_key: keys_mod.KeyResolver, *,
                      now: dt.datetime | None = None) -> r.Result:
    """Verify a licence QR text. ``resolve_key(keys.kid_ref(kid))`` returns the trusted key.

    Checks, in order: prefix, encoding (Base45, zlib), cose (CBOR, COSE_Sign1 structure,
    alg), kid (known), key (usable, alg matches; at ``iat``, or now if there is none),
    signature, validity (iat/exp). An unknown kid fails ``kid`` and ``signature``. Until the
    signature verified, the CWT's ``iss`` is only in ``summary["claimed_issuer"]``.
    """
    res = r.Result()
    try:
        _decode_and_verify(res, text, resolve_key, now or keys_mod.utcnow())
    except Exception as exc:  # the last line of defence: bad input never escapes as a crash
        res.failed(r.MALFORMED, f"二维码内容无法解析 (QR content could not be parsed: "
                                f"{type(exc).__name__})")
    return res


def _decode_and_verify(res: r.Result, text: Any, resolve_key: keys_mod.KeyResolver,
                       now: dt.datetime) -> None:
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError:
            res.failed(r.PREFIX, "不是二维码文本 (not QR text)")
            return
    if not isinstance(text, str):
        res.failed(r.MALFORMED, "不是二维码文本 (not QR text)")
        return
    text = text.strip()
    if not text.startswith(PREFIX):
        res.failed(r.PREFIX, f"二维码前缀不符 (prefix is not {PREFIX})")
        return
    res.passed(r.PREFIX, f"前缀 {PREFIX} (prefix {PREFIX})")
    try:
        compressed = b45decode(text[len(PREFIX):])
    except Exception:
        res.failed(r.ENCODING,
                   "二维码内容不是有效的 Base45 (not valid Base45: garbled or truncated)")
        return
    try:
        cose_bytes = _inflate(compressed)
    except (zlib.error, ValueError):
        res.failed(r.ENCODING, "二维码内容解压失败 (zlib data invalid: truncated or garbled)")
        return
    res.passed(r.ENCODING, "Base45 与 zlib 解码成功 (Base45 and zlib decoded)")
    try:
        message = _loads(cose_bytes)
    except Exception:
        res.failed(r.COSE, "不是有效的 CBOR (not valid CBOR)")
        return
    parsed = _parse_sign1(res, message)
    if parsed is None:
        return
    protected_bytes, alg, kid, payload_bytes, signature, claims = parsed
    res.passed(r.COSE, f"COSE_Sign1 结构完整 (COSE_Sign1 well-formed, alg {alg})")
    res.summary.update({"kind": "qr", "kid": kid.hex()})
    # Unverified until the signature checks out, but worth naming if it does not: the
    # verifier can then say whose licence this claims to be (offline.Verifier names it in a
    # failed issuer check, marked as a claim). Replaced by "issuer" once verified.
    claimed = claims.get(CLAIM_ISS)
    if isinstance(claimed, str) and claimed:
        res.summary["claimed_issuer"] = claimed[:MAX_CLAIMED_ISSUER]

    ref = keys_mod.kid_ref(kid)
    try:
        key = keys_mod.key_info(resolve_key(ref))
    except Exception:
        key = None
    if key is None:
        res.failed(KID, f"未知或不受信任的密钥标识 (unknown or untrusted kid {kid.hex()})")
        res.failed(r.SIGNATURE, "签名无法验证：密钥未知 (signature not verified: the kid is "
                                "not a trusted key)")
        return
    res.passed(KID, f"密钥标识可信 (kid {kid.hex()} trusted)")
    res.key = key
    res.summary.update({"issuer_id": key.issuer_id, "key_id": key.key_id})

    iat = claims.get(CLAIM_IAT)
    exp = claims.get(CLAIM_EXP)
    issued = _time(iat)
    expires = _time(exp)
    if (iat is not None and issued is None) or (exp is not None and expires is None):
        res.failed(r.FORMAT, "iat/exp 不是时间戳 (iat/exp is not a timestamp)")
        return
    if ALG_KEYS[alg] != key.algorithm:
        res.failed(r.KEY, f"密钥算法与 alg 不符 (kid is a {key.algorithm} key, alg {alg})")
        return
    if key.status == "revoked":
        res.failed(r.KEY, "签名密钥已吊销 (signing key revoked)")
        return
    if issued is None:  # no iat: the key must be valid now (never skip its window)
        if ((key.valid_from and now < key.valid_from.replace(microsecond=0))
                or (key.valid_until and now > key.valid_until)):
            res.failed(r.KEY, "密钥不在有效期内，且二维码未注明签发时间 (key not valid now, and "
                              "the QR has no iat)")
            return
    elif ((key.valid_from and issued < key.valid_from.replace(microsecond=0))
            or (key.valid_until and issued > key.valid_until)):
        res.failed(r.KEY, "签发时密钥不在有效期内 (key not valid when the QR was issued)")
        return
    res.passed(r.KEY, "签名密钥可信且有效 (signing key trusted and usable)")

    native = keys_mod.raw_to_der(signature) if alg == -7 else signature
    if not keys_mod.verify_signature(key.algorithm, key.public_key,
                                     sig_structure(protected_bytes, payload_bytes), native):
        res.failed(r.SIGNATURE, "签名无效 (signature invalid)")
        return
    res.passed(r.SIGNATURE, "签名有效 (signature valid)")

    if issued is not None and issued > now + CLOCK_SKEW:
        res.failed(r.CREATED, "签发时间在未来 (issued in the future)")
    elif expires is not None and now > expires:
        res.failed(r.VALIDITY, f"二维码已过期 (expired on {expires:%Y-%m-%d %H:%M:%S} UTC)")
    else:
        res.passed(r.VALIDITY, "在有效期内 (within its validity period)")
    licence = claims.get(CLAIM_LICENCE)
    res.subject = licence if isinstance(licence, dict) else None
    res.summary.pop("claimed_issuer", None)
    res.summary.update({"issuer": claims.get(CLAIM_ISS), "iat": iat, "exp": exp})
    if isinstance(licence, dict):
        res.summary.update({"licence_type": licence.get("type"), "identifier": licence.get("id")})


def _loads(data: bytes) -> Any:
    # Duplicate map keys would let two readers see different headers or claims: refuse them.
    return cbor2.loads(data, allow_duplicate_keys=False, max_depth=32)


def _time(value: Any) -> dt.datetime | None:
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return dt.datetime.fromtimestamp(value, dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def _parse_sign1(res: r.Result, message: Any) -> tuple[bytes, int, bytes, bytes, bytes,
                                                        Mapping[Any, Any]] | None:
    if isinstance(message, cbor2.CBORTag):
        if message.tag != COSE_SIGN1_TAG:
            res.failed(r.COSE, f"不是 COSE_Sign1 (CBOR tag {message.tag}, expected 18)")
            return None
        message = message.value
    if not (isinstance(message, list | tuple) and len(message) == 4):
        res.failed(r.COSE, "不是 COSE_Sign1 结构 (not a COSE_Sign1 array of four)")
        return None
    protected_bytes, unprotected, payload_bytes, signature = message
    if not (isinstance(protected_bytes, bytes) and isinstance(unprotected, Mapping)
            and isinstance(payload_bytes, bytes) and isinstance(signature, bytes)):
        res.failed(r.COSE, "COSE_Sign1 字段类型错误 (COSE_Sign1 members have the wrong types)")
        return None
    try:
        protected = _loads(protected_bytes) if protected_bytes else {}
        claims = _loads(payload_bytes)
    except Exception:
        res.failed(r.COSE, "COSE 头或载荷不是有效的 CBOR (protected header or payload not CBOR)")
        return None
    if not isinstance(protected, Mapping) or not isinstance(claims, Mapping):
        res.failed(r.COSE, "COSE 头或载荷不是映射 (protected header or payload is not a map)")
        return None
    alg = protected.get(1)
    if alg not in ALG_KEYS:
        res.failed(r.COSE, f"不支持的签名算法 (unsupported alg {alg!r}; ES256 -7 or EdDSA -8)")
        return None
    # The kid belongs in the protected header; the DCC also accepts it unprotected.
    kid = protected.get(4, unprotected.get(4))
    if not isinstance(kid, bytes) or not kid:
        res.failed(r.COSE, "缺少密钥标识 (no kid)")
        return None
    if len(signature) != 64:
        res.failed(r.SIGNATURE, "签名长度错误 (signature is not 64 bytes)")
        return None
    return protected_bytes, alg, kid, payload_bytes, signature, claims
