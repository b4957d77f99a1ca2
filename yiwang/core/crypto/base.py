"""The interfaces every cryptographic algorithm plugin implements.

Algorithms are looked up by name in ``registry.py``; callers never import a plugin module.
This keeps the choice between international (SHA-256, AES, Ed25519) and national (SM3, SM4,
SM2, 国密) algorithms a matter of configuration, and lets a plugin backed by a hardware
security module (密码机) replace a software one without touching its callers.
"""

from __future__ import annotations

import base64
import textwrap
from abc import ABC, abstractmethod
from typing import ClassVar, Protocol


class CryptoError(Exception):
    """Base class of the errors raised by the crypto app."""


class DecryptionError(CryptoError):
    """A ciphertext could not be decrypted: wrong key, wrong associated data, or tampered."""


class HashContext(Protocol):
    """An incremental hash computation (like ``hashlib``'s objects)."""

    def update(self, data: bytes) -> None: ...

    def digest(self) -> bytes:
        """The digest of the data so far; more data may still be added afterwards."""
        ...

    def copy(self) -> HashContext: ...


class HashAlgorithm(ABC):
    """A cryptographic hash function, with HMAC (RFC 2104) and HKDF (RFC 5869) over it."""

    name: ClassVar[str]
    digest_size: ClassVar[int]  # bytes
    block_size: ClassVar[int]  # bytes

    @abstractmethod
    def new(self) -> HashContext:
        """Start an incremental computation."""

    def digest(self, data: bytes) -> bytes:
        """The digest of ``data`` in one go."""
        ctx = self.new()
        ctx.update(data)
        return ctx.digest()

    @abstractmethod
    def hmac(self, key: bytes, data: bytes) -> bytes:
        """HMAC of ``data`` under ``key``."""

    def hkdf(self, ikm: bytes, *, length: int, salt: bytes = b"", info: bytes = b"") -> bytes:
        """Derive ``length`` bytes from input key material (RFC 5869, extract then expand).

        Written over :meth:`hmac` so that any hash plugin gets it; plugins whose library
        has HKDF may override this with it.
        """
        if length > 255 * self.digest_size:
            raise ValueError("HKDF output too long")
        prk = self.hmac(salt or bytes(self.digest_size), ikm)
        okm, block, counter = b"", b"", 1
        while len(okm) < length:
            block = self.hmac(prk, block + info + bytes([counter]))
            okm += block
            counter += 1
        return okm[:length]


class AeadCipher(ABC):
    """Authenticated encryption with associated data.

    :meth:`encrypt` draws a fresh random nonce and returns ``nonce || ciphertext || tag``;
    :meth:`decrypt` takes that and raises :class:`DecryptionError` if anything (key, data,
    associated data) does not match.
    """

    name: ClassVar[str]
    key_size: ClassVar[int]  # bytes
    nonce_size: ClassVar[int]  # bytes
    tag_size: ClassVar[int]  # bytes

    @abstractmethod
    def encrypt(self, key: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
        """Encrypt and authenticate; the random nonce is prefixed to the result."""

    @abstractmethod
    def decrypt(self, key: bytes, data: bytes, aad: bytes = b"") -> bytes:
        """Verify and decrypt the output of :meth:`encrypt`."""

    def _check_key(self, key: bytes) -> None:
        if len(key) != self.key_size:
            raise ValueError(f"{self.name} needs a {self.key_size}-byte key, got {len(key)}")


class SignatureAlgorithm(ABC):
    """A digital signature scheme (SM2 and Ed25519 arrive with the trust core).

    Keys travel as bytes: private keys as PKCS#8 DER, public keys as SubjectPublicKeyInfo
    DER, so that they can be stored, exported and handed to other systems unchanged. A plugin
    backed by a hardware security module may use an opaque key reference instead of PKCS#8.
    """

    name: ClassVar[str]

    @abstractmethod
    def generate_key(self) -> bytes:
        """A new private key (PKCS#8 DER)."""

    @abstractmethod
    def public_key(self, private_key: bytes) -> bytes:
        """The public key (SubjectPublicKeyInfo DER) of ``private_key``."""

    @abstractmethod
    def sign(self, private_key: bytes, data: bytes) -> bytes:
        """Sign ``data``. SM2 plugins use the default signer ID of GB/T 35276 unless told."""

    @abstractmethod
    def verify(self, public_key: bytes, data: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is valid for ``data``; never raises for a bad signature."""

    def export_public_key(self, public_key: bytes) -> str:
        """The public key as PEM text, for publishing."""
        body = "\n".join(textwrap.wrap(base64.b64encode(public_key).decode(), 64))
        return f"-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n"
