"""This region's trust list (信任列表): publishing its signed versions (each on the ledger)
and serving the newest. Private to the app: other apps use ``service.py``."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from yiwang.core.audit import service as audit
from yiwang.core.crypto import service as crypto
from yiwang.support.trust import pki, trustlist
from yiwang.support.trust.certificates import (
    CertificateInfo,
    certify_key,
    crl,
    crl_urls,
    ensure_root_ca,
    revoke_certificate,
    tsa_certificate,
)
from yiwang.support.trust.common import (
    LIST_PURPOSE,
    REGION,
    ledger_append,
    public_url,
    region_code,
    region_name,
)
from yiwang.support.trust.issuers import certify_licence_keys, local_issuers
from yiwang.support.trust.models import TrustListVersion


def _signs_lists(certificate: bytes) -> bool:
    """Whether a certificate (DER or PEM) carries the trust-list signing usage."""
    try:
        return pki.has_usage(pki.load_certificate(certificate), pki.USAGE_TRUST_LIST)
    except pki.PkiError:
        return False


def _list_signer(actor: Any = None) -> tuple[crypto.SigningKeyInfo, CertificateInfo]:
    """The trust-list key and its certificate. A certificate issued before signer
    certificates carried the trust-list usage (importers refuse those) is revoked as
    superseded and the key certified again."""
    key = crypto.active_signing_key(REGION, LIST_PURPOSE)
    if key is None:
        key = crypto.create_signing_key(owner=REGION, purpose=LIST_PURPOSE,
                                        algorithm="ecdsa-p256")
    certificate = certify_key(key.id, department_code=REGION, usage="trust-list", actor=actor)
    if not _signs_lists(certificate.der):
        revoke_certificate(certificate.serial, reason="superseded", actor=actor)
        certificate = certify_key(key.id, department_code=REGION, usage="trust-list",
                                  actor=actor)
    return key, certificate


@transaction.atomic
def publish_trust_list(*, actor: Any = None) -> TrustListVersion:
    """Sign and publish the next version of this region's trust list (served at
    ``/trust/list.json``) and write its hash to the ledger as ``trust.list_version``."""
    root = ensure_root_ca(actor=actor)
    certify_licence_keys()
    key, certificate = _list_signer(actor)
    last = TrustListVersion.objects.select_for_update().order_by("-sequence").first()
    sequence = (last.sequence if last else 0) + 1
    now = pki.now()
    next_update = now + timedelta(days=settings.YIWANG_TRUST_LIST_VALID_DAYS)
    issuers = local_issuers()
    document = {
        "type": trustlist.FORMAT,
        "formatVersion": trustlist.FORMAT_VERSION,
        "region": {"code": region_code(), "name": region_name()},
        "sequence": sequence,
        "issued": trustlist.iso(now),
        "nextUpdate": trustlist.iso(next_update),
        "root": {"certificate": root.pem, "fingerprint": root.fingerprint,
                 "algorithm": root.algorithm},
        "tsa": {"certificate": pki.der_to_pem(tsa_certificate()),
                "url": f"{public_url()}/trust/tsa"},
        "crls": [{"ca": "root", "url": crl_urls()[0],
                  "crl": base64.b64encode(crl()).decode("ascii")}],
        "issuers": issuers,
    }
    key_id = key.id
    raw = trustlist.sign(document, algorithm=key.algorithm, certificate_der=certificate.der,
                         signer=lambda data: crypto.sign_with_key(key_id, data), created=now)
    digest = hashlib.sha256(raw).hexdigest()
    version = TrustListVersion.objects.create(
        sequence=sequence, document=raw, sha256=digest, root_fingerprint=root.fingerprint,
        issued_at=now, next_update=next_update, issuers=len(issuers),
        published_by=actor if getattr(actor, "pk", None) else None)
    version.ledger_index = ledger_append("trust.list_version", {
        "region": region_code(), "sequence": sequence, "document_sha256": digest,
        "root_fingerprint": root.fingerprint, "issued": trustlist.iso(now),
        "next_update": trustlist.iso(next_update), "issuers": len(issuers)})
    version.save(update_fields=["ledger_index"])
    audit.record("trust.list_published", version, actor=actor,
                 detail={"sequence": sequence, "sha256": digest, "issuers": len(issuers)})
    return version


def trust_list_outdated() -> bool:
    """Whether the newest published list no longer says what this instance trusts (issuers,
    keys, authorisations changed), is missing, is past half of its validity, carries a CRL
    that is no longer the current one (a certificate was revoked, or half of the CRL's
    validity passed: :func:`crl` issues the next one here), or was signed by a certificate
    without the trust-list usage (made before signers carried it).

    The CRL rule is what keeps partners' copies fresh: they refresh the list hourly
    (``refresh``) and take their CRLs of this region from it, and a CRL is valid for
    ``YIWANG_PKI_CRL_VALID_HOURS`` (7 days) while the list is re-signed only every 15."""
    version = current_version()
    if version is None:
        return True
    half = timedelta(days=settings.YIWANG_TRUST_LIST_VALID_DAYS) / 2
    if timezone.now() >= version.issued_at + half:
        return True
    document = json.loads(bytes(version.document))
    embedded = [item.get("crl") for item in document.get("crls", []) if isinstance(item, dict)]
    if embedded != [base64.b64encode(crl()).decode("ascii")]:
        return True
    signer = str(document.get("proof", {}).get("certificate", ""))
    if not _signs_lists(signer.encode("ascii", "replace")):
        return True  # signed before signers carried the trust-list usage: importers refuse it
    published = document.get("issuers")
    return bool(published != json.loads(json.dumps(local_issuers(), ensure_ascii=False)))


def current_version() -> TrustListVersion | None:
    """The newest published version, or None."""
    return TrustListVersion.objects.order_by("-sequence").first()


def current_trust_list() -> bytes:
    """The bytes of the newest published trust list (the first is published on demand)."""
    version = current_version()
    if version is None or version.next_update <= timezone.now():
        version = publish_trust_list()
    return bytes(version.document)


def trust_list_fingerprint() -> str:
    """The SHA-256 fingerprint of this region's root CA certificate, in groups of four hex
    digits (``3F2A 9C01 …``), for admins of other regions to check out of band."""
    return pki.grouped(ensure_root_ca().fingerprint)


def published_versions() -> QuerySet[TrustListVersion]:
    """Every published version, newest first, lazily and without the documents (for a
    paginator: only the page's rows are read)."""
    return TrustListVersion.objects.defer("document").order_by("-sequence")


def list_published() -> list[TrustListVersion]:
    """Every published version, newest first."""
    return list(TrustListVersion.objects.order_by("-sequence"))
