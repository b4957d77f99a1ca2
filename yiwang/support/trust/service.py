"""Public facade of the trust app (信任服务): the region's X.509 hierarchy, CRLs, the RFC 3161
time-stamp authority and trust lists (信任列表, 跨地区互认).

The EU Digital COVID Certificate model: the region's root CA (managed key ``pki.root`` of
owner ``region``) certifies each department's signing keys — ``seal`` certificates for PAdES,
``licence`` certificates for the keys that sign verifiable credentials and QR codes, a ``tsa``
certificate for the time-stamp authority. Private keys never leave the key vault of
``yiwang.core.crypto``: certificates, CRLs, time-stamp tokens and trust lists are built here
and signed with :func:`yiwang.core.crypto.service.sign_with_key`.

A trust list is this region's signed list of issuers, their keys and certificates and the
licence types each may issue; another instance imports it after its admin checked the root
certificate's fingerprint out of band. :func:`resolve_key` answers for this instance's keys
and every imported region's; :func:`trust_bundle` gives an offline verifier all of it.
Formats and choices: docs/trust.md and ADR 15.

This module is the facade: the work is done in the app's private modules — ``certificates``
(root CA, certificates, CRLs, the TSA), ``issuers`` (authorisations and what the list says
about them), ``publishing`` (this region's list), ``imports`` (other regions' lists) and
``refresh`` (fetching imported regions' lists again from where they publish them),
``resolution`` (resolve_key, trusted roots, the offline bundle), on top of ``common``,
``pki``, ``tsa`` and ``trustlist``. Other apps import only this module.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from yiwang.core.audit import service as audit
from yiwang.core.crypto import service as crypto
from yiwang.platform.orgs import service as orgs
from yiwang.support.trust.certificates import (
    CertificateInfo,
    certificate_for_key,
    certify_key,
    chain_for_key,
    cose_kid,
    crl,
    crl_status,
    ensure_root_ca,
    get_certificate,
    list_certificates,
    revoke_certificate,
    timestamp,
    timestamp_reply,
    tsa_certificate,
)
from yiwang.support.trust.common import (
    CERT_USAGES,
    LICENCE_PURPOSES,
    LIST_PURPOSE,
    MANAGE_ALL_PERMISSION,
    MANAGE_DEPARTMENT_PERMISSION,
    REGION,
    ROOT_PURPOSE,
    TRUST_LIST_PERMISSION,
    TSA_PURPOSE,
    issuer_id,
    region_code,
    region_name,
    verification_method_id,
)
from yiwang.support.trust.imports import (
    RootChanged,
    checked_source_url,
    import_trust_list,
    imported_status,
    imported_versions,
    list_imported,
)
from yiwang.support.trust.issuers import authorise_issuer, withdraw_issuer
from yiwang.support.trust.models import Certificate, ImportedTrustList, TrustListVersion
from yiwang.support.trust.publishing import (
    current_trust_list,
    current_version,
    list_published,
    publish_trust_list,
    published_versions,
    trust_list_fingerprint,
    trust_list_outdated,
)
from yiwang.support.trust.refresh import (
    RefreshResult,
    refresh_imported_lists,
    refresh_region,
)
from yiwang.support.trust.resolution import (
    TrustedKey,
    resolve_key,
    root_certificates,
    trust_bundle,
)

__all__ = [
    "CERT_USAGES",
    "LICENCE_PURPOSES",
    "LIST_PURPOSE",
    "MANAGE_ALL_PERMISSION",
    "MANAGE_DEPARTMENT_PERMISSION",
    "REGION",
    "ROOT_PURPOSE",
    "TRUST_LIST_PERMISSION",
    "TSA_PURPOSE",
    "CertificateInfo",
    "ImportedTrustList",
    "RefreshResult",
    "RootChanged",
    "TrustListVersion",
    "TrustedKey",
    "audit_trail",
    "authorise_issuer",
    "certificate_for_key",
    "certify_key",
    "chain_for_key",
    "checked_source_url",
    "cose_kid",
    "crl",
    "crl_status",
    "current_trust_list",
    "current_version",
    "departments_managed_by",
    "ensure_root_ca",
    "get_certificate",
    "import_trust_list",
    "imported_status",
    "imported_versions",
    "issuer_id",
    "list_certificates",
    "list_imported",
    "list_published",
    "may_manage",
    "publish_trust_list",
    "published_versions",
    "refresh_imported_lists",
    "refresh_region",
    "region_code",
    "region_name",
    "resolve_key",
    "revoke_certificate",
    "root_certificates",
    "timestamp",
    "timestamp_reply",
    "trust_bundle",
    "trust_list_fingerprint",
    "trust_list_outdated",
    "tsa_certificate",
    "verification_method_id",
    "withdraw_issuer",
]


def audit_trail(owner: str, *, limit: int = 50) -> list[Any]:
    """The newest trust and key events (issued, rotated, revoked…) of ``owner``'s keys and
    certificates, newest first."""
    certificate_ids = [str(pk) for pk in
                       Certificate.objects.filter(owner=owner).values_list("pk", flat=True)]
    key_ids = [key.id for key in crypto.list_signing_keys(owner=owner)]
    events = audit.search(audit.AuditFilter()).filter(
        Q(object_type="trust.certificate", object_id__in=certificate_ids)
        | Q(object_type="crypto.managedkey", object_id__in=key_ids)).filter(
        Q(action__startswith="trust.") | Q(action__startswith="crypto."))
    return list(events[:limit])


def departments_managed_by(user: Any) -> list[str] | None:
    """Department codes whose keys ``user`` may manage; None means every department
    (superusers and holders of ``trust.manage_all_keys``). Members of a department manage its
    keys only with ``trust.manage_department_keys``: a key revoked by mistake stops every
    licence it signed from verifying."""
    if user.is_superuser or user.has_perm(MANAGE_ALL_PERMISSION):
        return None
    if not user.has_perm(MANAGE_DEPARTMENT_PERMISSION):
        return []
    return [d.code for d in orgs.departments_of(user)]


def may_manage(user: Any, owner: str) -> bool:
    """Whether ``user`` may manage the keys and certificates of ``owner`` (a department
    code; ``"region"`` only for region-wide managers)."""
    allowed = departments_managed_by(user)
    return allowed is None or (owner != REGION and owner in allowed)
