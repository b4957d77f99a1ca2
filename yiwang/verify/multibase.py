"""Multibase (base58-btc ``z``, base64url ``u``) and Multikey public keys.

Multikey (W3C Controlled Identifiers v1.0, §2.2.2): multicodec header + key bytes, in
base58-btc. Headers: Ed25519 public ``0xed01``, Ed25519 secret ``0x8026`` (0x1300),
P-256 public ``0x8024`` (0x1200, compressed point), SM2 public ``0x8624`` (0x1206, compressed
point; a yiwang use of the registered ``sm2-pub`` code).
"""

from __future__ import annotations

import base64
import binascii
import re

from yiwang.verify import keys

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
_B58_TABLE = bytes(_B58_INDEX.get(chr(b), 0xFF) for b in range(256))

ED25519_PUB = b"\xed\x01"
ED25519_PRIV = b"\x80\x26"
P256_PUB = b"\x80\x24"
SM2_PUB = b"\x86\x24"

_HEADERS = {"ed25519": ED25519_PUB, "ecdsa-p256": P256_PUB, "sm2": SM2_PUB}
_ALGORITHMS = {v: k for k, v in _HEADERS.items()}


class MultibaseError(ValueError):
    """Text that is not the multibase / Multikey value expected."""


def b58encode(data: bytes) -> str:
    """Bitcoin base58 of ``data`` (leading zero bytes become ``1``)."""
    n = int.from_bytes(data, "big")
    out = []
    while n:
        n, r = divmod(n, 58)
        out.append(_B58[r])
    pad = len(data) - len(data.lstrip(b"\0"))
    return "1" * pad + "".join(reversed(out))


_CHUNK = 10  # base58 digits folded into a machine-size integer before the big-int step
_POW = [58**i for i in range(_CHUNK + 1)]


def _swar_levels(width: int) -> tuple[tuple[int, int, int], ...]:
    """The steps that fold ``width`` base58 digits, one per byte of a big integer, into their
    value: pairs of lanes at a time, all lanes at once ("SIMD within a register")."""
    steps = []
    lane = 1  # bytes per lane, each holding the value of `lane` digits (58**lane < 256**lane)
    while lane < width:
        mask = int.from_bytes((b"\0" * lane + b"\xff" * lane) * (width // (2 * lane)), "big")
        steps.append((8 * lane, mask, 58**lane))
        lane *= 2
    return tuple(steps)


_SWAR = {1 << k: _swar_levels(1 << k) for k in range(8)}  # up to 128 digits (a signature: 88)


def b58decode(text: str) -> bytes:
    """Inverse of :func:`b58encode`; raises :class:`MultibaseError` on a foreign character."""
    if not text.isascii():
        raise MultibaseError("not base58-btc")
    digits = text.encode("ascii").translate(_B58_TABLE)  # each character -> its value
    if 0xFF in digits:
        raise MultibaseError("not base58-btc")
    size = len(digits)
    if size <= 128:
        # The digits as bytes of one integer (zero bytes in front change nothing); each step
        # turns every pair of neighbouring lanes (hi, lo) into one lane hi * 58**lane + lo.
        n = int.from_bytes(digits, "big")
        for shift, mask, scale in _SWAR[1 << (size - 1).bit_length() if size > 1 else 1]:
            n = ((n >> shift) & mask) * scale + (n & mask)
    else:
        n = 0
        for start in range(0, size, _CHUNK):
            chunk = digits[start:start + _CHUNK]
            small = 0
            for d in chunk:
                small = small * 58 + d
            n = n * _POW[len(chunk)] + small
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    if not text or text[0] != "1":
        return body
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def encode(data: bytes, base: str = "z") -> str:
    """Multibase text: ``z`` + base58-btc, or ``u`` + base64url without padding."""
    if base == "z":
        return "z" + b58encode(data)
    if base == "u":
        return "u" + base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
    raise ValueError(f"unsupported multibase prefix {base!r}")


def decode(text: str) -> bytes:
    """Bytes of a ``z`` or ``u`` multibase string."""
    if not isinstance(text, str) or not text:
        raise MultibaseError("empty or not a string")
    if text[0] == "z":
        return b58decode(text[1:])
    if text[0] == "u":
        body = text[1:]
        if not _BASE64URL.fullmatch(body) or len(body) % 4 == 1:
            raise MultibaseError("not base64url")
        try:
            return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError):
            raise MultibaseError("not base64url") from None
    raise MultibaseError(f"unsupported multibase prefix {text[0]!r}")


def encode_multikey(algorithm: str, public_key: bytes) -> str:
    """``publicKeyMultibase`` of a public key given as SubjectPublicKeyInfo DER."""
    header = _HEADERS.get(algorithm)
    if header is None:
        raise ValueError(f"no Multikey header for {algorithm!r}")
    return encode(header + keys.raw_public_key(algorithm, public_key))


def decode_multikey(text: str) -> tuple[str, bytes]:
    """``(algorithm, SubjectPublicKeyInfo DER)`` of a ``publicKeyMultibase`` value."""
    data = decode(text)
    algorithm = _ALGORITHMS.get(data[:2])
    if algorithm is None:
        raise MultibaseError("unknown Multikey header")
    try:
        return algorithm, keys.spki_from_raw(algorithm, data[2:])
    except ValueError:
        raise MultibaseError(f"not a {algorithm} public key") from None


def decode_ed25519_secret(text: str) -> bytes:
    """The 32-byte seed of a ``secretKeyMultibase`` Ed25519 key (``0x8026`` header)."""
    data = decode(text)
    if data[:2] != ED25519_PRIV or len(data) != 34:
        raise MultibaseError("not an Ed25519 secret Multikey")
    return data[2:]
