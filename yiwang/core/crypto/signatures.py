"""Signature plugins backed by pyca/cryptography (OpenSSL): ``ed25519`` and ``ecdsa-p256``.

Parsing a PKCS#8 or SubjectPublicKeyInfo blob costs more than an Ed25519 signature itself,
and the ledger and licences sign and verify many times with the same few keys, so loaded
key objects are kept in bounded LRU caches keyed by the key bytes (:class:`KeyCache`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from threading import Lock
from typing import Any, Generic, TypeVar

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from yiwang.core.crypto.base import CryptoError, SignatureAlgorithm

T = TypeVar("T")

CACHE_SIZE = 256  # key objects per cache; a few hundred active keys is plenty


class InvalidKey(CryptoError, ValueError):
    """Key bytes that are not a key of the algorithm asked for."""


class KeyCache(Generic[T]):
    """A bounded, thread-safe LRU map from key bytes to the loaded key object."""

    def __init__(self, load: Callable[[bytes], T], size: int = CACHE_SIZE) -> None:
        self._load = load
        self._size = size
        self._items: OrderedDict[bytes, T] = OrderedDict()
        self._lock = Lock()

    def get(self, key: bytes) -> T:
        """The loaded object for ``key``, loading (and caching) it on a miss."""
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
                return item
        item = self._load(bytes(key))  # outside the lock: loading may be slow
        with self._lock:
            self._items[bytes(key)] = item
            if len(self._items) > self._size:
                self._items.popitem(last=False)
        return item

    def clear(self) -> None:
        """Forget every loaded key."""
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


def _der_private(data: bytes, kind: type, what: str) -> Any:
    try:
        key = serialization.load_der_private_key(data, None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise InvalidKey(f"not a PKCS#8 {what} private key: {exc}") from None
    if not isinstance(key, kind):
        raise InvalidKey(f"not a PKCS#8 {what} private key")
    return key


def _der_public(data: bytes, kind: type, what: str) -> Any:
    try:
        key = serialization.load_der_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise InvalidKey(f"not a SubjectPublicKeyInfo {what} public key: {exc}") from None
    if not isinstance(key, kind):
        raise InvalidKey(f"not a SubjectPublicKeyInfo {what} public key")
    return key


def _pkcs8(key: Any) -> bytes:
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _spki(key: Any) -> bytes:
    return key.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


class Ed25519(SignatureAlgorithm):
    """Ed25519 (RFC 8032, pure): 64-byte raw signatures."""

    name = "ed25519"
    signature_size = 64

    def __init__(self) -> None:
        self._private = KeyCache(lambda b: _der_private(b, ed25519.Ed25519PrivateKey, "Ed25519"))
        self._public = KeyCache(lambda b: _der_public(b, ed25519.Ed25519PublicKey, "Ed25519"))

    def generate_key(self) -> bytes:
        return _pkcs8(ed25519.Ed25519PrivateKey.generate())

    def public_key(self, private_key: bytes) -> bytes:
        return _spki(self._private.get(private_key).public_key())

    def sign(self, private_key: bytes, data: bytes) -> bytes:
        return self._private.get(private_key).sign(data)

    def verify(self, public_key: bytes, data: bytes, signature: bytes) -> bool:
        if len(signature) != self.signature_size:
            return False
        try:
            self._public.get(public_key).verify(signature, data)
        except (InvalidSignature, InvalidKey):
            return False
        return True


class EcdsaP256(SignatureAlgorithm):
    """ECDSA over NIST P-256 with SHA-256; DER-encoded (r, s) signatures (X9.62)."""

    name = "ecdsa-p256"

    def __init__(self) -> None:
        self._private = KeyCache(lambda b: self._check_curve(
            _der_private(b, ec.EllipticCurvePrivateKey, "P-256")))
        self._public = KeyCache(lambda b: self._check_curve(
            _der_public(b, ec.EllipticCurvePublicKey, "P-256")))

    @staticmethod
    def _check_curve(key: Any) -> Any:
        if not isinstance(key.curve, ec.SECP256R1):
            raise InvalidKey(f"an EC key on {key.curve.name}, not P-256")
        return key

    def generate_key(self) -> bytes:
        return _pkcs8(ec.generate_private_key(ec.SECP256R1()))

    def public_key(self, private_key: bytes) -> bytes:
        return _spki(self._private.get(private_key).public_key())

    def sign(self, private_key: bytes, data: bytes) -> bytes:
        return self._private.get(private_key).sign(data, ec.ECDSA(hashes.SHA256()))

    def verify(self, public_key: bytes, data: bytes, signature: bytes) -> bool:
        try:
            self._public.get(public_key).verify(signature, data, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, InvalidKey, ValueError):
            return False
        return True


class InvalidSignatureEncoding(CryptoError, ValueError):
    """A signature that is not the DER SEQUENCE of two INTEGERs, or a raw one of a bad length."""


def ecdsa_der_to_raw(signature: bytes, size: int = 32) -> bytes:
    """DER ``SEQUENCE {r, s}`` → ``r || s``, each ``size`` bytes big-endian (JWS, COSE)."""
    try:
        r, s = decode_dss_signature(signature)
    except (ValueError, TypeError):
        raise InvalidSignatureEncoding("not a DER-encoded ECDSA/SM2 signature") from None
    if r >= 1 << (8 * size) or s >= 1 << (8 * size) or r <= 0 or s <= 0:
        raise InvalidSignatureEncoding(f"r or s does not fit in {size} bytes")
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def ecdsa_raw_to_der(signature: bytes) -> bytes:
    """``r || s`` (two halves of equal length) → DER ``SEQUENCE {r, s}``."""
    if not signature or len(signature) % 2:
        raise InvalidSignatureEncoding("a raw ECDSA/SM2 signature has two halves of equal length")
    half = len(signature) // 2
    return encode_dss_signature(int.from_bytes(signature[:half], "big"),
                                int.from_bytes(signature[half:], "big"))
