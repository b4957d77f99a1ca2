"""Password hashers: Argon2id with configured cost, and a fast keyed hash for client secrets."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher, BasePasswordHasher, mask_hash
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_noop as _noop


class YiwangArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id; passes and memory from ``YIWANG_ARGON2_TIME_COST`` / ``_MEMORY_KIB``."""

    parallelism = 1

    @property  # type: ignore[override]
    def time_cost(self) -> int:
        return int(settings.YIWANG_ARGON2_TIME_COST)

    @property  # type: ignore[override]
    def memory_cost(self) -> int:
        return int(settings.YIWANG_ARGON2_MEMORY_KIB)


class ClientSecretHasher(BasePasswordHasher):
    """HMAC-SHA256 keyed by the salt, for machine-generated high-entropy secrets only.

    A relying party's client secret is 128 random characters: nobody can guess it, so a
    slow hash would only slow down every token request. Never use this for passwords.
    """

    algorithm = "yiwang_client_secret"

    def encode(self, password: str, salt: str) -> str:
        self._check_encode_args(password, salt)
        digest = hmac.new(salt.encode(), password.encode(), hashlib.sha256).hexdigest()
        return f"{self.algorithm}${salt}${digest}"

    def decode(self, encoded: str) -> dict[str, Any]:
        algorithm, salt, digest = encoded.split("$", 2)
        assert algorithm == self.algorithm
        return {"algorithm": algorithm, "hash": digest, "salt": salt}

    def verify(self, password: str, encoded: str) -> bool:
        decoded = self.decode(encoded)
        return constant_time_compare(encoded, self.encode(password, decoded["salt"]))

    def safe_summary(self, encoded: str) -> dict[str, Any]:
        decoded = self.decode(encoded)
        return {_noop("algorithm"): decoded["algorithm"], _noop("salt"): mask_hash(decoded["salt"]),
                _noop("hash"): mask_hash(decoded["hash"])}

    def harden_runtime(self, password: str, encoded: str) -> None:
        return None
