"""Every call the licences app makes into the other parts of the trust core, in one place:
signing keys (``yiwang.core.crypto``), the credential formats (``yiwang.verify``), the
ledger, trust lists and seals.

Sealing goes through ``seals.service.licence_seal_for``/``seal_pdf``: a department without a
licence seal and a standing authorisation to use it cannot issue (an unsealed PDF has no
legal force, and no verifier accepts it).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from django.conf import settings

from yiwang.core import outbound
from yiwang.core.crypto import service as crypto
from yiwang.enablement.ledger import service as ledger
from yiwang.support.seals import service as seals
from yiwang.support.trust import service as trust
from yiwang.verify import dataintegrity, statuslist
from yiwang.verify import identifiers as licence_identifiers
from yiwang.verify import keys as vkeys
from yiwang.verify import qr as vqr
from yiwang.verify.bundle import TrustBundle
from yiwang.verify.offline import Verifier

VC_PURPOSE = "licence.vc"
COSE_PURPOSE = "licence.cose"
VC_ALGORITHM = "ed25519"
COSE_ALGORITHM = "ecdsa-p256"
COSE_ALGS = {"ecdsa-p256": "ES256", "ed25519": "EdDSA"}


# --- keys ----------------------------------------------------------------------------------

def signing_key(department_code: str, purpose: str, algorithm: str, *, actor: Any = None) -> Any:
    """The department's active key for ``purpose``, created (and certified, where the trust
    service can) on first use, after a revocation left none, or in place of one past its
    validity (which the vault would refuse to sign with)."""
    return _usable_key(crypto.active_signing_key(department_code, purpose), department_code,
                       purpose, algorithm, actor=actor)


def signing_keys(department_code: str, wanted: list[tuple[str, str]], *,
                 actor: Any = None) -> list[Any]:
    """:func:`signing_key` for each (purpose, algorithm) of ``wanted``, in order: the active
    keys read in one query, each made or replaced as :func:`signing_key` would."""
    found = crypto.active_signing_keys(department_code, [purpose for purpose, _ in wanted])
    return [_usable_key(found.get(purpose), department_code, purpose, algorithm, actor=actor)
            for purpose, algorithm in wanted]


def _usable_key(key: Any, department_code: str, purpose: str, algorithm: str, *,
                actor: Any) -> Any:
    if key is not None and key.can_sign():
        return key
    if key is None:
        key = crypto.create_signing_key(owner=department_code, purpose=purpose,
                                        algorithm=algorithm, actor=actor)
    else:
        key = crypto.rotate_signing_key(department_code, purpose, actor=actor)
    trust.certify_key(key.id, department_code=department_code, usage="licence")
    forget_trust_bundle()
    return key


def active_vc_key(department_code: str) -> Any:
    """The department's ``licence.vc`` key that signs now, or None (none active, or the
    active one is past its validity): one query."""
    key = crypto.active_signing_key(department_code, VC_PURPOSE)
    return key if key is not None and key.can_sign() else None


def signer(key: Any) -> Callable[[bytes], bytes]:
    """A function signing bytes with ``key`` through the key vault."""
    key_id = key.id
    return lambda data: crypto.sign_with_key(key_id, data)


def verification_method(key: Any) -> str:
    """The ``verificationMethod`` of a VC proof made with ``key``: the URL of the key on this
    instance's trust list, which ``trust.resolve_key`` resolves."""
    return trust.verification_method_id(key.id)


def issuer_id(department_code: str) -> str:
    """The VC ``issuer`` id of a department."""
    return trust.issuer_id(department_code)


# --- formats ---------------------------------------------------------------------------------

def build_identifier(catalogue_code: str, issuer_code: str, serial: int) -> str:
    """The GB/T 36904 licence identifier (证照标识) with its check character."""
    return licence_identifiers.build_identifier(type_code=catalogue_code,
                                                issuer_code=issuer_code, serial=serial)


def add_vc_proof(document: dict[str, Any], key: Any) -> dict[str, Any]:
    """``document`` with an ``eddsa-jcs-2022`` Data Integrity proof by ``key``."""
    return dict(dataintegrity.add_proof(document, cryptosuite="eddsa-jcs-2022",
                                        verification_method=verification_method(key),
                                        sign=signer(key)))


def encode_qr(claims: dict[Any, Any], key: Any) -> str:
    """The QR text: a CWT in COSE_Sign1, zlib, Base45, with a prefix."""
    return vqr.encode(claims, kid=vkeys.cose_kid(key.public_key), sign=signer(key),
                      alg=COSE_ALGS[key.algorithm])


def status_entry(*, list_url: str, index: int, purpose: str) -> dict[str, Any]:
    """The ``credentialStatus`` entry for ``index`` of the list at ``list_url``."""
    return dict(statuslist.status_entry(list_url=list_url, index=index, purpose=purpose))


def status_list_credential(*, list_url: str, purpose: str, bits: bytes, key: Any,
                           issuer: str, valid_until: datetime | None = None
                           ) -> dict[str, Any]:
    """A signed BitstringStatusListCredential for ``bits`` (one bit per licence), whose
    ``id`` is ``list_url`` (the URL the licences' entries name), valid until
    ``valid_until``.

    Its validFrom is set back by the verifiers' clock allowance: a verifier whose clock is
    a little behind ours (or that read its clock a moment before the list was built, in the
    same second) would otherwise find a fresh list "not yet valid"."""
    document = statuslist.status_list_credential(
        list_url=list_url, issuer=issuer, purpose=purpose,
        status_list=statuslist.StatusList(bits=bits),
        valid_from=vkeys.utcnow() - dataintegrity.CLOCK_SKEW, valid_until=valid_until)
    return add_vc_proof(document, key)


_bundle: tuple[float, dict[str, Any]] | None = None


def forget_trust_bundle() -> None:
    """Drop this process's cached trust bundle (after a key of this instance changed)."""
    global _bundle
    _bundle = None


def trust_bundle() -> dict[str, Any]:
    """``trust.service.trust_bundle()``, kept for ``YIWANG_LICENCES_TRUST_CACHE_SECONDS``:
    building it takes tens of milliseconds, several times a verification's own work."""
    global _bundle
    ttl = float(settings.YIWANG_LICENCES_TRUST_CACHE_SECONDS)
    now = time.monotonic()
    if ttl <= 0 or _bundle is None or now - _bundle[0] > ttl:
        _bundle = (now, trust.trust_bundle())
    return _bundle[1]


def verifier(status_lists: Mapping[str, Any] | Callable[[str], Any]) -> Any:
    """An offline verifier with this instance's trust bundle and the given status lists
    (URL → list credential, or a function looking one up)."""
    return Verifier(trust_bundle(), status_lists)


def foreign_keys() -> list[dict[str, Any]]:
    """The trusted keys of imported regions (the trust bundle's entries: ``id`` — the
    verification method —, ``region``, ``issuer_id``, ``algorithm``, ``public_key`` …)."""
    bundle = trust_bundle()
    own = str(bundle.get("region") or "")
    return [dict(k) for k in bundle.get("keys") or []
            if isinstance(k, Mapping) and str(k.get("region") or "") != own]


def verify_with_keys(document: dict[str, Any], keys: list[dict[str, Any]]) -> list[str]:
    """The names of the failed checks of ``document``'s Data Integrity proof when only
    ``keys`` (trust-bundle key entries) are trusted; empty when it verifies."""
    resolver = TrustBundle({"keys": keys}).resolve
    result = dataintegrity.verify_proof(document, resolver, check_validity=False)
    return [] if result.valid else list(result.failed_names()) or ["proof"]


def fetch_status_list(url: str) -> bytes:
    """GET ``url`` with the shared safe outbound client (``yiwang.core.outbound``: SSRF
    rule, no redirects, size limit, deadline). Raises ``outbound.OutboundRefused`` or
    ``outbound.OutboundFailed``."""
    deadline = float(settings.YIWANG_LICENCES_STATUS_FETCH_TIMEOUT)
    return outbound.fetch(url, max_bytes=int(settings.YIWANG_LICENCES_STATUS_MAX_BYTES),
                          allow=list(settings.YIWANG_LICENCES_STATUS_FETCH_ALLOW),
                          timeout=deadline, deadline=deadline,
                          accept="application/vc+ld+json, application/json")


OutboundRefused = outbound.OutboundRefused
OutboundFailed = outbound.OutboundFailed


# --- trust and ledger ------------------------------------------------------------------

def authorise_issuer(department_code: str, type_code: str, *, actor: Any) -> None:
    """Put the department on the trust list as an issuer of the type (idempotent)."""
    trust.authorise_issuer(department_code, type_code, actor=actor)


def withdraw_issuer(department_code: str, type_code: str, *, actor: Any) -> None:
    """Take the department off the trust list as an issuer of the type."""
    trust.withdraw_issuer(department_code, type_code, actor=actor)


def ledger_append(entry_type: str, record: dict[str, Any]) -> Any:
    """Append to the main ledger in the caller's transaction (both land or neither)."""
    return ledger.append(entry_type, record)


def ledger_with_seals() -> AbstractContextManager[Any]:
    """``seals.service.deferred_ledger()``: the seal uses of the block and the entries added
    to what it yields (``.add(entry_type, record)``, whose ``receipt`` is set when the block
    ends) go to the main ledger in one append, in the caller's transaction."""
    return seals.deferred_ledger()


# --- seals ---------------------------------------------------------------------------------

def licence_seal(department_code: str, type_code: str) -> tuple[Any, Any] | None:
    """The department's seal and a live standing authorisation to seal licences of the type
    with it (``seals.service.licence_seal_for``), or None."""
    return seals.licence_seal_for(department_code, type_code)


def seal(pdf: bytes, *, department_code: str, type_code: str,
         box: tuple[float, float, float, float], reason: str, actor: Any,
         found: tuple[Any, Any] | None = None) -> tuple[bytes, bool]:
    """The PDF sealed with the department's seal, and whether it was.

    ``seals.service.seal_pdf`` with the department's seal and a live standing authorisation
    for this licence type (``found``, else looked up with :func:`licence_seal`); without
    one the PDF stays unsealed (``False``) — issuance then refuses."""
    found = found or licence_seal(department_code, type_code)
    if found is None:
        return pdf, False
    seal_obj, authorisation = found
    sealed = seals.seal_pdf(pdf, seal=seal_obj, authorisation=authorisation,
                            level=settings.YIWANG_LICENCES_SEAL_LEVEL, page=0, box=box,
                            reason=reason, location="", actor=actor,
                            purpose=seals.licence_purpose(type_code))
    return bytes(sealed), True


def sha256_hex(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()
