"""SM2 signatures (GB/T 32918.2) with SM3, through tongsuopy (Tongsuo, ADR 0013).

The signer ID is the GM/T 0009 default ``1234567812345678`` (what tongsuopy's signer uses;
OpenSSL 3 verifies with ``-pkeyopt distid:1234567812345678``). Signatures are DER
``SEQUENCE {r, s}``. Keys are PKCS#8 / SubjectPublicKeyInfo with ``id-ecPublicKey`` and the
SM2 curve OID 1.2.156.10197.1.301, the form OpenSSL 3 reads and writes.

Everything binding-specific is in this module: another binding (gmssl_pyx, an HSM) replaces
it by registering its own ``SignatureAlgorithm`` named ``sm2`` with ``replace=True``.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from tongsuopy.crypto import hashes, serialization
from tongsuopy.crypto.asymciphers import ec
from tongsuopy.crypto.exceptions import InternalError, InvalidSignature, UnsupportedAlgorithm

from yiwang.core.crypto.base import SignatureAlgorithm
from yiwang.core.crypto.signatures import InvalidKey, KeyCache

DEFAULT_SIGNER_ID = b"1234567812345678"  # GM/T 0009-2012 §10, also GB/T 35276
CURVE_OID = "1.2.156.10197.1.301"
# The order n of the SM2 curve (GB/T 32918.5); r and s lie in [1, n-1].
ORDER = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123


def _canonical_der(signature: bytes) -> bool:
    """Whether ``signature`` is the one DER encoding of an (r, s) pair in range.

    Checked here, before the binding sees it: Tongsuo answers malformed DER with an internal
    error rather than "invalid", and accepting only the canonical form keeps signatures
    non-malleable.
    """
    try:
        r, s = decode_dss_signature(signature)
    except (ValueError, TypeError):
        return False
    return 0 < r < ORDER and 0 < s < ORDER and encode_dss_signature(r, s) == signature


def _check_curve(key: Any) -> Any:
    if not isinstance(key.curve, ec.SM2):
        raise InvalidKey(f"an EC key on {key.curve.name}, not SM2")
    return key


def _load_private(data: bytes) -> Any:
    try:
        key = serialization.load_der_private_key(data, None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise InvalidKey(f"not a PKCS#8 SM2 private key: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise InvalidKey("not a PKCS#8 SM2 private key")
    return _check_curve(key)


def _load_public(data: bytes) -> Any:
    try:
        key = serialization.load_der_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise InvalidKey(f"not a SubjectPublicKeyInfo SM2 public key: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise InvalidKey("not a SubjectPublicKeyInfo SM2 public key")
    return _check_curve(key)


class Sm2(SignatureAlgorithm):
    """SM2 with SM3 and the default signer ID; DER signatures."""

    name = "sm2"
    signer_id = DEFAULT_SIGNER_ID

    def __init__(self) -> None:
        self._private = KeyCache(_load_private)
        self._public = KeyCache(_load_public)

    def generate_key(self) -> bytes:
        key = ec.generate_private_key(ec.SM2())
        return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    def public_key(self, private_key: bytes) -> bytes:
        return self._private.get(private_key).public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    def sign(self, private_key: bytes, data: bytes) -> bytes:
        return self._private.get(private_key).sign(data, ec.ECDSA(hashes.SM3()))

    def verify(self, public_key: bytes, data: bytes, signature: bytes) -> bool:
        if not _canonical_der(signature):
            return False
        try:
            self._public.get(public_key).verify(signature, data, ec.ECDSA(hashes.SM3()))
        except (InvalidSignature, InvalidKey, InternalError, ValueError):
            return False
        return True
