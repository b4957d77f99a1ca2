"""Demo data of the trust core's PKI: the region's root CA, the time-stamp authority, licence
signing keys with certificates for the departments that issue licences, their authorisations,
and a published trust list. Idempotent: existing keys and certificates are kept, and a new
trust-list version is published only when what it would say changed.

Run after the departments (and, when they are wired, after the licence catalogue and the
seals, so that the list names their keys too); ``load_trust`` may simply run again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from yiwang.core.crypto import service as crypto
from yiwang.platform.orgs import service as orgs
from yiwang.support.trust import service as trust

Progress = Callable[[str, int], Callable[[int], None]]

# The departments that issue the shipped licence types (yiwang/support/licences/catalogue.py),
# with their keys: Ed25519 for verifiable credentials, ECDSA P-256 for QR codes (COSE).
LICENCE_ISSUERS = {
    "scjg": ["business_licence"],  # 营业执照
    "wjw": ["birth_certificate"],  # 出生医学证明
    "bdc": ["property_certificate"],  # 不动产权证书
    "rsj": ["social_security_card"],  # 社会保障卡
    "gaj": ["no_criminal_record"],  # 无犯罪记录证明
    "mzj": ["marriage_certificate"],  # 结婚证
}
LICENCE_KEYS = (("licence.vc", "ed25519"), ("licence.cose", "ecdsa-p256"))


def _licence_issuers() -> dict[str, list[str]]:
    """Issuing departments by licence type from the licences app when it is there (its
    catalogue is the source of truth), else the table above."""
    try:
        from yiwang.support.licences import service as licences
    except ImportError:  # pragma: no cover - the licences app is part of the trust core
        return LICENCE_ISSUERS
    found: dict[str, list[str]] = {}
    for ltype in licences.list_types():
        for code in ltype.issuing_departments or []:
            found.setdefault(code, []).append(ltype.code)
    return found or LICENCE_ISSUERS


def _ensure_key(department: str, purpose: str, algorithm: str) -> Any:
    key = crypto.active_signing_key(department, purpose)
    if key is None:
        key = crypto.create_signing_key(owner=department, purpose=purpose, algorithm=algorithm)
    trust.certify_key(key.id, department_code=department, usage="licence")
    return key


def load_trust(progress: Progress) -> dict[str, Any]:
    """Create what is missing and publish a trust list if it changed; returns a summary."""
    issuers = {code: types for code, types in _licence_issuers().items()
               if orgs.get_department(code) is not None}
    tick = progress("信任 trust (PKI)", 3 + len(issuers))
    root = trust.ensure_root_ca()
    tick(1)
    trust.tsa_certificate()
    tick(1)
    for code, types in sorted(issuers.items()):
        for purpose, algorithm in LICENCE_KEYS:
            _ensure_key(code, purpose, algorithm)
        for type_code in types:
            trust.authorise_issuer(code, type_code)
        tick(1)
    published = None
    if trust.trust_list_outdated():
        published = trust.publish_trust_list().sequence
    tick(1)
    return {"root_fingerprint": trust.trust_list_fingerprint(), "root_serial": root.serial,
            "issuers": sorted(issuers), "published": published}
