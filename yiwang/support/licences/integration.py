"""Every call the licences app makes into the other parts of the trust core, in one place:
signing keys (``yiwang.core.crypto``), the credential formats (``yiwang.verify``), the
ledger, trust lists and seals.

Where a part had not landed when this was written, the function says so in its docstring
(``INTEGRATION POINT``) and does the least that keeps issuance honest (e.g. an unsealed PDF,
marked ``sealed=False`` on the licence).
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings

from yiwang.core.crypto import service as crypto

VC_PURPOSE = "licence.vc"
COSE_PURPOSE = "licence.cose"
VC_ALGORITHM = "ed25519"
COSE_ALGORITHM = "ecdsa-p256"


def _optional(module: str) -> Any:
    """A module of another builder, or None while it has not landed."""
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


# --- keys ----------------------------------------------------------------------------------

def signing_key(department_code: str, purpose: str, algorithm: str, *, actor: Any = None) -> Any:
    """The department's active key for ``purpose``, created (and certified, where the trust
    service can) on first use."""
    key = crypto.active_signing_key(department_code, purpose)
    if key is None:
        key = crypto.create_signing_key(owner=department_code, purpose=purpose,
                                        algorithm=algorithm, actor=actor)
        trust = _trust()
        if trust is not None and hasattr(trust, "certify_key"):
            trust.certify_key(key.id, department_code=department_code, usage="licence")
    return key


def signer(key: Any) -> Callable[[bytes], bytes]:
    """A function signing bytes with ``key`` through the key vault."""
    key_id = key.id
    return lambda data: crypto.sign_with_key(key_id, data)


def verification_method(key: Any) -> str:
    """The ``verificationMethod`` of a VC proof made with ``key``: the URL of the key on this
    instance's trust list, which ``trust.resolve_key`` resolves."""
    trust = _trust()
    if trust is not None and hasattr(trust, "verification_method_id"):
        return str(trust.verification_method_id(key.id))
    return f"{settings.YIWANG_PUBLIC_URL.rstrip('/')}/trust/keys/{key.id}"


def issuer_id(department_code: str) -> str:
    """The VC ``issuer`` id of a department."""
    trust = _trust()
    if trust is not None and hasattr(trust, "issuer_id"):
        return str(trust.issuer_id(department_code))
    return f"{settings.YIWANG_PUBLIC_URL.rstrip('/')}/trust/issuers/{department_code}"


# --- formats ---------------------------------------------------------------------------------

def build_identifier(catalogue_code: str, issuer_code: str, serial: int) -> str:
    """The GB/T 36904 licence identifier (证照标识) with its check character."""
    identifiers = _optional("yiwang.verify.identifiers")
    if identifiers is not None and hasattr(identifiers, "build_identifier"):
        return str(identifiers.build_identifier(
            type_code=catalogue_code, issuer_code=issuer_code, serial=serial))
    # INTEGRATION POINT (formats): a local stand-in until yiwang.verify.identifiers lands:
    # 1.2.156.3005.2.<type>.<issuer>.<serial>.<version>.<check> with an ISO 7064
    # MOD 37,36 check character over the rest.
    body = f"1.2.156.3005.2.{catalogue_code}.{issuer_code}.{serial:010d}.001"
    return f"{body}.{_mod37_36(body)}"


def _mod37_36(text: str) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    p = 36
    for char in text.upper():
        if char not in alphabet:
            continue
        s = (p % 37) + alphabet.index(char)
        s = s % 36 or 36
        p = s * 2
    return alphabet[(37 - p % 37) % 36]


def add_vc_proof(document: dict[str, Any], key: Any) -> dict[str, Any]:
    """``document`` with an ``eddsa-jcs-2022`` Data Integrity proof by ``key``."""
    from yiwang.verify import dataintegrity

    return dict(dataintegrity.add_proof(document, cryptosuite="eddsa-jcs-2022",
                                        verification_method=verification_method(key),
                                        sign=signer(key)))


def encode_qr(claims: dict[Any, Any], key: Any) -> str:
    """The QR text: a CWT in COSE_Sign1, zlib, Base45, with a prefix."""
    from yiwang.verify import keys as vkeys
    from yiwang.verify import qr

    kid = vkeys.cose_kid(key.public_key)
    return str(qr.encode(claims, kid=kid, sign=signer(key), alg=key.algorithm))


def status_list_credential(*, list_url: str, purpose: str, bits: bytes, key: Any,
                           issuer: str, issuer_name: str, valid_from: str) -> dict[str, Any]:
    """A signed BitstringStatusListCredential for ``bits`` (one bit per licence)."""
    from yiwang.verify import statuslist

    encoded = statuslist.encode(bits)
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": {"id": issuer, "name": issuer_name},
        "validFrom": valid_from,
        "credentialSubject": {"id": f"{list_url}#list", "type": "BitstringStatusList",
                              "statusPurpose": purpose, "encodedList": encoded},
    }
    return add_vc_proof(document, key)


def verifier(status_lists: Mapping[str, Any]) -> Any:
    """An offline verifier with this instance's trust bundle and the given status lists."""
    from yiwang.verify.offline import Verifier

    trust = _trust()
    bundle = trust.trust_bundle() if trust is not None else {}
    return Verifier(bundle, status_lists)


# --- trust ---------------------------------------------------------------------------------

def _trust() -> Any:
    module = _optional("yiwang.support.trust.service")
    return module if module is not None and hasattr(module, "trust_bundle") else None


def authorise_issuer(department_code: str, type_code: str, *, actor: Any) -> bool:
    """Put the department on the trust list as an issuer of the type (idempotent). False while
    the trust service has not landed (INTEGRATION POINT)."""
    trust = _trust()
    if trust is None or not hasattr(trust, "authorise_issuer"):
        return False
    trust.authorise_issuer(department_code, type_code, actor=actor)
    return True


# --- ledger --------------------------------------------------------------------------------

def ledger_append(entry_type: str, record: dict[str, Any]) -> Any:
    """Append to the main ledger in the caller's transaction; None while it has not landed."""
    ledger = _optional("yiwang.enablement.ledger.service")
    if ledger is None or not hasattr(ledger, "append"):
        return None  # INTEGRATION POINT (ledger)
    return ledger.append(entry_type, record)


# --- seals ---------------------------------------------------------------------------------

def seal(pdf: bytes, *, department_code: str, box: tuple[float, float, float, float],
         reason: str, actor: Any) -> tuple[bytes, bool]:
    """The PDF sealed with the department's licence seal, and whether it was.

    INTEGRATION POINT (seals): ``seals.service.seal_pdf`` with the department's active seal
    and a standing authorisation for licence issuance; without a seals service, or a seal
    for the department, the PDF stays unsealed (``False``)."""
    seals = _optional("yiwang.support.seals.service")
    if seals is None or not hasattr(seals, "seal_pdf"):
        return pdf, False
    finder = getattr(seals, "licence_seal_for", None)
    found = finder(department_code) if finder is not None else None
    if found is None:
        return pdf, False
    seal_obj, authorisation = found
    sealed = seals.seal_pdf(pdf, seal=seal_obj, authorisation=authorisation, level="B-B",
                            page=0, box=box, reason=reason, location="")
    return bytes(sealed), True


def sha256_hex(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()
