"""Certificates of the region's X.509 hierarchy (证书): the root CA, department and region
certificates issued by it, their revocation and CRLs, and the RFC 3161 time-stamp
authority whose certificate the root issues. Private to the app: other apps use
``service.py``.

Private keys never leave the key vault of ``yiwang.core.crypto``: certificates, CRLs and
time-stamp tokens are built here (``pki``, ``tsa``) and signed with
:func:`yiwang.core.crypto.service.sign_with_key`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from asn1crypto import x509
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext

from yiwang.core.audit import service as audit
from yiwang.core.crypto import service as crypto
from yiwang.platform.orgs import service as orgs
from yiwang.support.trust import pki, trustlist, tsa
from yiwang.support.trust.common import (
    CERT_USAGES,
    REGION,
    ROOT_PURPOSE,
    TSA_PURPOSE,
    error,
    public_url,
    region_name,
)
from yiwang.support.trust.models import (
    Certificate,
    CertificateStatus,
    CertificateUsage,
    RevocationList,
)


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


def info_of(row: Certificate) -> CertificateInfo:
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


def current_root() -> Certificate | None:
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
    row = current_root()
    if row is not None:
        return info_of(row)
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
    return info_of(row)


def issuer_of(root: CertificateInfo) -> pki.Issuer:
    key_id = root.key_id
    return pki.Issuer(x509.Certificate.load(root.der), root.algorithm,
                      lambda data: crypto.sign_with_key(key_id, data))


def crl_urls() -> list[str]:
    return [f"{public_url()}/trust/crl/root.crl"]


def _subject(owner: str, usage: str) -> tuple[x509.Name, str]:
    if owner == REGION:
        names = {"tsa": gettext("%(region)s时间戳服务"),
                 "trust-list": gettext("%(region)s信任列表签名")}
        if usage not in names:
            raise error(gettext("地区密钥只能签发时间戳或信任列表签名证书。"), "usage")
        common_name = names[usage] % {"region": region_name()}
        return pki.build_name(common_name=common_name, organization=region_name()), common_name
    department = orgs.get_department(owner)
    if department is None:
        raise error(gettext("部门“%(code)s”不存在。"), "no_department", code=owner)
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
        raise error(gettext("证书用途“%(usage)s”无效。"), "usage", usage=usage)
    key = crypto.get_signing_key(key_id)
    if key is None:
        raise error(gettext("密钥“%(key)s”不存在。"), "no_key", key=key_id)
    if key.owner != department_code:
        raise error(gettext("密钥“%(key)s”不属于“%(owner)s”，不能为其签发证书。"), "owner",
                     key=key_id, owner=department_code)
    if Certificate.objects.filter(key_id=key_id, status=CertificateStatus.REVOKED,
                                  revocation_reason="key_compromise").exists():
        raise error(gettext("这把密钥的证书曾因密钥泄露被撤销，不能再为它签发证书；请更换密钥。"),
                     "key_compromised")
    if key.status != "active":
        raise error(gettext("密钥已停用或已撤销，不能再签发证书。"), "key_status")
    existing = (Certificate.objects.filter(key_id=key_id, usage=usage,
                                           status=CertificateStatus.VALID,
                                           not_after__gt=timezone.now())
                .order_by("-not_after").first())
    if existing is not None:
        return info_of(existing)
    root = ensure_root_ca(actor=actor)
    subject, subject_text = _subject(department_code, usage)
    now = pki.now()
    not_after = min(now + timedelta(days=settings.YIWANG_PKI_CERT_VALID_DAYS), root.not_after)
    if key.not_after is not None:
        not_after = min(not_after, key.not_after)
    der = pki.build_certificate(
        issuer=issuer_of(root), subject=subject, spki_der=key.public_key, usage=usage,
        serial=pki.random_serial(), not_before=now, not_after=not_after,
        crl_urls=crl_urls())
    row = _store(key=key, owner=department_code, usage=usage, subject=subject_text, der=der,
                 issuer_serial=root.serial, actor=actor)
    audit.record("trust.certificate_issued", row, actor=actor,
                 detail={"serial": row.serial, "usage": usage, "key": key_id,
                         "owner": department_code, "not_after": row.not_after.isoformat()})
    return info_of(row)


def certificate_for_key(key_id: str) -> CertificateInfo | None:
    """The key's newest certificate that is not revoked (expired ones included: they still
    verify old signatures), or None."""
    row = (Certificate.objects.filter(key_id=key_id).exclude(status=CertificateStatus.REVOKED)
           .order_by("-not_after").first())
    return info_of(row) if row else None


def get_certificate(serial: str) -> CertificateInfo | None:
    """A certificate by its serial number (hex, any case, colons allowed)."""
    cleaned = pki.normalise_fingerprint(serial).lstrip("0")
    row = Certificate.objects.filter(serial=cleaned).first()
    return info_of(row) if row else None


def list_certificates(*, owner: str | None = None) -> list[CertificateInfo]:
    """Certificates, newest first, of one owner (a department code or ``"region"``) or all."""
    rows = Certificate.objects.all()
    if owner is not None:
        rows = rows.filter(owner=owner)
    return [info_of(row) for row in rows]


# Chains by their leaf's serial, per process. A stored certificate's DER never changes (a
# revocation changes only its status, and a renewal is a new row with a new serial), so a
# chain is immutable once its leaf is known; which leaf is the key's current one is read
# again on every call (one narrow query), so a revocation or a renewal is seen at once.
_CHAINS: dict[str, tuple[bytes, ...]] = {}


def chain_for_key(key_id: str) -> list[bytes]:
    """The DER certificate chain of a key: its certificate first, ending at the root."""
    serial = (Certificate.objects.filter(key_id=key_id)
              .exclude(status=CertificateStatus.REVOKED).order_by("-not_after")
              .values_list("serial", flat=True).first())
    if serial is None:
        return []
    chain = _CHAINS.get(serial)
    if chain is None:
        leaf = get_certificate(serial)
        if leaf is None:  # removed in the meantime
            return []
        found = [leaf.der]
        complete = True
        if leaf.issuer_serial:
            root = get_certificate(leaf.issuer_serial)
            if root is not None:
                found.append(root.der)
            else:  # its issuer not (yet) stored here: answer, but do not keep it
                complete = False
        chain = tuple(found)
        if complete:
            if len(_CHAINS) > 1024:
                _CHAINS.clear()
            _CHAINS[serial] = chain
    return list(chain)


@transaction.atomic
def revoke_certificate(serial: str, *, reason: str = "unspecified",
                       actor: Any = None) -> CertificateInfo:
    """Revoke a department certificate: it is listed on the next CRL, issued at once, and
    its key resolves as ``revoked`` from now on. ``reason`` is an RFC 5280 reason name;
    ``key_compromise`` revokes the key in the vault too (it never signs again; the next
    issuance creates a new one)."""
    if reason not in pki.REASONS:
        raise error(gettext("撤销原因“%(reason)s”无效。"), "reason", reason=reason)
    cleaned = pki.normalise_fingerprint(serial).lstrip("0")
    row = Certificate.objects.select_for_update().filter(serial=cleaned).first()
    if row is None:
        raise error(gettext("证书“%(serial)s”不存在。"), "no_certificate", serial=serial)
    if row.usage == CertificateUsage.ROOT:
        raise error(gettext("根证书不能撤销；请更换根密钥并重新发布信任列表。"), "root")
    if row.status == CertificateStatus.REVOKED:
        return info_of(row)
    row.status, row.revoked_at, row.revocation_reason = (
        CertificateStatus.REVOKED, timezone.now(), reason)
    row.save(update_fields=["status", "revoked_at", "revocation_reason"])
    audit.record("trust.certificate_revoked", row, actor=actor,
                 detail={"serial": row.serial, "reason": reason, "owner": row.owner})
    if reason == "key_compromise":
        # A compromised key must not sign again: revoking only its certificate would leave
        # issuance signing with it, and every new licence would fail verification at once.
        key = crypto.get_signing_key(row.key_id)
        if key is not None and key.status != "revoked":
            crypto.revoke_signing_key(row.key_id, reason=f"certificate {row.serial} revoked: "
                                                          "key compromise", actor=actor)
    root = get_certificate(row.issuer_serial)
    if root is not None and current_root() is not None:
        _issue_crl(root)
    return info_of(row)


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
    der = pki.build_crl(issuer=issuer_of(root), number=number, this_update=now,
                        next_update=next_update, revoked=revoked)
    return RevocationList.objects.create(ca_serial=root.serial, number=number, der=der,
                                         this_update=now, next_update=next_update)


def crl(ca: str = "root") -> bytes:
    """The current DER CRL of the region's root CA (served at ``/trust/crl/root.crl``),
    re-issued when half of its validity has passed."""
    if ca != "root":
        raise error(gettext("未知的证书颁发机构“%(ca)s”。"), "no_ca", ca=ca)
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
        raise error(gettext("时间戳请求被拒绝：%(reason)s"), "tsa_rejected",
                     reason=rejection.text) from None
    return bytes(token.dump())


def timestamp_reply(request_der: bytes) -> tuple[bytes, bool]:
    """(the DER TimeStampResp answering an RFC 3161 request, whether it was granted): a
    malformed request gets a ``rejection`` status naming the failure, never an exception."""
    return tsa.reply(request_der, _tsa_authority(), at=pki.now())
