"""Resolution (密钥解析): the trusted key behind a verification method id or a COSE kid,
from this instance or an imported region, the trusted roots, and the bundle an offline
verifier reads. Private to the app: other apps use ``service.py``."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone

from yiwang.core.crypto import service as crypto
from yiwang.support.trust import pki, trustlist
from yiwang.support.trust.certificates import crl, ensure_root_ca, tsa_certificate
from yiwang.support.trust.common import (
    REGION,
    issuer_id,
    public_url,
    region_code,
    region_name,
    verification_method_id,
)
from yiwang.support.trust.imports import current_imports, imported_status, root_of
from yiwang.support.trust.issuers import authorisations_of
from yiwang.support.trust.models import (
    Certificate,
    CertificateStatus,
    CertificateUsage,
    ImportedKey,
)
from yiwang.support.trust.publishing import current_version


@dataclass(frozen=True)
class TrustedKey:
    """A key a verifier may trust, from this instance or an imported trust list."""

    algorithm: str
    public_key: bytes = field(repr=False)  # SPKI DER
    issuer_id: str
    issuer_name: str
    licence_types: tuple[str, ...]
    valid_from: datetime | None
    valid_until: datetime | None
    region: str
    status: str  # active | retired | revoked
    key_id: str = ""  # the verification method id
    kid: bytes = b""
    revoked_at: datetime | None = None
    certificate: bytes | None = field(default=None, repr=False)
    authorisations: dict[str, dict[str, str | None]] = field(default_factory=dict,
                                                             compare=False)


def _local_key(row: Certificate) -> TrustedKey | None:
    key = crypto.get_signing_key(row.key_id)
    if key is None:
        return None
    status, revoked_at = key.status, key.revoked_at
    if row.status == CertificateStatus.REVOKED:
        status, revoked_at = "revoked", row.revoked_at
    authorisations = authorisations_of(row.owner)
    return TrustedKey(
        algorithm=key.algorithm, public_key=key.public_key, issuer_id=issuer_id(row.owner),
        issuer_name=row.subject,  # the department's name when it was certified
        licence_types=tuple(sorted(code for code, span in authorisations.items()
                                   if span["until"] is None)),
        valid_from=row.not_before,
        valid_until=row.not_after, region=region_code(), status=status,
        key_id=verification_method_id(row.key_id), kid=bytes.fromhex(row.kid),
        revoked_at=revoked_at, certificate=bytes(row.der), authorisations=authorisations)


def _imported_key(row: ImportedKey) -> TrustedKey:
    return TrustedKey(
        algorithm=row.algorithm, public_key=bytes(row.public_key), issuer_id=row.issuer_id,
        issuer_name=row.issuer_name, licence_types=tuple(row.licence_types),
        valid_from=row.valid_from, valid_until=row.valid_until,
        region=row.trust_list.region_code, status=row.status, key_id=row.ref,
        kid=bytes.fromhex(row.kid) if row.kid else b"",
        certificate=bytes(row.certificate) if row.certificate else None)


def _kid_of(key_ref: str | bytes) -> bytes | None:
    if isinstance(key_ref, bytes | bytearray | memoryview):
        return bytes(key_ref)
    if key_ref.startswith("cose:"):
        try:
            return base64.b64decode(key_ref[5:], validate=True)
        except ValueError:
            return None
    return None


def resolve_key(key_ref: str | bytes) -> TrustedKey | None:
    """The trusted key behind a VC ``verificationMethod`` id, or a COSE kid (8 bytes, or
    ``"cose:" + base64``), from this instance's certified licence keys or from an imported
    region's current trust list; None for anything not trusted. Only ``licence``
    certificates count, as in :func:`trust_bundle`: a seal key signs PDFs, never a
    credential or a QR code. A revoked key or certificate is returned with
    ``status="revoked"``: the verifier says so."""
    kid = _kid_of(key_ref)
    licence_usages = (CertificateUsage.LICENCE,)
    imported = ImportedKey.objects.select_related("trust_list").filter(
        trust_list__superseded_at__isnull=True, trust_list__next_update__gt=timezone.now())
    if kid is not None:
        if len(kid) != 8:
            return None
        # Both kid forms: yiwang's (SHA-256 of the SPKI) and the EU DCC's (of the certificate).
        row = (Certificate.objects.filter(usage__in=licence_usages)
               .filter(Q(kid=kid.hex()) | Q(certificate_kid=kid.hex()))
               .order_by("-not_after").first())
        if row is not None:
            return _local_key(row)
        found = imported.filter(kid=kid.hex()).first()
        return _imported_key(found) if found else None
    if not isinstance(key_ref, str) or not key_ref or len(key_ref) > 255:
        return None
    local_prefix = f"{public_url()}/trust/keys/"
    if key_ref.startswith(local_prefix):
        key_id = key_ref[len(local_prefix):].split("#", 1)[0]
        local = (Certificate.objects.filter(key_id=key_id, usage__in=licence_usages)
                 .order_by("-not_after").first())
        return _local_key(local) if local else None
    found = imported.filter(ref=key_ref).first()
    return _imported_key(found) if found else None


def root_certificates() -> list[bytes]:
    """DER certificates of every trusted root: this instance's (unexpired ones, the current
    first) and the root of every imported region's current trust list."""
    current = ensure_root_ca()
    roots = [current.der]
    for row in Certificate.objects.filter(usage=CertificateUsage.ROOT,
                                          not_after__gt=timezone.now()).exclude(
                                              serial=current.serial):
        roots.append(bytes(row.der))
    for imported in current_imports():
        root = root_of(imported)
        if root not in roots:
            roots.append(root)
    return roots


def _bundle_key(key: TrustedKey) -> dict[str, Any]:
    return {
        "id": key.key_id, "key_id": key.key_id,
        "kid": base64.b64encode(key.kid).decode("ascii") if key.kid else "",
        "algorithm": key.algorithm,
        "public_key": base64.b64encode(key.public_key).decode("ascii"),
        "issuer_id": key.issuer_id, "issuer_name": key.issuer_name,
        "licence_types": list(key.licence_types),
        "valid_from": trustlist.iso(key.valid_from) if key.valid_from else None,
        "valid_until": trustlist.iso(key.valid_until) if key.valid_until else None,
        "region": key.region, "status": key.status,
        "revoked_at": trustlist.iso(key.revoked_at) if key.revoked_at else None,
        "authorisations": key.authorisations,
        "certificate": pki.der_to_pem(key.certificate) if key.certificate else None,
    }


def trust_bundle() -> dict[str, Any]:
    """Everything an offline verifier (``yiwang.verify``) needs, as JSON values: trusted
    keys (this instance's certified licence keys and every imported region's), root
    certificates (PEM), current CRLs (base64 DER) and the regions they came from. Format in
    docs/trust.md; served at ``/trust/bundle.json``."""
    root = ensure_root_ca()
    keys: list[dict[str, Any]] = []
    for row in Certificate.objects.filter(usage=CertificateUsage.LICENCE).exclude(
            owner=REGION).order_by("owner", "-not_after"):
        local = _local_key(row)
        if local is not None:
            keys.append(_bundle_key(local))
    regions = [{"code": region_code(), "name": region_name(), "source": "local",
                "root_fingerprint": root.fingerprint,
                "sequence": getattr(current_version(), "sequence", None)}]
    crls = [base64.b64encode(crl()).decode("ascii")]
    for imported in current_imports():
        regions.append({"code": imported.region_code, "name": imported.region_name,
                        "source": "imported", "root_fingerprint": imported.root_fingerprint,
                        "sequence": imported.sequence,
                        "next_update": trustlist.iso(imported.next_update),
                        "status": imported_status(imported)})
        keys.extend(_bundle_key(_imported_key(row)) for row in
                    imported.keys.select_related("trust_list").all())
        document = json.loads(bytes(imported.document))
        crls.extend(item["crl"] for item in document.get("crls", [])
                    if isinstance(item, dict) and isinstance(item.get("crl"), str))
    return {
        "type": "YiwangTrustBundle",
        "formatVersion": 1,
        "generated": trustlist.iso(timezone.now()),
        "region": region_code(),
        "regions": regions,
        "roots": [pki.der_to_pem(der) for der in root_certificates()],
        "tsa": [pki.der_to_pem(tsa_certificate())],
        "crls": crls,
        "keys": keys,
    }
