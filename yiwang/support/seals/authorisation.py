"""Authorising seal use (用印授权): a custodian signed in at L3 with a recent multi-factor
sign-in authorises one document (by its SHA-256) or a standing purpose until a date; the
standing authorisations licence issuance seals with. Used through
:mod:`yiwang.support.seals.service`."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import service as audit
from yiwang.platform.orgs import service as orgs
from yiwang.support.identity import service as identity
from yiwang.support.seals.models import Seal, SealAuthorisation, SealStatus

_SHA256 = re.compile(r"[0-9a-f]{64}")
_MAX_STANDING_DAYS = 366


class StepUpRequired(ValidationError):
    """The custodian must prove who they are again (multi-factor) before authorising."""


def licence_purpose(licence_type_code: str) -> str:
    """The purpose of a standing authorisation to seal one licence type's PDFs."""
    return f"licence:{licence_type_code}"


def licence_seal_for(department_code: str, licence_type_code: str | None = None
                     ) -> tuple[Seal, SealAuthorisation] | None:
    """The department's active seal and a live standing authorisation to seal licences with
    it — for ``licence_type_code`` when given (``licence:<code>``), else for any licence
    type (``licence:*``) — or ``None``. Used by licence issuance."""
    purposes = ["licence:*"]
    if licence_type_code:
        purposes.insert(0, licence_purpose(licence_type_code))
    return standing_seal_for(department_code, purposes)


def standing_seal_for(department_code: str, purposes: list[str]
                      ) -> tuple[Seal, SealAuthorisation] | None:
    """The department's active seal and a live standing authorisation for one of
    ``purposes`` (the newest), or ``None``: what a service that seals its
    documents unattended (licences, e-receipts) seals with."""
    now = timezone.now()
    found = with_custodian_checks(
        SealAuthorisation.objects.select_related("seal", "seal__department")
        .filter(seal__department__code=department_code, seal__status=SealStatus.ACTIVE,
                seal__valid_until__gt=now, standing_until__gt=now,
                withdrawn_at__isnull=True, purpose__in=purposes)
        .order_by("-created_at"))
    for authorisation in found:
        if custodian_still_holds(authorisation):
            return authorisation.seal, authorisation
    return None


# --- authorisation -----------------------------------------------------------------------------

def _still_custodian(seal: Seal, user: Any) -> bool:
    return bool(user.is_active and seal.custodians.filter(pk=user.pk).exists()
                and orgs.is_member(user, seal.department.code))


def with_custodian_checks(authorisations: QuerySet[SealAuthorisation]
                          ) -> QuerySet[SealAuthorisation]:
    """``authorisations`` with what :func:`_still_custodian` reads of the custodian in the
    same query: whether their account is active and whether they still keep the seal —
    instead of loading the account (whose personal fields are decrypted for nothing) and
    asking the custodians table separately. For :func:`custodian_still_holds`."""
    return authorisations.annotate(
        custodian_active=F("custodian__is_active"),
        custodian_keeps_seal=Exists(Seal.custodians.through.objects.filter(
            seal_id=OuterRef("seal_id"), user_id=OuterRef("custodian_id"))))


def custodian_still_holds(authorisation: SealAuthorisation) -> bool:
    """:func:`_still_custodian` for an authorisation read through
    :func:`with_custodian_checks` (its seal and the seal's department loaded): the same
    three checks — active account, still a custodian, still a member of the seal's
    department — the first two from the query's annotations."""
    if not (getattr(authorisation, "custodian_active")  # noqa: B009 (an annotation)
            and getattr(authorisation, "custodian_keeps_seal")):  # noqa: B009
        return False
    # The account as ``only("id", "is_active")`` would load it, from the values read
    # already; any other field is loaded from the database if the membership check reads it.
    custodian = get_user_model().from_db(authorisation._state.db, ["id", "is_active"],
                                         [authorisation.custodian_id, True])
    return orgs.is_member(custodian, authorisation.seal.department.code)


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

