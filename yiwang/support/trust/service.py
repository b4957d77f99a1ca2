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
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from asn1crypto import x509
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from yiwang.core import outbound
from yiwang.core.audit import service as audit
from yiwang.core.crypto import service as crypto
from yiwang.enablement.ledger import service as ledger
from yiwang.platform.orgs import service as orgs
from yiwang.support.trust import pki, trustlist, tsa
from yiwang.support.trust.models import (
    Certificate,
    CertificateStatus,
    CertificateUsage,
    ImportedKey,
    ImportedTrustList,
    IssuerAuthorisation,
    RevocationList,
    TrustListVersion,
)

__all__ = [
    "CertificateInfo",
    "ImportedTrustList",
    "RootChanged",
    "TrustListVersion",
    "TrustedKey",
    "audit_trail",
    "authorise_issuer",
    "certificate_for_key",
    "certify_key",
    "chain_for_key",
    "cose_kid",
    "crl",
    "crl_status",
    "current_trust_list",
    "ensure_root_ca",
    "get_certificate",
    "import_trust_list",
    "issuer_id",
    "list_certificates",
    "list_imported",
    "list_published",
    "publish_trust_list",
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

REGION = "region"
ROOT_PURPOSE, TSA_PURPOSE, LIST_PURPOSE = "pki.root", "pki.tsa", "trust.list"
LICENCE_PURPOSES = ("licence.vc", "licence.cose")
CERT_USAGES = ("seal", "licence", "tsa", "trust-list")
MANAGE_ALL_PERMISSION = "trust.manage_all_keys"
MANAGE_DEPARTMENT_PERMISSION = "trust.manage_department_keys"
TRUST_LIST_PERMISSION = "trust.manage_trust_lists"


def _error(message: str, error_code: str, /, **params: Any) -> ValidationError:
    return ValidationError(message, code=error_code, params=params or None)


def region_code() -> str:
    """The code of the region this instance speaks for."""
    return str(settings.YIWANG_TRUST_REGION_CODE)


def region_name() -> str:
    """The name of the region this instance speaks for (O of every certificate)."""
    return str(settings.YIWANG_TRUST_REGION_NAME)


def _public_url() -> str:
    return str(settings.YIWANG_PUBLIC_URL).rstrip("/")


# --- certificates -------------------------------------------------------------------------


@dataclass(frozen=True)
class CertificateInfo:
    """A certificate issued by this instance's root CA (the root's own included)."""

    serial: str  # lower-case hex
    key_id: str
    owner: str
    usage: str
    subject: str
    algorithm: str
    der: bytes = field(repr=False)
    fingerprint: str  # SHA-256, lower-case hex
    kid: bytes  # COSE kid of the key: SHA-256(SPKI)[:8]
    not_before: datetime
    not_after: datetime
    status: str  # valid | revoked
    revoked_at: datetime | None
    revocation_reason: str
    issuer_serial: str

    @property
    def pem(self) -> str:
        return pki.der_to_pem(self.der)

    @property
    def certificate_kid(self) -> bytes:
        """The EU DCC kid: the first 8 bytes of SHA-256 of the certificate."""
        return trustlist.cose_kid(self.der)


def _info(row: Certificate) -> CertificateInfo:
    return CertificateInfo(
        serial=row.serial, key_id=row.key_id, owner=row.owner, usage=row.usage,
        subject=row.subject, algorithm=row.algorithm, der=bytes(row.der),
        fingerprint=row.fingerprint, kid=bytes.fromhex(row.kid), not_before=row.not_before,
        not_after=row.not_after, status=row.status, revoked_at=row.revoked_at,
        revocation_reason=row.revocation_reason, issuer_serial=row.issuer_serial)


def cose_kid(public_key: bytes) -> bytes:
    """The COSE kid yiwang's QR codes carry for a key: SHA-256 of its SPKI DER, 8 bytes
    (as ``yiwang.verify.keys.cose_kid``; stable when the certificate is renewed)."""
    return hashlib.sha256(bytes(public_key)).digest()[:8]


def _current_root() -> Certificate | None:
    key = crypto.active_signing_key(REGION, ROOT_PURPOSE)
    if key is None:
        return None
    return (Certificate.objects.filter(key_id=key.id, usage=CertificateUsage.ROOT,
                                       status=CertificateStatus.VALID,
                                       not_after__gt=timezone.now())
            .order_by("-not_after").first())


def _store(*, key: crypto.SigningKeyInfo, owner: str, usage: str, subject: str, der: bytes,
           issuer_serial: str, actor: Any) -> Certificate:
    parsed = x509.Certificate.load(der)
    return Certificate.objects.create(
        serial=format(parsed.serial_number, "x"), key_id=key.id, owner=owner, usage=usage,
        subject=subject, algorithm=key.algorithm, der=der, fingerprint=pki.fingerprint(der),
        kid=cose_kid(key.public_key).hex(),
        certificate_kid=trustlist.cose_kid(der).hex(), issuer_serial=issuer_serial,
        not_before=parsed.not_valid_before, not_after=parsed.not_valid_after,
        issued_by=actor if getattr(actor, "pk", None) else None)


@transaction.atomic
def ensure_root_ca(*, actor: Any = None) -> CertificateInfo:
    """The region's root CA certificate, created (key and self-signed certificate) on first
    use; a new root is made when the root key was rotated or its certificate expired."""
    row = _current_root()
    if row is not None:
        return _info(row)
    key = crypto.active_signing_key(REGION, ROOT_PURPOSE)
    if key is None:
        key = crypto.create_signing_key(
            owner=REGION, purpose=ROOT_PURPOSE, algorithm=settings.YIWANG_PKI_ROOT_ALGORITHM,
            valid_days=settings.YIWANG_PKI_ROOT_VALID_DAYS, actor=actor)
    now = pki.now()
    not_after = now + timedelta(days=settings.YIWANG_PKI_ROOT_VALID_DAYS)
    if key.not_after is not None:
        not_after = min(not_after, key.not_after)
    subject_cn = gettext("%(region)s政务根证书") % {"region": region_name()}
    key_id = key.id
    der = pki.build_certificate(
        issuer=pki.Issuer(None, key.algorithm, lambda data: crypto.sign_with_key(key_id, data)),
        subject=pki.build_name(common_name=subject_cn, organization=region_name()),
        spki_der=key.public_key, usage=pki.USAGE_ROOT, serial=pki.random_serial(),
        not_before=now, not_after=not_after)
    row = _store(key=key, owner=REGION, usage=CertificateUsage.ROOT, subject=subject_cn,
                 der=der, issuer_serial="", actor=actor)
    audit.record("trust.root_created", row, actor=actor,
                 detail={"serial": row.serial, "fingerprint": row.fingerprint,
                         "algorithm": key.algorithm})
    return _info(row)


def _issuer(root: CertificateInfo) -> pki.Issuer:
    key_id = root.key_id
    return pki.Issuer(x509.Certificate.load(root.der), root.algorithm,
                      lambda data: crypto.sign_with_key(key_id, data))


def _crl_urls() -> list[str]:
    return [f"{_public_url()}/trust/crl/root.crl"]


def _subject(owner: str, usage: str) -> tuple[x509.Name, str]:
    if owner == REGION:
        names = {"tsa": gettext("%(region)s时间戳服务"),
                 "trust-list": gettext("%(region)s信任列表签名")}
        if usage not in names:
            raise _error(gettext("地区密钥只能签发时间戳或信任列表签名证书。"), "usage")
        common_name = names[usage] % {"region": region_name()}
        return pki.build_name(common_name=common_name, organization=region_name()), common_name
    department = orgs.get_department(owner)
    if department is None:
        raise _error(gettext("部门“%(code)s”不存在。"), "no_department", code=owner)
    return pki.build_name(common_name=department.name, organization=region_name(),
                          serial_number=department.credit_code), department.name


@transaction.atomic
def certify_key(key_id: str, *, department_code: str, usage: str,
                actor: Any = None) -> CertificateInfo:
    """A certificate from the region's root CA for managed key ``key_id`` of
    ``department_code`` (``"region"`` for the TSA and trust-list keys), usage ``seal``,
    ``licence``, ``tsa`` or ``trust-list``. Returns the key's existing valid certificate of
    that usage if it has one. Subject: C=CN, O=<region>, CN=<department's Chinese name>,
    serialNumber=<credit code> when the department has one."""
    if usage not in CERT_USAGES:
        raise _error(gettext("证书用途“%(usage)s”无效。"), "usage", usage=usage)
    key = crypto.get_signing_key(key_id)
    if key is None:
        raise _error(gettext("密钥“%(key)s”不存在。"), "no_key", key=key_id)
    if key.owner != department_code:
        raise _error(gettext("密钥“%(key)s”不属于“%(owner)s”，不能为其签发证书。"), "owner",
                     key=key_id, owner=department_code)
    if key.status != "active":
        raise _error(gettext("密钥已停用或已撤销，不能再签发证书。"), "key_status")
    if Certificate.objects.filter(key_id=key_id, status=CertificateStatus.REVOKED,
                                  revocation_reason="key_compromise").exists():
        raise _error(gettext("这把密钥的证书曾因密钥泄露被撤销，不能再为它签发证书；请更换密钥。"),
                     "key_compromised")
    existing = (Certificate.objects.filter(key_id=key_id, usage=usage,
                                           status=CertificateStatus.VALID,
                                           not_after__gt=timezone.now())
                .order_by("-not_after").first())
    if existing is not None:
        return _info(existing)
    root = ensure_root_ca(actor=actor)
    subject, subject_text = _subject(department_code, usage)
    now = pki.now()
    not_after = min(now + timedelta(days=settings.YIWANG_PKI_CERT_VALID_DAYS), root.not_after)
    if key.not_after is not None:
        not_after = min(not_after, key.not_after)
    der = pki.build_certificate(
        issuer=_issuer(root), subject=subject, spki_der=key.public_key, usage=usage,
        serial=pki.random_serial(), not_before=now, not_after=not_after,
        crl_urls=_crl_urls())
    row = _store(key=key, owner=department_code, usage=usage, subject=subject_text, der=der,
                 issuer_serial=root.serial, actor=actor)
    audit.record("trust.certificate_issued", row, actor=actor,
                 detail={"serial": row.serial, "usage": usage, "key": key_id,
                         "owner": department_code, "not_after": row.not_after.isoformat()})
    return _info(row)


def certificate_for_key(key_id: str) -> CertificateInfo | None:
    """The key's newest certificate that is not revoked (expired ones included: they still
    verify old signatures), or None."""
    row = (Certificate.objects.filter(key_id=key_id).exclude(status=CertificateStatus.REVOKED)
           .order_by("-not_after").first())
    return _info(row) if row else None


def get_certificate(serial: str) -> CertificateInfo | None:
    """A certificate by its serial number (hex, any case, colons allowed)."""
    cleaned = pki.normalise_fingerprint(serial).lstrip("0")
    row = Certificate.objects.filter(serial=cleaned).first()
    return _info(row) if row else None


def list_certificates(*, owner: str | None = None) -> list[CertificateInfo]:
    """Certificates, newest first, of one owner (a department code or ``"region"``) or all."""
    rows = Certificate.objects.all()
    if owner is not None:
        rows = rows.filter(owner=owner)
    return [_info(row) for row in rows]


def chain_for_key(key_id: str) -> list[bytes]:
    """The DER certificate chain of a key: its certificate first, ending at the root."""
    leaf = certificate_for_key(key_id)
    if leaf is None:
        return []
    chain = [leaf.der]
    if leaf.issuer_serial:
        root = get_certificate(leaf.issuer_serial)
        if root is not None:
            chain.append(root.der)
    return chain


@transaction.atomic
def revoke_certificate(serial: str, *, reason: str = "unspecified",
                       actor: Any = None) -> CertificateInfo:
    """Revoke a department certificate: it is listed on the next CRL, issued at once, and
    its key resolves as ``revoked`` from now on. ``reason`` is an RFC 5280 reason name."""
    if reason not in pki.REASONS:
        raise _error(gettext("撤销原因“%(reason)s”无效。"), "reason", reason=reason)
    cleaned = pki.normalise_fingerprint(serial).lstrip("0")
    row = Certificate.objects.select_for_update().filter(serial=cleaned).first()
    if row is None:
        raise _error(gettext("证书“%(serial)s”不存在。"), "no_certificate", serial=serial)
    if row.usage == CertificateUsage.ROOT:
        raise _error(gettext("根证书不能撤销；请更换根密钥并重新发布信任列表。"), "root")
    if row.status == CertificateStatus.REVOKED:
        return _info(row)
    row.status, row.revoked_at, row.revocation_reason = (
        CertificateStatus.REVOKED, timezone.now(), reason)
    row.save(update_fields=["status", "revoked_at", "revocation_reason"])
    audit.record("trust.certificate_revoked", row, actor=actor,
                 detail={"serial": row.serial, "reason": reason, "owner": row.owner})
    root = get_certificate(row.issuer_serial)
    if root is not None and _current_root() is not None:
        _issue_crl(root)
    return _info(row)


def _issue_crl(root: CertificateInfo) -> RevocationList:
    now = pki.now()
    number = (RevocationList.objects.filter(ca_serial=root.serial)
              .aggregate(n=Max("number"))["n"] or 0) + 1
    revoked = [pki.RevokedEntry(int(row.serial, 16), row.revoked_at or now,
                                row.revocation_reason or "unspecified")
               for row in Certificate.objects.filter(issuer_serial=root.serial,
                                                     status=CertificateStatus.REVOKED)
               .order_by("revoked_at")]
    next_update = now + timedelta(hours=settings.YIWANG_PKI_CRL_VALID_HOURS)
    der = pki.build_crl(issuer=_issuer(root), number=number, this_update=now,
                        next_update=next_update, revoked=revoked)
    return RevocationList.objects.create(ca_serial=root.serial, number=number, der=der,
                                         this_update=now, next_update=next_update)


def crl(ca: str = "root") -> bytes:
    """The current DER CRL of the region's root CA (served at ``/trust/crl/root.crl``),
    re-issued when half of its validity has passed."""
    if ca != "root":
        raise _error(gettext("未知的证书颁发机构“%(ca)s”。"), "no_ca", ca=ca)
    root = ensure_root_ca()
    latest = (RevocationList.objects.filter(ca_serial=root.serial).order_by("-number").first())
    half = timedelta(hours=settings.YIWANG_PKI_CRL_VALID_HOURS) / 2
    if latest is not None and timezone.now() < latest.this_update + half:
        return bytes(latest.der)
    try:
        with transaction.atomic():
            return bytes(_issue_crl(root).der)
    except IntegrityError:  # another request issued the same number a moment ago
        latest = RevocationList.objects.filter(ca_serial=root.serial).order_by("-number").first()
        assert latest is not None
        return bytes(latest.der)


def crl_status(serial: str) -> dict[str, Any] | None:
    """Revocation status of a certificate by serial: ``{"serial", "status", "revoked_at",
    "reason", "not_after"}``, or None when this CA never issued it."""
    info = get_certificate(serial)
    if info is None:
        return None
    return {"serial": info.serial, "status": info.status, "revoked_at": info.revoked_at,
            "reason": info.revocation_reason, "not_after": info.not_after,
            "subject": info.subject, "usage": info.usage}


def root_certificates() -> list[bytes]:
    """DER certificates of every trusted root: this instance's (unexpired ones, the current
    first) and the root of every imported region's current trust list."""
    current = ensure_root_ca()
    roots = [current.der]
    for row in Certificate.objects.filter(usage=CertificateUsage.ROOT,
                                          not_after__gt=timezone.now()).exclude(
                                              serial=current.serial):
        roots.append(bytes(row.der))
    for imported in _current_imports():
        root = _root_of(imported)
        if root not in roots:
            roots.append(root)
    return roots


# --- time-stamp authority ------------------------------------------------------------------


def _tsa_authority() -> tsa.Authority:
    key = crypto.active_signing_key(REGION, TSA_PURPOSE)
    if key is None:
        key = crypto.create_signing_key(owner=REGION, purpose=TSA_PURPOSE,
                                        algorithm="ecdsa-p256")
    # The common case in two queries: the key's valid certificate and its issuer.
    row = (Certificate.objects.filter(key_id=key.id, usage=CertificateUsage.TSA,
                                      status=CertificateStatus.VALID,
                                      not_after__gt=timezone.now())
           .order_by("-not_after").only("der", "issuer_serial").first())
    if row is None:
        certificate = certify_key(key.id, department_code=REGION, usage="tsa")
        leaf, issuer_serial = certificate.der, certificate.issuer_serial
    else:
        leaf, issuer_serial = bytes(row.der), row.issuer_serial
    chain = [bytes(der) for der in Certificate.objects.filter(serial=issuer_serial)
             .values_list("der", flat=True)]
    key_id = key.id
    return tsa.Authority(certificate_der=leaf, chain_der=chain,
                         policy=settings.YIWANG_TSA_POLICY_OID, algorithm=key.algorithm,
                         sign=lambda data: crypto.sign_with_key(key_id, data))


def tsa_certificate() -> bytes:
    """The DER certificate of the time-stamp authority (critical EKU timeStamping)."""
    return bytes(_tsa_authority().certificate_der)


def timestamp(message_imprint: bytes, *, hash_algorithm: str = "sha256",
              nonce: int | None = None) -> bytes:
    """A DER RFC 3161 TimeStampToken (CMS ContentInfo) over ``message_imprint``, the hash
    of the data by ``hash_algorithm`` (sha256, sha384, sha512), from this instance's TSA."""
    request = tsa.build_request(bytes(message_imprint), hash_algorithm=hash_algorithm,
                                nonce=nonce)
    try:
        parsed = tsa.parse_request(request)
        token = tsa.make_token(parsed, _tsa_authority(), at=pki.now())
    except tsa.Rejection as rejection:
        raise _error(gettext("时间戳请求被拒绝：%(reason)s"), "tsa_rejected",
                     reason=rejection.text) from None
    return bytes(token.dump())


def timestamp_reply(request_der: bytes) -> tuple[bytes, bool]:
    """(the DER TimeStampResp answering an RFC 3161 request, whether it was granted): a
    malformed request gets a ``rejection`` status naming the failure, never an exception."""
    return tsa.reply(request_der, _tsa_authority(), at=pki.now())


# --- issuers and keys ----------------------------------------------------------------------


def verification_method_id(key_id: str) -> str:
    """The VC ``verificationMethod`` of a managed licence key: its URL on this instance."""
    return f"{_public_url()}/trust/keys/{key_id}"


def issuer_id(department_code: str) -> str:
    """The VC ``issuer`` (and trust-list issuer id) of a department."""
    return f"{_public_url()}/trust/issuers/{department_code}"


@transaction.atomic
def authorise_issuer(department_code: str, licence_type_code: str, *,
                     actor: Any = None) -> IssuerAuthorisation:
    """Let a department issue a licence type; published in the next trust list and shown in
    :func:`resolve_key`'s ``licence_types`` at once. Idempotent."""
    if orgs.get_department(department_code) is None:
        raise _error(gettext("部门“%(code)s”不存在。"), "no_department", code=department_code)
    if not licence_type_code or len(licence_type_code) > 64:
        raise _error(gettext("证照类型代码无效。"), "licence_type")
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


def _authorisations(department_code: str) -> dict[str, dict[str, str | None]]:
    return {
        code: {"from": trustlist.iso(since), "until": trustlist.iso(until) if until else None}
        for code, since, until in IssuerAuthorisation.objects.filter(
            department_code=department_code).values_list(
                "licence_type_code", "authorised_at", "withdrawn_at")
    }


def _licence_types(department_code: str) -> list[str]:
    return sorted(IssuerAuthorisation.objects.filter(
        department_code=department_code, withdrawn_at__isnull=True)
        .values_list("licence_type_code", flat=True))


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
    authorisations = _authorisations(row.owner)
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
    local_prefix = f"{_public_url()}/trust/keys/"
    if key_ref.startswith(local_prefix):
        key_id = key_ref[len(local_prefix):].split("#", 1)[0]
        local = (Certificate.objects.filter(key_id=key_id, usage__in=licence_usages)
                 .order_by("-not_after").first())
        return _local_key(local) if local else None
    found = imported.filter(ref=key_ref).first()
    return _imported_key(found) if found else None


def _certify_licence_keys() -> None:
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


def _local_issuers() -> list[dict[str, Any]]:
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
            "licenceTypes": _licence_types(code),
            "authorisations": _authorisations(code),
            "keys": keys,
            "sealCertificates": [
                {"serial": row.serial, "certificate": pki.der_to_pem(bytes(row.der)),
                 "status": row.status, "validFrom": trustlist.iso(row.not_before),
                 "validUntil": trustlist.iso(row.not_after)}
                for row in own if row.usage == CertificateUsage.SEAL],
        })
    return issuers


# --- ledger --------------------------------------------------------------------------------


def _ledger_append(entry_type: str, record: dict[str, Any]) -> int:
    """Append to the ledger in the caller's transaction: when the ledger refuses or fails,
    the exception rolls the trust-list version back with it — a version that is not on
    the ledger is never published or imported."""
    return int(ledger.append(entry_type, record).index)


# --- trust lists ---------------------------------------------------------------------------


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
    _certify_licence_keys()
    key, certificate = _list_signer(actor)
    last = TrustListVersion.objects.select_for_update().order_by("-sequence").first()
    sequence = (last.sequence if last else 0) + 1
    now = pki.now()
    next_update = now + timedelta(days=settings.YIWANG_TRUST_LIST_VALID_DAYS)
    issuers = _local_issuers()
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
                "url": f"{_public_url()}/trust/tsa"},
        "crls": [{"ca": "root", "url": _crl_urls()[0],
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
    version.ledger_index = _ledger_append("trust.list_version", {
        "region": region_code(), "sequence": sequence, "document_sha256": digest,
        "root_fingerprint": root.fingerprint, "issued": trustlist.iso(now),
        "next_update": trustlist.iso(next_update), "issuers": len(issuers)})
    version.save(update_fields=["ledger_index"])
    audit.record("trust.list_published", version, actor=actor,
                 detail={"sequence": sequence, "sha256": digest, "issuers": len(issuers)})
    return version


def trust_list_outdated() -> bool:
    """Whether the newest published list no longer says what this instance trusts (issuers,
    keys, authorisations changed), is missing, is past half of its validity, or was signed
    by a certificate without the trust-list usage (made before signers carried it)."""
    version = current_version()
    if version is None:
        return True
    half = timedelta(days=settings.YIWANG_TRUST_LIST_VALID_DAYS) / 2
    if timezone.now() >= version.issued_at + half:
        return True
    document = json.loads(bytes(version.document))
    signer = str(document.get("proof", {}).get("certificate", ""))
    if not _signs_lists(signer.encode("ascii", "replace")):
        return True  # signed before signers carried the trust-list usage: importers refuse it
    published = document.get("issuers")
    return bool(published != json.loads(json.dumps(_local_issuers(), ensure_ascii=False)))


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


def list_published() -> list[TrustListVersion]:
    """Every published version, newest first."""
    return list(TrustListVersion.objects.order_by("-sequence"))


def _current_imports() -> list[ImportedTrustList]:
    """The newest imported list of each region, while it is valid: a list past its
    nextUpdate is trusted no more (a partner that stopped publishing would otherwise be
    trusted for ever, with revocations we never received)."""
    return list(ImportedTrustList.objects.filter(superseded_at__isnull=True,
                                                 next_update__gt=timezone.now())
                .order_by("region_code"))


def list_imported() -> list[ImportedTrustList]:
    """Every imported version, by region and newest first."""
    return list(ImportedTrustList.objects.order_by("region_code", "-sequence"))


def _root_of(imported: ImportedTrustList) -> bytes:
    document = json.loads(bytes(imported.document))
    return pki.pem_to_der(document["root"]["certificate"].encode("ascii"))


_IMPORT_MESSAGES = {
    "too_large": gettext_noop("信任列表文件过大（上限 %(detail)s 字节）。"),
    "malformed": gettext_noop(
        "这不是有效的信任列表文件（问题所在：%(detail)s）。请确认上传的是对方发布的 "
        "list.json 原文。"),
    "fingerprint": gettext_noop(
        "根证书指纹不符：文件中根证书的指纹是 %(detail)s，与您输入的不同。"
        "请通过电话等其他渠道向对方地区核实指纹，切勿导入来源不明的列表。"),
    "certificate": gettext_noop(
        "信任列表的证书无效（%(detail)s）：签名证书不是由其根证书签发的，或已过期。"),
    "signature": gettext_noop(
        "信任列表的签名验证失败：文件在发布后被改动过，或不是由该地区签名的。"),
    "expired": gettext_noop("信任列表已于 %(detail)s 过期，请向对方地区索取最新版本。"),
    "signer_usage": gettext_noop(
        "信任列表的签名证书不是信任列表签名证书（缺少扩展密钥用途 %(detail)s），不能导入："
        "该地区的其他证书（如印章、证照签名证书）不能代表该地区签发信任列表。"
        "请对方用信任列表签名证书重新发布。"),
    "signer_revoked": gettext_noop(
        "信任列表的签名证书（序列号 %(detail)s）已被该地区撤销，不能导入。"
        "请向对方地区索取用有效证书签名的最新版本。"),
}


def _verify(algorithm: str, public_key: bytes, data: bytes, signature: bytes) -> bool:
    try:
        return bool(crypto.verify_signature(algorithm, public_key, data, signature))
    except crypto.CryptoError:
        return False


class RootChanged(ValidationError):
    """The list's root is not the root of the region's previous import: ``old`` and ``new``
    are the two SHA-256 fingerprints (lower-case hex). Importing it needs
    ``root_change_confirmed=old``."""

    def __init__(self, *, region_name: str, old: str, new: str) -> None:
        super().__init__(
            gettext("%(region)s的根证书与上次导入时不同：原指纹 %(old)s，新指纹 %(new)s。"
                    "根证书更换是重大变更，也可能是冒充；请通过电话或公文向对方地区核实"
                    "新指纹，确认后勾选“确认更换根证书”再导入。"),
            code="root_changed",
            params={"region": region_name, "old": pki.grouped(old), "new": pki.grouped(new)})
        self.old, self.new = old, new


def _earlier_crls(document: bytes) -> list[bytes]:
    """The CRLs of the newest list imported before for the region ``document`` claims: a
    signer its region revoked stays refused even in a later list that leaves the CRL out
    (the check counts them only when they are signed by the new list's root)."""
    try:
        claimed = json.loads(document.decode("utf-8"))["region"]["code"]
    except (UnicodeDecodeError, ValueError, RecursionError, TypeError, KeyError):
        return []  # the check names what is wrong with it
    if not isinstance(claimed, str):
        return []
    previous = (ImportedTrustList.objects.filter(region_code=claimed[:32])
                .order_by("-sequence").first())
    if previous is None:
        return []
    return _crls_of(previous)


def _crls_of(imported: ImportedTrustList) -> list[bytes]:
    """The DER CRLs an imported list carries."""
    document = json.loads(bytes(imported.document))
    return [base64.b64decode(item["crl"]) for item in document.get("crls", [])
            if isinstance(item, dict) and isinstance(item.get("crl"), str)]


@transaction.atomic
def import_trust_list(document: bytes, *, fingerprint: str, actor: Any = None,
                      root_change_confirmed: str = "") -> ImportedTrustList:
    """Import another region's trust list after checking it: the SHA-256 of its root
    certificate must equal ``fingerprint`` (typed by the admin, obtained out of band), the
    signing certificate must chain to that root and carry the trust-list usage, and must
    not be on a CRL of the list (or of the region's previous list), the signature must
    cover the whole list, it must not have expired, and its sequence must be higher than
    the last one imported from that region. Its keys resolve from then on; the previous
    version is superseded. Written to the ledger as ``trust.list_imported``.

    A list whose root differs from the one of the region's previous import raises
    :class:`RootChanged` unless ``root_change_confirmed`` is the previous root's fingerprint
    (the admin confirmed that very change); a confirmed change is audited as
    ``trust.root_changed`` and recorded in the ledger entry."""
    if not isinstance(document, bytes | bytearray) or not document:
        raise _error(gettext("请上传或粘贴信任列表文件。"), "empty")
    if not fingerprint or not fingerprint.strip():
        raise _error(gettext("请输入对方地区提供的根证书指纹。"), "fingerprint_missing")
    if len(pki.normalise_fingerprint(fingerprint)) != 64:
        raise _error(gettext("指纹应为 64 位十六进制数字（SHA-256），可含空格或冒号。"),
                     "fingerprint_format")
    try:
        checked = trustlist.check(bytes(document), fingerprint=fingerprint, verify=_verify,
                                  now=timezone.now(),
                                  max_bytes=settings.YIWANG_TRUST_LIST_MAX_BYTES,
                                  earlier_crls=_earlier_crls(bytes(document)))
        keys = trustlist.listed_keys(checked)
    except trustlist.TrustListError as exc:
        raise _error(gettext(_IMPORT_MESSAGES[exc.code]), exc.code, detail=str(exc)) from None
    if checked.region_code == region_code():
        raise _error(gettext("这是本地区自己的信任列表，无需导入。"), "own_region")
    _refuse_foreign_claims(checked.region_code, keys)
    previous = (ImportedTrustList.objects.select_for_update()
                .filter(region_code=checked.region_code).order_by("-sequence").first())
    if previous is not None and checked.sequence <= previous.sequence:
        raise _error(gettext("%(region)s的信任列表已导入第 %(known)s 版，这份是第 %(sequence)s "
                             "版，不能用旧版本或相同版本替换。"), "sequence",
                     region=checked.region_name, known=previous.sequence,
                     sequence=checked.sequence)
    root_changed = (previous is not None
                    and previous.root_fingerprint != checked.root_fingerprint)
    if previous is not None and root_changed and pki.normalise_fingerprint(
            root_change_confirmed or "") != previous.root_fingerprint:
        raise RootChanged(region_name=checked.region_name, old=previous.root_fingerprint,
                          new=checked.root_fingerprint)
    ImportedTrustList.objects.filter(region_code=checked.region_code,
                                     superseded_at__isnull=True).update(
                                         superseded_at=timezone.now())
    row = ImportedTrustList.objects.create(
        region_code=checked.region_code, region_name=checked.region_name,
        sequence=checked.sequence, document=bytes(document), sha256=checked.sha256,
        root_fingerprint=checked.root_fingerprint, issued_at=checked.issued,
        next_update=checked.next_update,
        imported_by=actor if getattr(actor, "pk", None) else None)
    ImportedKey.objects.bulk_create([
        ImportedKey(trust_list=row, ref=key.ref[:255], kid=key.kid, algorithm=key.algorithm,
                    public_key=key.public_key, issuer_id=key.issuer_id[:128],
                    issuer_name=key.issuer_name[:128], licence_types=key.licence_types,
                    valid_from=key.valid_from, valid_until=key.valid_until,
                    status=key.status[:16], certificate=key.certificate)
        for key in keys])
    record: dict[str, Any] = {
        "region": checked.region_code, "sequence": checked.sequence,
        "document_sha256": checked.sha256, "root_fingerprint": checked.root_fingerprint,
        "keys": len(keys)}
    if previous is not None and root_changed:
        record["previous_root_fingerprint"] = previous.root_fingerprint
        audit.record("trust.root_changed", row, actor=actor,
                     detail={"region": checked.region_code,
                             "old_fingerprint": previous.root_fingerprint,
                             "new_fingerprint": checked.root_fingerprint,
                             "sequence": checked.sequence})
    row.ledger_index = _ledger_append("trust.list_imported", record)
    row.save(update_fields=["ledger_index"])
    audit.record("trust.list_imported", row, actor=actor,
                 detail={"region": checked.region_code, "sequence": checked.sequence,
                         "sha256": checked.sha256, "keys": len(keys)})
    return row


def _origin(url: str) -> str | None:
    """The server of an http(s) URL without credentials in it (``outbound.origin``); None
    for anything else."""
    try:
        credentials = bool(urlsplit(url).username)
    except ValueError:
        return None
    return None if credentials else (outbound.origin(url) or None)


def _refuse_foreign_claims(region: str, keys: list[trustlist.ListedKey]) -> None:
    """A region speaks only for itself: every issuer id and key id of its list must be on one
    origin of its own (never this instance's), and no key id, COSE kid or issuer id may be
    one this instance or another imported region already uses — else a partner could sign
    licences "issued" by our departments, or shadow our keys in verifiers."""
    origins = {_origin(k.issuer_id) for k in keys} | {_origin(k.ref) for k in keys}
    if None in origins or _origin(_public_url()) in origins or len(origins) > 1:
        raise _error(gettext("信任列表中的发证机构和密钥标识必须都在对方地区自己的网址下，"
                             "不能使用本地区或其他网址，不能导入。"), "namespace")
    refs = {k.ref for k in keys}
    issuers = {k.issuer_id for k in keys}
    kids = {k.kid for k in keys if k.kid}
    local = Certificate.objects.filter(Q(kid__in=kids) | Q(certificate_kid__in=kids))
    others = ImportedKey.objects.filter(trust_list__superseded_at__isnull=True).exclude(
        trust_list__region_code=region).filter(
            Q(ref__in=refs) | Q(issuer_id__in=issuers) | Q(kid__in=kids))
    if (kids and local.exists()) or others.exists():
        raise _error(gettext("信任列表中的密钥或发证机构标识与本地区或已导入的其他地区重复，"
                             "不能导入。"), "collision")


def imported_status(row: ImportedTrustList) -> str:
    """``current``, ``expired`` (its nextUpdate passed: import a newer one) or
    ``superseded``."""
    if row.superseded_at is not None:
        return "superseded"
    return "expired" if row.next_update <= timezone.now() else "current"


# --- the offline bundle --------------------------------------------------------------------


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
    for imported in _current_imports():
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

