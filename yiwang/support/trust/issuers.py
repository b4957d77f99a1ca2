"""Issuers (发证机构): which departments may issue which licence types, and what this
region's trust list says about each — its licence keys and seal certificates. Private to
the app: other apps use ``service.py``."""

from __future__ import annotations

import base64
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from yiwang.core.audit import service as audit
from yiwang.core.crypto import service as crypto
from yiwang.platform.orgs import service as orgs
from yiwang.support.trust import pki, trustlist
from yiwang.support.trust.certificates import certificate_for_key, certify_key
from yiwang.support.trust.common import (
    LICENCE_PURPOSES,
    REGION,
    error,
    issuer_id,
    verification_method_id,
)
from yiwang.support.trust.models import (
    Certificate,
    CertificateStatus,
    CertificateUsage,
    IssuerAuthorisation,
)


@transaction.atomic
def authorise_issuer(department_code: str, licence_type_code: str, *,
                     actor: Any = None) -> IssuerAuthorisation:
    """Let a department issue a licence type; published in the next trust list and shown in
    :func:`resolve_key`'s ``licence_types`` at once. Idempotent."""
    if orgs.get_department(department_code) is None:
        raise error(gettext("部门“%(code)s”不存在。"), "no_department", code=department_code)
    if not licence_type_code or len(licence_type_code) > 64:
        raise error(gettext("证照类型代码无效。"), "licence_type")
    row, created = IssuerAuthorisation.objects.get_or_create(
        department_code=department_code, licence_type_code=licence_type_code,
        defaults={"authorised_by": actor if getattr(actor, "pk", None) else None})
    if not created and row.withdrawn_at is None:
        return row
    if not created:
        row.withdrawn_at = None
        row.save(update_fields=["withdrawn_at"])
    audit.record("trust.issuer_authorised", row, actor=actor,
                 detail={"department": department_code, "licence_type": licence_type_code})
    return row


@transaction.atomic
def withdraw_issuer(department_code: str, licence_type_code: str, *, actor: Any = None) -> None:
    """Withdraw a department's authority to issue a licence type (from the next list on)."""
    row = IssuerAuthorisation.objects.filter(department_code=department_code,
                                             licence_type_code=licence_type_code,
                                             withdrawn_at__isnull=True).first()
    if row is None:
        return
    row.withdrawn_at = timezone.now()
    row.save(update_fields=["withdrawn_at"])
    audit.record("trust.issuer_withdrawn", row, actor=actor,
                 detail={"department": department_code, "licence_type": licence_type_code})


def authorisations_of(department_code: str) -> dict[str, dict[str, str | None]]:
    return {
        code: {"from": trustlist.iso(since), "until": trustlist.iso(until) if until else None}
        for code, since, until in IssuerAuthorisation.objects.filter(
            department_code=department_code).values_list(
                "licence_type_code", "authorised_at", "withdrawn_at")
    }


def licence_types_of(department_code: str) -> list[str]:
    return sorted(IssuerAuthorisation.objects.filter(
        department_code=department_code, withdrawn_at__isnull=True)
        .values_list("licence_type_code", flat=True))


def certify_licence_keys() -> None:
    """Certify licence keys made before the trust app knew of them (idempotent)."""
    for purpose in LICENCE_PURPOSES:
        for key in crypto.list_signing_keys(purpose=purpose):
            if key.status != "active" or key.owner == REGION:
                continue
            if certificate_for_key(key.id) is None and orgs.get_department(key.owner):
                certify_key(key.id, department_code=key.owner, usage="licence")


def _key_entry(row: Certificate) -> dict[str, Any] | None:
    key = crypto.get_signing_key(row.key_id)
    if key is None:
        return None
    status = "revoked" if row.status == CertificateStatus.REVOKED else key.status
    return {
        "id": verification_method_id(row.key_id),
        "type": "Multikey",
        "purpose": key.purpose,
        "algorithm": key.algorithm,
        "kid": base64.b64encode(bytes.fromhex(row.kid)).decode("ascii"),
        "certificateKid": base64.b64encode(trustlist.cose_kid(bytes(row.der))).decode("ascii"),
        "publicKey": base64.b64encode(key.public_key).decode("ascii"),
        "publicKeyMultibase": trustlist.multikey(key.algorithm, key.public_key),
        "publicKeyJwk": trustlist.jwk(key.algorithm, key.public_key),
        "certificate": pki.der_to_pem(bytes(row.der)),
        "certificateSerial": row.serial,
        "validFrom": trustlist.iso(row.not_before),
        "validUntil": trustlist.iso(row.not_after),
        "status": status,
        "revoked": trustlist.iso(row.revoked_at) if row.revoked_at else None,
    }


def local_issuers() -> list[dict[str, Any]]:
    now = timezone.now()
    certificates = Certificate.objects.filter(
        usage__in=(CertificateUsage.LICENCE, CertificateUsage.SEAL), not_after__gt=now
    ).exclude(owner=REGION).order_by("owner", "not_before")
    owners = sorted(set(certificates.values_list("owner", flat=True)) | set(
        IssuerAuthorisation.objects.filter(withdrawn_at__isnull=True)
        .values_list("department_code", flat=True)))
    issuers = []
    for code in owners:
        department = orgs.get_department(code)
        if department is None:
            continue
        own = [row for row in certificates if row.owner == code]
        keys = [entry for row in own if row.usage == CertificateUsage.LICENCE
                for entry in [_key_entry(row)] if entry is not None]
        issuers.append({
            "id": issuer_id(code),
            "department": code,
            "name": department.name,
            "creditCode": department.credit_code,
            "licenceTypes": licence_types_of(code),
            "authorisations": authorisations_of(code),
            "keys": keys,
            "sealCertificates": [
                {"serial": row.serial, "certificate": pki.der_to_pem(bytes(row.der)),
                 "status": row.status, "validFrom": trustlist.iso(row.not_before),
                 "validUntil": trustlist.iso(row.not_after)}
                for row in own if row.usage == CertificateUsage.SEAL],
        })
    return issuers
