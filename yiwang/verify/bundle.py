"""The trust bundle — what an offline verifier trusts, as one JSON document.

Written by ``yiwang.support.trust.service.trust_bundle()`` and served at
``/trust/bundle.json``; a verifier downloads it (checking where it came from, as with any
trust anchor) and verifies offline from then on. Format (``formatVersion`` 1)::

    {
      "type": "YiwangTrustBundle", "formatVersion": 1,
      "generated": "2026-11-27T12:00:00Z", "region": "440300",
      "regions": [{"code", "name", "source": "local"|"imported", "root_fingerprint", ...}],
      "roots": ["-----BEGIN CERTIFICATE-----…"],   # trusted root CAs (PEM): sealed PDFs
      "tsa":   ["-----BEGIN CERTIFICATE-----…"],   # timestamp authority certificates (PEM)
      "crls":  ["<base64 DER CRL>", …],            # current CRLs of those roots
      "keys": [{                                   # licence-signing keys (VC and QR)
        "id": "https://host/trust/keys/<key id>",  # the VC verificationMethod
        "kid": "<base64 of the 8-byte COSE kid>",  # SHA-256(SPKI)[:8]
        "algorithm": "ed25519" | "ecdsa-p256" | "sm2",
        "public_key": "<base64 SPKI DER>",
        "issuer_id": "https://host/trust/issuers/<department>", "issuer_name": "…",
        "licence_types": ["yyzz", …],
        "authorisations": {"yyzz": {"from": "<ISO time>", "until": null}},
        "valid_from": "<ISO time>", "valid_until": "<ISO time>",
        "region": "440300", "status": "active" | "retired" | "revoked", "revoked_at": null,
        "certificate": "-----BEGIN CERTIFICATE-----…" | null
      }]
    }

Status lists are not in the bundle: they change daily and are cached separately
(``Verifier(status_lists=...)``, ``--status-list FILE``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from yiwang.verify import keys as keys_mod

BUNDLE_TYPE = "YiwangTrustBundle"
_PEM = re.compile(r"-----BEGIN CERTIFICATE-----\s*(.+?)\s*-----END CERTIFICATE-----", re.S)


class BundleError(ValueError):
    """A trust bundle that cannot be used (not JSON, wrong type, a malformed key)."""


def pem_certificates(text: str) -> list[bytes]:
    """The DER certificates in PEM text."""
    try:
        return [base64.b64decode("".join(m.split()), validate=True)
                for m in _PEM.findall(text or "")]
    except binascii.Error:
        raise BundleError("malformed PEM certificate") from None


class TrustBundle:
    """A parsed trust bundle: resolves key references and holds roots and CRLs."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        if not isinstance(data, Mapping):
            raise BundleError("a trust bundle is a JSON object")
        if data.get("type", BUNDLE_TYPE) != BUNDLE_TYPE:
            raise BundleError(f"not a trust bundle (type {data.get('type')!r})")
        self.data = data
        self.region = str(data.get("region") or "")
        self.regions = [r for r in data.get("regions") or [] if isinstance(r, Mapping)]
        self.generated = data.get("generated")
        self.by_ref: dict[str, keys_mod.KeyInfo] = {}
        self.by_kid: dict[bytes, keys_mod.KeyInfo] = {}
        self.issuers: dict[str, str] = {}  # issuer id -> name
        for index, entry in enumerate(data.get("keys") or []):
            try:
                self._add_key(entry)
            except (ValueError, TypeError, binascii.Error) as exc:
                raise BundleError(f"key #{index} is malformed: {exc}") from None
        try:
            self.roots = [der for pem in data.get("roots") or [] for der in pem_certificates(pem)]
            self.tsa = [der for pem in data.get("tsa") or [] for der in pem_certificates(pem)]
            self.crls = [base64.b64decode(c, validate=True) for c in data.get("crls") or []]
        except (TypeError, binascii.Error):
            raise BundleError("roots, tsa or crls are malformed") from None

    def _add_key(self, entry: Any) -> None:
        if not isinstance(entry, Mapping):
            raise ValueError("not an object")
        ref = str(entry.get("id") or entry.get("key_id") or "")
        info = keys_mod.key_info({**entry, "key_id": ref})
        if info is None or not ref:
            raise ValueError("no id")
        keys_mod.load_public_key(info.algorithm, info.public_key)  # refuse a bad key now
        kid_bytes = base64.b64decode(kid) if (kid := entry.get("kid")) else keys_mod.cose_kid(
            info.public_key)
        # The first listing of an id or kid stands (this instance's own keys come first): a
        # later entry reusing one must not take it over and speak for another issuer.
        self.by_ref.setdefault(ref, info)
        self.by_kid.setdefault(kid_bytes, info)
        certificate = entry.get("certificate")
        if certificate:
            for der in pem_certificates(certificate)[:1]:
                # The EU DCC's kid form (of the certificate) resolves too.
                self.by_kid.setdefault(hashlib.sha256(der).digest()[:8], info)
        if info.issuer_id:
            self.issuers[info.issuer_id] = info.issuer_name

    @classmethod
    def load(cls, path: str | Path) -> TrustBundle:
        """Read a bundle file; :class:`BundleError` if it is not one."""
        try:
            return cls(json.loads(Path(path).read_bytes()))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BundleError(f"cannot read trust bundle {path}: {exc}") from None

    def resolve(self, key_ref: str | bytes) -> keys_mod.KeyInfo | None:
        """The trusted key for a verificationMethod id, a ``cose:<base64>`` kid or kid bytes."""
        if isinstance(key_ref, bytes | bytearray):
            return self.by_kid.get(bytes(key_ref))
        if not isinstance(key_ref, str):
            return None
        if key_ref.startswith("cose:"):
            try:
                return self.by_kid.get(base64.b64decode(key_ref[5:], validate=True))
            except binascii.Error:
                return None
        found = self.by_ref.get(key_ref)
        if found is None and "#" in key_ref:
            found = self.by_ref.get(key_ref.partition("#")[0])
        return found

    def region_name(self, code: str) -> str:
        for region in self.regions:
            if region.get("code") == code:
                return str(region.get("name") or code)
        return code
