"""Keys and resolvers for the offline-verifier tests (no database, no Django models)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from yiwang.verify import keys


def _spki(key: Any) -> bytes:
    return key.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


@dataclass
class TestKey:
    """A signing key with what a verifier would know about it."""

    algorithm: str
    private: Any
    public_key: bytes
    key_id: str

    def sign(self, data: bytes) -> bytes:
        if self.algorithm == "ed25519":
            return self.private.sign(data)
        if self.algorithm == "ecdsa-p256":
            return self.private.sign(data, ec.ECDSA(hashes.SHA256()))
        from tongsuopy.crypto import hashes as sm_hashes
        from tongsuopy.crypto.asymciphers import ec as sm_ec

        return self.private.sign(data, sm_ec.ECDSA(sm_hashes.SM3()))

    def info(self, **overrides: Any) -> keys.KeyInfo:
        values: dict[str, Any] = {
            "algorithm": self.algorithm, "public_key": self.public_key, "key_id": self.key_id,
            "issuer_id": "11440300MB2C93285X", "issuer_name": "深圳市市场监督管理局",
            "licence_types": ("yyzz",),
            "valid_from": dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
            "valid_until": dt.datetime(2040, 1, 1, tzinfo=dt.UTC),
        }
        values.update(overrides)
        return keys.KeyInfo(**values)


@pytest.fixture(scope="session")
def ed_key() -> TestKey:
    k = ed25519.Ed25519PrivateKey.generate()
    return TestKey("ed25519", k, _spki(k.public_key()), "k-ed")


@pytest.fixture(scope="session")
def p256_key() -> TestKey:
    k = ec.generate_private_key(ec.SECP256R1())
    return TestKey("ecdsa-p256", k, _spki(k.public_key()), "k-p256")


@pytest.fixture(scope="session")
def sm2_key() -> TestKey:
    from tongsuopy.crypto import serialization as sm_serialization
    from tongsuopy.crypto.asymciphers import ec as sm_ec

    k = sm_ec.generate_private_key(sm_ec.SM2())
    pub = k.public_key().public_bytes(sm_serialization.Encoding.DER,
                                      sm_serialization.PublicFormat.SubjectPublicKeyInfo)
    return TestKey("sm2", k, pub, "k-sm2")
