"""Algorithm plugins backed by pyca/cryptography (OpenSSL): SHA-256, SM3, AES-256-GCM, SM4-GCM."""

from __future__ import annotations

import os
from typing import ClassVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as _hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from yiwang.core.crypto.base import AeadCipher, DecryptionError, HashAlgorithm, HashContext


class _Context:
    def __init__(self, ctx: hashes.Hash) -> None:
        self._ctx = ctx

    def update(self, data: bytes) -> None:
        self._ctx.update(data)

    def digest(self) -> bytes:
        # pyca's finalize() ends the context; finalising a copy lets the caller go on.
        return self._ctx.copy().finalize()

    def copy(self) -> HashContext:
        return _Context(self._ctx.copy())


class _PycaHash(HashAlgorithm):
    algorithm: ClassVar[type[hashes.HashAlgorithm]]

    def new(self) -> HashContext:
        return _Context(hashes.Hash(self.algorithm()))

    def digest(self, data: bytes) -> bytes:
        ctx = hashes.Hash(self.algorithm())
        ctx.update(data)
        return ctx.finalize()

    def hmac(self, key: bytes, data: bytes) -> bytes:
        mac = _hmac.HMAC(key, self.algorithm())
        mac.update(data)
        return mac.finalize()

    def hkdf(self, ikm: bytes, *, length: int, salt: bytes = b"", info: bytes = b"") -> bytes:
        return HKDF(self.algorithm(), length, salt or None, info).derive(ikm)


class Sha256(_PycaHash):
    name = "sha256"
    digest_size = 32
    block_size = 64
    algorithm = hashes.SHA256


class Sm3(_PycaHash):
    """SM3 (GB/T 32905-2016)."""

    name = "sm3"
    digest_size = 32
    block_size = 64
    algorithm = hashes.SM3


class Aes256Gcm(AeadCipher):
    name = "aes-256-gcm"
    key_size = 32
    nonce_size = 12
    tag_size = 16

    def encrypt(self, key: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
        self._check_key(key)
        nonce = os.urandom(self.nonce_size)
        return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)

    def decrypt(self, key: bytes, data: bytes, aad: bytes = b"") -> bytes:
        self._check_key(key)
        if len(data) < self.nonce_size + self.tag_size:
            raise DecryptionError("ciphertext too short")
        try:
            return AESGCM(key).decrypt(data[: self.nonce_size], data[self.nonce_size :], aad)
        except InvalidTag:
            raise DecryptionError("authentication failed") from None


class Sm4Gcm(AeadCipher):
    """SM4 (GB/T 32907-2016) in GCM mode, 12-byte nonce, 16-byte tag."""

    name = "sm4-gcm"
    key_size = 16
    nonce_size = 12
    tag_size = 16

    def encrypt(self, key: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
        self._check_key(key)
        nonce = os.urandom(self.nonce_size)
        enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(aad)
        body = enc.update(plaintext) + enc.finalize()
        return nonce + body + enc.tag

    def decrypt(self, key: bytes, data: bytes, aad: bytes = b"") -> bytes:
        self._check_key(key)
        if len(data) < self.nonce_size + self.tag_size:
            raise DecryptionError("ciphertext too short")
        nonce, body, tag = (data[: self.nonce_size], data[self.nonce_size : -self.tag_size],
                            data[-self.tag_size :])
        dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
        dec.authenticate_additional_data(aad)
        try:
            return dec.update(body) + dec.finalize()
        except InvalidTag:
            raise DecryptionError("authentication failed") from None
