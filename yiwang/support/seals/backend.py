"""Where seals get keys, certificates, timestamps, CRLs and trust roots: the keys app
(``yiwang.core.crypto.service``) and the trust app (``yiwang.support.trust.service``).

One small object, so that the seals app is written against a handful of calls; tests of
the sealing logic can put a stand-in PKI made by other code in its place
(:class:`yiwang.support.seals.testing.PkiBackend`), and the wiring to the real apps is
tested on its own.
"""

from __future__ import annotations

import base64
import importlib
from functools import partial
from types import ModuleType
from typing import Any, Protocol

from yiwang.support.seals.pades import SealingKey

KEY_ALGORITHM = "ecdsa-p256"


class Backend(Protocol):
    def create_key(self, *, department_code: str, seal_code: str, valid_days: int,
                   actor: Any) -> str: ...

    def certify(self, key_id: str, *, department_code: str) -> bytes: ...

    def sealing_key(self, key_id: str) -> SealingKey: ...

    def timestamp(self, message_imprint: bytes, *, hash_algorithm: str = "sha256",
                  nonce: int | None = None) -> bytes: ...

    def crls(self) -> list[bytes]: ...

    def validation_crls(self) -> list[bytes]: ...

    def roots(self) -> list[bytes]: ...

    def revoke(self, key_id: str, *, certificate_serial: str, cause: str, reason: str,
               actor: Any) -> None: ...


def _service(name: str) -> ModuleType:
    # Imported on first use: the keys and trust apps are built alongside this one.
    return importlib.import_module(name)


class TrustCoreBackend:
    """The real thing: vault keys (purpose ``seal:<seal code>``, one per seal, since a
    department keeps several seals at once) certified by the region's root CA."""

    @property
    def crypto(self) -> ModuleType:
        return _service("yiwang.core.crypto.service")

    @property
    def trust(self) -> ModuleType:
        return _service("yiwang.support.trust.service")

    def create_key(self, *, department_code: str, seal_code: str, valid_days: int,
                   actor: Any) -> str:
        info = self.crypto.create_signing_key(
            owner=department_code, purpose=f"seal:{seal_code}", algorithm=KEY_ALGORITHM,
            valid_days=valid_days, actor=actor)
        return str(info.id)

    def certify(self, key_id: str, *, department_code: str) -> bytes:
        self.trust.certify_key(key_id, department_code=department_code, usage="seal")
        return bytes(self.trust.chain_for_key(key_id)[0])

    def sealing_key(self, key_id: str) -> SealingKey:
        chain = [bytes(der) for der in self.trust.chain_for_key(key_id)]
        return SealingKey(sign=partial(self.crypto.sign_with_key, key_id), chain=chain)

    def timestamp(self, message_imprint: bytes, *, hash_algorithm: str = "sha256",
                  nonce: int | None = None) -> bytes:
        return bytes(self.trust.timestamp(message_imprint, hash_algorithm=hash_algorithm,
                                          nonce=nonce))

    def crls(self) -> list[bytes]:
        """This region's current CRL: what a B-LT seal of ours embeds."""
        return [bytes(self.trust.crl())]

    def validation_crls(self) -> list[bytes]:
        """Every CRL 验章 may rely on: this region's and those of every imported region's
        current trust list — the CRLs the trust bundle hands offline verifiers."""
        return [base64.b64decode(item) for item in self.trust.trust_bundle()["crls"]]

    def roots(self) -> list[bytes]:
        return [bytes(der) for der in self.trust.root_certificates()]

    def revoke(self, key_id: str, *, certificate_serial: str, cause: str, reason: str,
               actor: Any) -> None:
        """The certificate onto the CRL (``cause``: an RFC 5280 reason name), then the key
        revoked in the vault (``reason``: the person's words)."""
        if certificate_serial:
            self.trust.revoke_certificate(certificate_serial, reason=cause, actor=actor)
        key = self.crypto.get_signing_key(key_id)
        # A key_compromise revocation of the certificate has revoked the key already.
        if key is not None and key.status != "revoked":
            self.crypto.revoke_signing_key(key_id, reason=reason, actor=actor)


_current: Backend = TrustCoreBackend()


def current() -> Backend:
    return _current


def use(backend: Backend) -> Backend:
    """Put ``backend`` in place (tests); returns the previous one."""
    global _current
    previous, _current = _current, backend
    return previous
