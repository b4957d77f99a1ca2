"""Public keys as a verifier sees them, and signature verification with cached key objects.

Algorithms use the names of yiwang's crypto registry: ``ed25519`` (raw 64-byte signatures),
``ecdsa-p256`` (ECDSA with SHA-256, DER signature) and ``sm2`` (SM2 with SM3 and the GM/T 0009
default signer ID ``1234567812345678``, DER signature). Public keys are SubjectPublicKeyInfo DER.
Loading a key costs about as much as verifying with it, so loaded keys are kept in an LRU cache
keyed by their bytes.

SM2 needs ``tongsuopy``; it is imported on first use, so Ed25519/P-256 verifiers do not need it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

ALGORITHMS = ("ed25519", "ecdsa-p256", "sm2")

# SubjectPublicKeyInfo prefix of an Ed25519 key:
# SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING (32 bytes) }
_ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


@dataclass(frozen=True)
class KeyInfo:
    """A key a verifier trusts, with what it may be used for.

    Mirrors ``trust.resolve_key``'s ``TrustedKey``; :func:`key_info` turns such an object
    (or a mapping with the same names, as in a trust bundle) into this.
    """

    algorithm: str
    public_key: bytes  # SubjectPublicKeyInfo DER
    key_id: str = ""
    issuer_id: str = ""
    issuer_name: str = ""
    licence_types: tuple[str, ...] = ()
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None
    region: str = ""
    status: str = "active"  # active | retired | revoked
    revoked_at: dt.datetime | None = None
    # Per licence type: (from, until) of the issuer's authorisation, when the bundle gives it.
    authorisations: dict[str, tuple[dt.datetime | None, dt.datetime | None]] = field(
        default_factory=dict, compare=False
    )


KeyResolver = Callable[[str], Any]


def utcnow() -> dt.datetime:
    """The current time, aware, in UTC (this package has no Django to ask)."""
    return dt.datetime.now(dt.UTC)  # noqa: TID251


def parse_time(value: Any) -> dt.datetime | None:
    """An aware datetime from a datetime or an ISO 8601 / XML Schema dateTime string.

    Naive values are taken as UTC. Returns None for None; raises ValueError otherwise.
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    if not isinstance(value, str):
        raise ValueError("not a date-time")
    parsed = dt.datetime.fromisoformat(value)  # Python 3.11 reads "Z" and offsets
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except ValueError:
            return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    raise ValueError("public key must be bytes or base64 text")


def key_info(obj: Any) -> KeyInfo | None:
    """Normalise what a resolver returned (``KeyInfo``, a ``TrustedKey``-like object, a mapping).

    Raises ValueError if it is there but unusable (unknown algorithm, bad key bytes, bad times).
    """
    if obj is None or isinstance(obj, KeyInfo):
        return obj

    def get(name: str, default: Any = None) -> Any:
        if isinstance(obj, Mapping):
            return obj.get(name, default)
        return getattr(obj, name, default)

    algorithm = str(get("algorithm") or "")
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r}")
    licence_types: Iterable[str] = get("licence_types") or ()
    auth_raw = get("authorisations") or {}
    authorisations: dict[str, tuple[dt.datetime | None, dt.datetime | None]] = {}
    if isinstance(auth_raw, Mapping):
        for code, span in auth_raw.items():
            if isinstance(span, Mapping):
                authorisations[str(code)] = (parse_time(span.get("from")),
                                             parse_time(span.get("until")))
    return KeyInfo(
        algorithm=algorithm,
        public_key=_bytes(get("public_key")),
        key_id=str(get("key_id") or get("id") or ""),
        issuer_id=str(get("issuer_id") or ""),
        issuer_name=str(get("issuer_name") or ""),
        licence_types=tuple(str(t) for t in licence_types),
        valid_from=parse_time(get("valid_from")),
        valid_until=parse_time(get("valid_until")),
        region=str(get("region") or ""),
        status=str(get("status") or "active"),
        revoked_at=parse_time(get("revoked_at")),
        authorisations=authorisations,
    )


# --- key objects -----------------------------------------------------------------------------

def _sm2_module() -> Any:
    from tongsuopy.crypto import hashes as sm_hashes
    from tongsuopy.crypto import serialization as sm_serialization
    from tongsuopy.crypto.asymciphers import ec as sm_ec

    return sm_ec, sm_hashes, sm_serialization


@lru_cache(maxsize=512)
def load_public_key(algorithm: str, public_key: bytes) -> Any:
    """The library key object for SPKI DER ``public_key`` (cached); ValueError if it is not one."""
    if algorithm == "ed25519":
        # The fixed SPKI layout lets the hot path skip the ASN.1 parser.
        if len(public_key) == 44 and public_key.startswith(_ED25519_SPKI_PREFIX):
            return ed25519.Ed25519PublicKey.from_public_bytes(public_key[12:])
        raise ValueError("not an Ed25519 SubjectPublicKeyInfo")
    if algorithm == "ecdsa-p256":
        try:
            key = serialization.load_der_public_key(public_key)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise ValueError(f"not a P-256 public key: {exc}") from None
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
            raise ValueError("not a P-256 public key")
        return key
    if algorithm == "sm2":
        _, _, sm_serialization = _sm2_module()
        try:
            return sm_serialization.load_der_public_key(public_key)
        except Exception as exc:  # tongsuopy raises assorted types on garbage
            raise ValueError(f"not an SM2 public key: {exc}") from None
    raise ValueError(f"unknown algorithm {algorithm!r}")


def verify_signature(algorithm: str, public_key: bytes, data: bytes, signature: bytes) -> bool:
    """Whether ``signature`` (the algorithm's native form) is valid over ``data``. Never raises
    for bad input: an unusable key or malformed signature is simply not valid."""
    try:
        key = load_public_key(algorithm, public_key if type(public_key) is bytes
                              else bytes(public_key))
    except ValueError:
        return False
    try:
        if algorithm == "ed25519":
            key.verify(signature, data)
        elif algorithm == "ecdsa-p256":
            key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        else:
            sm_ec, sm_hashes, _ = _sm2_module()
            key.verify(signature, data, sm_ec.ECDSA(sm_hashes.SM3()))
    except InvalidSignature:
        return False
    except Exception:  # tongsuopy raises its own InvalidSignature, or ValueError on bad DER
        return False
    return True


def raw_public_key(algorithm: str, public_key: bytes) -> bytes:
    """Ed25519: the 32 key bytes; P-256/SM2: the compressed point (for Multikey)."""
    key = load_public_key(algorithm, bytes(public_key))
    if algorithm == "ed25519":
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    if algorithm == "ecdsa-p256":
        return key.public_bytes(serialization.Encoding.X962,
                                serialization.PublicFormat.CompressedPoint)
    _, _, sm_serialization = _sm2_module()
    return key.public_bytes(sm_serialization.Encoding.X962,
                            sm_serialization.PublicFormat.CompressedPoint)


def spki_from_raw(algorithm: str, raw: bytes) -> bytes:
    """Inverse of :func:`raw_public_key`."""
    if algorithm == "ed25519":
        if len(raw) != 32:
            raise ValueError("an Ed25519 public key has 32 bytes")
        return _ED25519_SPKI_PREFIX + raw
    if algorithm == "ecdsa-p256":
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        return key.public_bytes(serialization.Encoding.DER,
                                serialization.PublicFormat.SubjectPublicKeyInfo)
    if algorithm == "sm2":
        sm_ec, _, sm_serialization = _sm2_module()
        try:
            key = sm_ec.EllipticCurvePublicKey.from_encoded_point(sm_ec.SM2(), raw)
        except Exception as exc:
            raise ValueError(f"not an SM2 point: {exc}") from None
        return key.public_bytes(sm_serialization.Encoding.DER,
                                sm_serialization.PublicFormat.SubjectPublicKeyInfo)
    raise ValueError(f"unknown algorithm {algorithm!r}")


def ed25519_spki(raw: bytes) -> bytes:
    """SubjectPublicKeyInfo DER of a raw 32-byte Ed25519 public key."""
    return spki_from_raw("ed25519", raw)


def der_to_raw(signature: bytes, size: int = 32) -> bytes:
    """An ECDSA/SM2 DER signature as raw ``r || s`` (COSE, JWS, Data Integrity)."""
    r, s = decode_dss_signature(signature)
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def raw_to_der(signature: bytes) -> bytes:
    """Raw ``r || s`` back to DER; ValueError if the length is odd or zero."""
    if not signature or len(signature) % 2:
        raise ValueError("raw signature must be r || s of equal length")
    half = len(signature) // 2
    return encode_dss_signature(int.from_bytes(signature[:half], "big"),
                                int.from_bytes(signature[half:], "big"))


def cose_kid(public_key: bytes) -> bytes:
    """The 8-byte COSE ``kid`` of a key: the first 8 bytes of SHA-256 over its SPKI DER.

    (The EU DCC hashes the signer's certificate; yiwang hashes the public key so the kid
    does not change when a certificate is renewed for the same key.)
    """
    return hashlib.sha256(bytes(public_key)).digest()[:8]


def kid_ref(kid: bytes) -> str:
    """The text form of a COSE kid handed to ``resolve_key``: ``cose:`` + standard base64
    (the form EU DCC trust lists use for kids)."""
    return "cose:" + base64.b64encode(kid).decode("ascii")
