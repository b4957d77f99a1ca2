"""Public facade of the seals app (电子印章). Other apps import this module only.

- The registry: :func:`create_seal` (a vault key, a certificate from the region's root CA,
  the seal picture), :func:`set_custodians`, :func:`suspend_seal`, :func:`reinstate_seal`,
  :func:`revoke_seal`; queries :func:`seals_of`, :func:`get_seal`, :func:`may_manage`.
- Authorisation (用印授权): :func:`authorise_seal_use` by a custodian signed in at L3 with a
  multi-factor sign-in or step-up within ``YIWANG_SEAL_STEP_UP_SECONDS`` — single use, bound
  to a document's SHA-256, or standing for one purpose until a date;
  :func:`withdraw_authorisation`; :func:`licence_seal_for` (issuance of licences).
- Sealing: :func:`seal_pdf` (PAdES B-B / B-T / B-LT with a visible stamp; each use on the
  ledger as ``seal.used`` and in the audit log); :func:`validate_pdf` (验章).

Writes are ``@transaction.atomic`` and raise ``ValidationError`` with a message a person can
act on.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.audit import service as audit
from yiwang.enablement.ledger import service as ledger
from yiwang.platform.orgs import service as orgs
from yiwang.support.identity import service as identity
from yiwang.support.seals import backend as backends
from yiwang.support.seals import pades
from yiwang.support.seals.models import (
    Seal,
    SealAuthorisation,
    SealKind,
    SealStatus,
    SealUse,
)
from yiwang.support.seals.pades import Check, SignatureReport
from yiwang.support.seals.stamp import render_stamp

logger = logging.getLogger(__name__)

__all__ = [
    "LEVELS",
    "REVOCATION_CAUSES",
    "Check",
    "Seal",
    "SealAuthorisation",
    "SealKind",
    "SealStatus",
    "SealUse",
    "SealValidation",
    "SignatureReport",
    "StepUpRequired",
    "authorise_seal_use",
    "create_seal",
    "get_seal",
    "grant_standing_authorisation",
    "licence_purpose",
    "licence_seal_for",
    "list_uses",
    "may_manage",
    "may_use",
    "recently_verified",
    "reinstate_seal",
    "revoke_seal",
    "seal_pdf",
    "seals_in_custody",
    "seals_of",
    "set_custodians",
    "suspend_seal",
    "validate_pdf",
    "withdraw_authorisation",
]

LEVELS = pades.LEVELS
MANAGE_PERMISSION = "seals.manage_seals"
VIEW_USES_PERMISSION = "seals.view_seal_uses"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_MAX_STANDING_DAYS = 366


class StepUpRequired(ValidationError):
    """The custodian must prove who they are again (multi-factor) before authorising."""


# --- queries -----------------------------------------------------------------------------------

def get_seal(pk: int | str) -> Seal | None:
    """The seal with primary key ``pk`` or code ``pk``, or ``None``."""
    query = Seal.objects.select_related("department")
    if isinstance(pk, int) or str(pk).isdigit():
        return query.filter(pk=int(pk)).first()
    return query.filter(code=str(pk)).first()


def seals_of(department_code: str) -> QuerySet[Seal]:
    """The department's seals, every status."""
    return Seal.objects.select_related("department").filter(
        department__code=department_code).prefetch_related("custodians")


def seals_in_custody(user: Any) -> QuerySet[Seal]:
    """The active seals ``user`` is a custodian of."""
    return Seal.objects.select_related("department").filter(
        custodians=user, status=SealStatus.ACTIVE).order_by("department__code", "name")


def may_manage(user: Any, department_code: str) -> bool:
    """An official of the department holding ``seals.manage_seals`` (a superuser too)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    return bool(user.has_perm(MANAGE_PERMISSION) and orgs.is_member(user, department_code))


def may_use(user: Any, seal: Seal) -> bool:
    """A custodian of ``seal`` who is still a member of its department."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(seal.custodians.filter(pk=user.pk).exists()
                and orgs.is_member(user, seal.department.code))


def list_uses(*, department_codes: Iterable[str] | None = None, seal: Seal | None = None,
              limit: int = 100) -> list[SealUse]:
    """The newest seal uses (用印记录), of some departments or one seal."""
    query = SealUse.objects.select_related("seal", "seal__department", "authorisation",
                                           "authorisation__custodian", "actor")
    if department_codes is not None:
        query = query.filter(seal__department__code__in=list(department_codes))
    if seal is not None:
        query = query.filter(seal=seal)
    return list(query[:max(1, min(limit, 1000))])


def licence_purpose(licence_type_code: str) -> str:
    """The purpose of a standing authorisation to seal one licence type's PDFs."""
    return f"licence:{licence_type_code}"


def licence_seal_for(department_code: str, licence_type_code: str | None = None
                     ) -> tuple[Seal, SealAuthorisation] | None:
    """The department's active seal and a live standing authorisation to seal licences with
    it — for ``licence_type_code`` when given (``licence:<code>``), else for any licence
    type (``licence:*``) — or ``None``. Used by licence issuance."""
    now = timezone.now()
    purposes = ["licence:*"]
    if licence_type_code:
        purposes.insert(0, licence_purpose(licence_type_code))
    found = (SealAuthorisation.objects.select_related("seal", "seal__department")
             .filter(seal__department__code=department_code, seal__status=SealStatus.ACTIVE,
                     seal__valid_until__gt=now, standing_until__gt=now,
                     withdrawn_at__isnull=True, purpose__in=purposes)
             .order_by("-created_at"))
    for authorisation in found:
        if _still_custodian(authorisation.seal, authorisation.custodian):
            return authorisation.seal, authorisation
    return None


# --- the registry ------------------------------------------------------------------------------

def _department(department_code: str) -> Any:
    department = orgs.get_department(department_code)
    if department is None:
        raise ValidationError(_("没有代码为 %(code)s 的部门。") % {"code": department_code})
    return department


def _check_custodians(department_code: str, custodians: Sequence[Any]) -> list[Any]:
    people = list(custodians)
    if not people:
        raise ValidationError(_("请至少指定一名印章保管人。"))
    for person in people:
        if not getattr(person, "is_staff", False) or not orgs.is_member(person,
                                                                          department_code):
            label = getattr(person, "display_name", "") or getattr(person, "username", "")
            raise ValidationError(
                _("%(name)s 不是本部门的公职人员，不能担任印章保管人。") % {"name": label})
    return people


def _new_code() -> str:
    return "S" + secrets.token_hex(6).upper()


@transaction.atomic
def create_seal(*, department_code: str, name: str, kind: str, custodians: Sequence[Any],
                actor: Any, valid_days: int | None = None, purpose_text: str | None = None
                ) -> Seal:
    """Make a seal: a vault key (ECDSA P-256), a certificate for it from the region's root
    CA (usage ``seal``), and a round red picture with the department's name along the arc.

    ``purpose_text`` is the wording below the star (default: the kind, e.g. 行政审批专用章;
    none for a 公章). Audited as ``seals.seal_created``."""
    department = _department(department_code)
    name = (name or "").strip()
    if not name or len(name) > 128:
        raise ValidationError(_("请填写印章名称（不超过 128 个字）。"))
    if kind not in SealKind.values:
        raise ValidationError(_("请选择印章类型。"))
    if Seal.objects.filter(department=department, name=name).exclude(
            status=SealStatus.REVOKED).exists():
        raise ValidationError(_("本部门已有名为“%(name)s”的印章。") % {"name": name})
    people = _check_custodians(department.code, custodians)
    days = int(valid_days or settings.YIWANG_SEAL_CERT_DAYS)
    if not 1 <= days <= 3650:
        raise ValidationError(_("印章有效期须在 1 到 3650 天之间。"))
    if purpose_text is None:
        purpose_text = "" if kind == SealKind.OFFICIAL else str(SealKind(kind).label)
    code = _new_code()
    backend = backends.current()
    try:
        key_id = backend.create_key(department_code=department.code, seal_code=code,
                                    valid_days=days, actor=actor)
        certificate = backend.certify(key_id, department_code=department.code)
    except ValidationError:
        raise
    except Exception as exc:
        logger.exception("seal key or certificate could not be made")
        raise ValidationError(_("无法为印章生成密钥或证书，请稍后重试或联系系统管理员。")) from exc
    from asn1crypto import x509 as asn1_x509

    cert = asn1_x509.Certificate.load(certificate)
    now = timezone.now()
    seal = Seal.objects.create(
        code=code, department=department, name=name, kind=kind,
        stamp_png=render_stamp(department.name, purpose_text), key_id=key_id,
        certificate_serial=format(cert.serial_number, "x"),
        certificate_sha256=hashlib.sha256(certificate).hexdigest(),
        valid_from=now, valid_until=min(now + timedelta(days=days), cert.not_valid_after),
    )
    seal.custodians.set(people)
    audit.record("seals.seal_created", seal, actor=actor, detail={
        "code": code, "department": department.code, "kind": kind, "key_id": key_id,
        "certificate_serial": seal.certificate_serial,
        "custodians": [p.pk for p in people]})
    return seal


@transaction.atomic
def set_custodians(seal: Seal, custodians: Sequence[Any], *, actor: Any) -> Seal:
    """Replace the seal's custodians (officials of its department). Standing authorisations
    of custodians who leave are withdrawn. Audited as ``seals.custodians_changed``."""
    seal = Seal.objects.select_for_update().get(pk=seal.pk)
    if seal.status == SealStatus.REVOKED:
        raise ValidationError(_("印章已注销，不能再变更保管人。"))
    people = _check_custodians(seal.department.code, custodians)
    before = set(seal.custodians.values_list("pk", flat=True))
    seal.custodians.set(people)
    after = {p.pk for p in people}
    left = before - after
    if left:
        SealAuthorisation.objects.filter(seal=seal, custodian_id__in=left,
                                         withdrawn_at__isnull=True).update(
            withdrawn_at=timezone.now())
    audit.record("seals.custodians_changed", seal, actor=actor, detail={
        "added": sorted(after - before), "removed": sorted(left)})
    return seal


def _locked(seal: Seal) -> Seal:
    return Seal.objects.select_for_update().select_related("department").get(pk=seal.pk)


def _set_status(seal: Seal, status: str, *, reason: str, actor: Any, action: str) -> Seal:
    seal.status = status
    seal.status_reason = reason
    seal.save(update_fields=["status", "status_reason", "updated_at"])
    audit.record(action, seal, actor=actor, detail={"code": seal.code, "reason": reason})
    return seal


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("请填写原因。"))
    return reason[:500]


@transaction.atomic
def suspend_seal(seal: Seal, *, reason: str, actor: Any) -> Seal:
    """Stop using the seal for now (暂停使用): nothing is sealed with it until reinstated.
    Documents sealed before stay valid. Audited as ``seals.seal_suspended``."""
    seal = _locked(seal)
    if seal.status != SealStatus.ACTIVE:
        raise ValidationError(_("只有在用的印章可以暂停使用。"))
    return _set_status(seal, SealStatus.SUSPENDED, reason=_reason(reason), actor=actor,
                       action="seals.seal_suspended")


@transaction.atomic
def reinstate_seal(seal: Seal, *, actor: Any) -> Seal:
    """Put a suspended seal back in use. Audited as ``seals.seal_reinstated``."""
    seal = _locked(seal)
    if seal.status != SealStatus.SUSPENDED:
        raise ValidationError(_("只有暂停使用的印章可以恢复使用。"))
    return _set_status(seal, SealStatus.ACTIVE, reason="", actor=actor,
                       action="seals.seal_reinstated")


# Why a seal is revoked → the RFC 5280 reason on the CRL.
REVOCATION_CAUSES = {
    "cessation_of_operation": gettext_lazy("不再使用"),
    "key_compromise": gettext_lazy("遗失、被盗或密钥泄露"),
    "affiliation_changed": gettext_lazy("部门撤并或更名"),
    "superseded": gettext_lazy("已由新印章替代"),
}


@transaction.atomic
def revoke_seal(seal: Seal, *, reason: str, actor: Any,
                cause: str = "cessation_of_operation") -> Seal:
    """Revoke the seal for good (注销): its certificate goes on the root CA's CRL with
    ``cause`` (a key of :data:`REVOCATION_CAUSES`) and its key is revoked in the vault, so
    every signature it made now validates as revoked; every authorisation is withdrawn.
    Audited as ``seals.seal_revoked``."""
    seal = _locked(seal)
    if seal.status == SealStatus.REVOKED:
        raise ValidationError(_("印章已注销。"))
    if cause not in REVOCATION_CAUSES:
        raise ValidationError(_("请选择注销原因类别。"))
    reason = _reason(reason)
    try:
        backends.current().revoke(seal.key_id, certificate_serial=seal.certificate_serial,
                                  cause=cause, reason=reason, actor=actor)
    except ValidationError:
        raise
    except Exception as exc:
        logger.exception("seal key or certificate could not be revoked")
        raise ValidationError(_("无法吊销印章的密钥或证书，请稍后重试。")) from exc
    SealAuthorisation.objects.filter(seal=seal, withdrawn_at__isnull=True).update(
        withdrawn_at=timezone.now())
    return _set_status(seal, SealStatus.REVOKED, reason=f"{REVOCATION_CAUSES[cause]}：{reason}",
                       actor=actor, action="seals.seal_revoked")


# --- authorisation -----------------------------------------------------------------------------

def _still_custodian(seal: Seal, user: Any) -> bool:
    return bool(user.is_active and seal.custodians.filter(pk=user.pk).exists()
                and orgs.is_member(user, seal.department.code))


def _check_usable(seal: Seal) -> None:
    if seal.status == SealStatus.SUSPENDED:
        raise ValidationError(_("印章“%(name)s”已暂停使用。") % {"name": seal.name})
    if seal.status == SealStatus.REVOKED:
        raise ValidationError(_("印章“%(name)s”已注销。") % {"name": seal.name})
    if seal.valid_until <= timezone.now():
        raise ValidationError(_("印章“%(name)s”已过有效期（%(date)s）。") % {
            "name": seal.name, "date": f"{seal.valid_until:%Y-%m-%d}"})


def _fresh_mfa(request: HttpRequest, custodian: Any) -> Any:
    """The custodian's identity session, if it is theirs, at L3, multi-factor, and proved
    within ``YIWANG_SEAL_STEP_UP_SECONDS``; else :class:`StepUpRequired`."""
    if getattr(request, "user", None) is None or request.user.pk != custodian.pk:
        raise ValidationError(_("只有印章保管人本人可以授权用印。"))
    session = identity.current_session(request)
    if session is None or session.user_id != custodian.pk:
        raise StepUpRequired(_("请先登录。"))
    if int(session.acr) < identity.OFFICIAL_LEVEL or "mfa" not in (session.amr or []):
        raise StepUpRequired(_("授权用印须使用多因素认证（L3）登录。"))
    window = timedelta(seconds=int(settings.YIWANG_SEAL_STEP_UP_SECONDS))
    if session.auth_time is None or timezone.now() - session.auth_time > window:
        minutes = max(1, window.seconds // 60)
        raise StepUpRequired(
            _("授权用印前请重新验证身份（须在 %(minutes)s 分钟内完成多因素认证）。")
            % {"minutes": minutes})
    return session


def recently_verified(request: HttpRequest) -> bool:
    """Whether the signed-in official may authorise a seal use now (L3, multi-factor,
    proved within ``YIWANG_SEAL_STEP_UP_SECONDS``) — for pages to offer re-verification
    before the official uploads a document."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    try:
        _fresh_mfa(request, user)
    except ValidationError:
        return False
    return True


@transaction.atomic
def authorise_seal_use(seal: Seal, *, custodian: Any, request: HttpRequest, purpose: str,
                       document_sha256: str | None = None,
                       standing_until: datetime | None = None) -> SealAuthorisation:
    """A custodian authorises using ``seal`` (用印授权).

    Either once, for the document whose SHA-256 (hex) is ``document_sha256``, or standing
    (长期授权) for ``purpose`` until ``standing_until`` — e.g. ``licence_purpose(code)`` for
    issuing one licence type, which the licences app seals with automatically. The request
    must be the custodian's own, signed in at L3 with a multi-factor sign-in or step-up
    within ``YIWANG_SEAL_STEP_UP_SECONDS`` (else :class:`StepUpRequired`: send them through
    sign-in again). Audited as ``seals.use_authorised``."""
    session = _fresh_mfa(request, custodian)
    seal = Seal.objects.select_related("department").get(pk=seal.pk)
    _check_usable(seal)
    if not _still_custodian(seal, custodian):
        raise ValidationError(_("您不是印章“%(name)s”的保管人。") % {"name": seal.name})
    return _authorise(seal, custodian=custodian, purpose=purpose,
                      document_sha256=document_sha256, standing_until=standing_until,
                      level=int(session.acr), methods=list(session.amr or []),
                      auth_time=session.auth_time, how="mfa")


def grant_standing_authorisation(seal: Seal, *, custodian: Any, purpose: str,
                                 standing_until: datetime, actor: Any = None
                                 ) -> SealAuthorisation:
    """A standing authorisation recorded by a setup step (the demo loader, a migration of
    existing paper authorisations) rather than by the custodian in a browser. Recorded with
    level 0 and ``how: setup`` in the audit log, so it is never mistaken for one given with
    multi-factor authentication. Not for the workbench or the API."""
    with transaction.atomic():
        seal = Seal.objects.select_related("department").get(pk=seal.pk)
        _check_usable(seal)
        if not _still_custodian(seal, custodian):
            raise ValidationError(_("%(person)s 不是印章“%(name)s”的保管人。") % {
                "person": custodian, "name": seal.name})
        return _authorise(seal, custodian=custodian, purpose=purpose, document_sha256=None,
                          standing_until=standing_until, level=0, methods=[],
                          auth_time=None, how="setup", actor=actor)


def _authorise(seal: Seal, *, custodian: Any, purpose: str, document_sha256: str | None,
               standing_until: datetime | None, level: int, methods: list[str],
               auth_time: datetime | None, how: str, actor: Any = None) -> SealAuthorisation:
    purpose = (purpose or "").strip()
    if not purpose or len(purpose) > 200:
        raise ValidationError(_("请填写用印事由（不超过 200 个字）。"))
    digest = (document_sha256 or "").strip().lower()
    if bool(digest) == (standing_until is not None):
        raise ValidationError(_("授权须二选一：针对一份文件（文件摘要），或长期授权（截止日期）。"))
    if digest and not _SHA256.fullmatch(digest):
        raise ValidationError(_("文件摘要须为 64 位十六进制的 SHA-256 值。"))
    if standing_until is not None:
        now = timezone.now()
        if standing_until <= now:
            raise ValidationError(_("长期授权的截止时间须晚于现在。"))
        if standing_until > now + timedelta(days=_MAX_STANDING_DAYS):
            raise ValidationError(_("长期授权最长 %(days)s 天。") % {"days": _MAX_STANDING_DAYS})
        if standing_until > seal.valid_until:
            raise ValidationError(_("长期授权不能晚于印章有效期（%(date)s）。") % {
                "date": f"{seal.valid_until:%Y-%m-%d}"})
    authorisation = SealAuthorisation.objects.create(
        seal=seal, custodian=custodian, purpose=purpose, document_sha256=digest,
        standing_until=standing_until, auth_level=level, auth_methods=methods,
        auth_time=auth_time)
    audit.record("seals.use_authorised", seal, actor=actor or custodian, detail={
        "authorisation": authorisation.pk, "seal": seal.code, "purpose": purpose,
        "document_sha256": digest, "standing_until": standing_until.isoformat()
        if standing_until else None, "level": level, "how": how})
    return authorisation


@transaction.atomic
def withdraw_authorisation(authorisation: SealAuthorisation, *, actor: Any) -> None:
    """Withdraw an authorisation not yet used up. Audited as ``seals.use_withdrawn``."""
    updated = SealAuthorisation.objects.filter(pk=authorisation.pk,
                                               withdrawn_at__isnull=True).update(
        withdrawn_at=timezone.now())
    if updated:
        audit.record("seals.use_withdrawn", authorisation.seal, actor=actor,
                     detail={"authorisation": authorisation.pk})


# --- sealing -----------------------------------------------------------------------------------

def _ledger_append(record: dict[str, Any]) -> Any:
    """Append ``seal.used`` to the main ledger in this transaction (hashes and record
    identifiers only, never the document or personal data)."""
    return ledger.append("seal.used", record)


def _check_size(pdf: bytes) -> None:
    if not isinstance(pdf, bytes | bytearray) or not pdf:
        raise ValidationError(_("请上传 PDF 文件。"))
    limit = int(settings.YIWANG_SEAL_MAX_PDF_BYTES)
    if len(pdf) > limit:
        raise ValidationError(_("文件太大（上限 %(mb)s MB）。") % {"mb": limit // (1024 * 1024)})


def _stamp_text(seal: Seal) -> str:
    return seal.name


_KEYS: dict[tuple[int, int, str, str, str], pades.SealingKey] = {}


def _sealing_key(backend: backends.Backend, seal: Seal, crls: Sequence[bytes]
                 ) -> pades.SealingKey:
    """The seal's signing key and certificate chain, kept per process while the seal's key,
    its certificate serial and the CRLs are unchanged (a revocation issues a new CRL, and
    a new certificate changes the serial). Only for B-LT, where the CRLs are fetched
    anyway and the seal certificate is checked against them before signing; the vault
    still refuses a revoked key."""
    marker = hashlib.sha256(b"".join(bytes(der) for der in crls)).hexdigest()
    cache_key = (id(backend), seal.pk, seal.key_id, seal.certificate_serial, marker)
    key = _KEYS.get(cache_key)
    if key is None:
        key = backend.sealing_key(seal.key_id)
        if len(_KEYS) > 256:
            _KEYS.clear()
        _KEYS[cache_key] = key
    return key


@transaction.atomic
def seal_pdf(pdf: bytes, *, seal: Seal, authorisation: SealAuthorisation,
             level: str = "B-LT", page: int = 0, box: tuple[float, ...] | None = None,
             reason: str = "", location: str = "", actor: Any = None) -> bytes:
    """Seal ``pdf`` with ``seal`` under ``authorisation``: a PAdES signature at ``level``
    (B-B, B-T with a timestamp from yiwang's TSA, B-LT with the validation data embedded)
    and a visible stamp on ``page`` (0-based) in ``box`` (PDF points, x1 y1 x2 y2; default
    lower right). Several seals on one document: call again on the result; each later
    signature is an incremental update that keeps the earlier ones valid.

    A single-use authorisation must name this document's SHA-256 and is used up; a standing
    one must be live. Each use is appended to the ledger (``seal.used``: seal, document
    SHA-256, authorisation, level), recorded as a :class:`SealUse` and audited."""
    _check_size(pdf)
    pdf = bytes(pdf)
    if level not in LEVELS:
        raise ValidationError(_("签章级别须为 %(levels)s 之一。") % {"levels": "、".join(LEVELS)})
    # The authorisation (locked) with its seal and the seal's department, in one query.
    authorisation = (SealAuthorisation.objects.select_for_update(of=("self",))
                     .select_related("seal", "seal__department").get(pk=authorisation.pk))
    if authorisation.seal_id != seal.pk:
        raise ValidationError(_("该授权不是针对这枚印章的。"))
    seal = authorisation.seal
    _check_usable(seal)
    # Only what the custodian check needs: loading the whole account decrypts its
    # personal data fields for nothing.
    custodian = get_user_model().objects.only("id", "is_active").get(
        pk=authorisation.custodian_id)
    document_sha256 = hashlib.sha256(pdf).hexdigest()
    now = timezone.now()
    if authorisation.withdrawn_at is not None:
        raise ValidationError(_("该用印授权已撤回。"))
    if not _still_custodian(seal, custodian):
        raise ValidationError(_("授权人已不是该印章的保管人，授权失效。"))
    if authorisation.standing:
        assert authorisation.standing_until is not None
        if authorisation.standing_until <= now:
            raise ValidationError(_("该长期用印授权已过期。"))
    else:
        if authorisation.used_at is not None:
            raise ValidationError(_("该用印授权只能使用一次，已经用过。"))
        if authorisation.document_sha256 != document_sha256:
            raise ValidationError(_("该用印授权针对的是另一份文件（文件摘要不一致）。"))
    backend = backends.current()
    try:
        kwargs: dict[str, Any] = {}
        if level != "B-B":
            kwargs["timestamp"] = backend.timestamp
        if level == "B-LT":
            # The chain ends at our root and the TSA's token carries its own chain, so the
            # validation data needs only the CRLs (pades checks the seal is not on them).
            crls = backend.crls()
            kwargs["crls"] = crls
            key = _sealing_key(backend, seal, crls)
        else:
            key = backend.sealing_key(seal.key_id)
        box_ints = tuple(round(v) for v in box) if box else None
        sealed, field_name = pades.seal_named(pdf, key=key, level=level, page=page,
                                              box=box_ints,  # type: ignore[arg-type]
                                              reason=reason[:200], location=location[:200],
                                              stamp_png=bytes(seal.stamp_png),
                                              stamp_text=_stamp_text(seal), **kwargs)
    except pades.MalformedPdf as exc:
        raise ValidationError(_("无法读取该 PDF 文件：%(reason)s") % {"reason": exc}) from exc
    except pades.SealingError as exc:
        raise ValidationError(_("无法盖章：%(reason)s") % {"reason": exc}) from exc
    except ValidationError:
        raise
    except Exception as exc:
        logger.exception("sealing failed")
        raise ValidationError(
            _("盖章失败：印章密钥、证书或时间戳服务暂不可用，请稍后重试。")) from exc
    sealed_sha256 = hashlib.sha256(sealed).hexdigest()
    if not authorisation.standing:
        authorisation.used_at = now
        authorisation.save(update_fields=["used_at"])
    receipt = _ledger_append({"seal": seal.code, "document_sha256": document_sha256,
                              "sealed_sha256": sealed_sha256,
                              "authorisation": authorisation.pk, "level": level})
    use = SealUse.objects.create(
        seal=seal, authorisation=authorisation, document_sha256=document_sha256,
        sealed_sha256=sealed_sha256, level=level, field_name=field_name,
        reason=reason[:200], actor=actor if getattr(actor, "pk", None) else None,
        ledger_log=str(getattr(receipt, "log", "") or ""),
        ledger_index=getattr(receipt, "index", None))
    audit.record("seals.seal_used", seal, actor=actor, detail={
        "use": use.pk, "seal": seal.code, "authorisation": authorisation.pk,
        "document_sha256": document_sha256, "sealed_sha256": sealed_sha256, "level": level,
        "ledger_index": use.ledger_index})
    return sealed


# --- validation (验章) -------------------------------------------------------------------------

@dataclass
class SealValidation:
    """The result of :func:`validate_pdf`: one report per signature, each check named.

    ``valid`` only when the document has at least one signature, every signature passes
    every check, and the last revision of the file is covered."""

    document_sha256: str
    signatures: list[SignatureReport] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return bool(self.signatures) and not self.errors and all(
            s.valid for s in self.signatures)

    def as_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid, "document_sha256": self.document_sha256,
            "errors": list(self.errors),
            "signatures": [{
                "field": s.field_name, "valid": s.valid, "signer": s.signer,
                "organisation": s.signer_organisation, "issuer": s.issuer,
                "certificate_serial": s.certificate_serial,
                "seal": {"code": s.seal_code, "name": s.seal_name} if s.seal_code else None,
                "signing_time": s.signing_time.isoformat() if s.signing_time else None,
                "timestamp": s.timestamp_time.isoformat() if s.timestamp_time else None,
                "level": s.level, "coverage": s.coverage,
                "checks": [{"name": c.name, "ok": c.ok, "message": c.message}
                           for c in s.checks],
            } for s in self.signatures],
        }


def validate_pdf(pdf: bytes) -> SealValidation:
    """Validate every signature in ``pdf`` (验章): integrity, coverage (whole document or
    only what was signed, with only signatures or validation data after it), the chain to a
    trusted root (this region's and imported regions' roots), the certificate's validity
    period and revocation (current CRLs and those embedded), and the timestamp.

    Raises ``ValidationError`` for a file that is not a readable PDF or too large."""
    _check_size(pdf)
    pdf = bytes(pdf)
    result = SealValidation(document_sha256=hashlib.sha256(pdf).hexdigest())
    backend = backends.current()
    try:
        roots, crls = backend.roots(), backend.crls()
    except Exception as exc:
        logger.exception("trust roots or CRLs unavailable")
        raise ValidationError(_("暂时无法取得受信任的根证书或证书吊销列表，请稍后重试。")) from exc
    try:
        result.signatures = pades.validate(pdf, trust_roots=roots, crls=crls)
    except pades.MalformedPdf as exc:
        raise ValidationError(_("无法读取该 PDF 文件：%(reason)s") % {"reason": exc}) from exc
    if not result.signatures:
        result.errors.append(_("文件中没有电子签章。"))
    by_fingerprint = {s.certificate_sha256: s for s in Seal.objects.filter(
        certificate_sha256__in=[r.certificate_sha256 for r in result.signatures])}
    for report in result.signatures:
        found = by_fingerprint.get(report.certificate_sha256)
        if found is not None:
            report.seal_code, report.seal_name = found.code, found.name
    return result
