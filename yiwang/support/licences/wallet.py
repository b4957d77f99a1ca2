"""The holder's side: the record of every use (用证记录), revealing a licence in full, and
time-limited verification links (分享核验链接) — for the holder and for a current guardian
of a minor holder, whose uses carry ``purpose: "guardian"``."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import service as audit
from yiwang.support.licences import integration
from yiwang.support.licences.common import MAX_DISCLOSED, error
from yiwang.support.licences.holders import (
    GUARDIAN,
    guardianship_for,
    held_as,
    holder_index,
    may_access,
    may_manage,
)
from yiwang.support.licences.lifecycle import effective_status
from yiwang.support.licences.models import Licence, LicenceStatus, LicenceUse, Share, UseKind
from yiwang.support.licences.queries import face_of


def _by_guardian(actor: Any, licence: Licence) -> bool:
    """Whether ``actor`` uses ``licence`` as a guardian of its holder (not as the holder)."""
    own = str(getattr(actor, "id_number", "") or "")
    if not getattr(actor, "is_authenticated", False) or not own:
        return False
    if licence.holder_kind != "person" or licence.holder_index == holder_index(own):
        return False
    return guardianship_for(actor, licence) is not None


def record_use(licence: Licence, kind: str, *, actor: Any = None, share: Share | None = None,
               detail: dict[str, Any] | None = None) -> LicenceUse:
    """Record one use of a licence for its holder to see, and in the audit log. A use by a
    guardian of the holder (not the holder) carries ``purpose: "guardian"``."""
    detail = dict(detail or {})
    if "purpose" not in detail and _by_guardian(actor, licence):
        detail["purpose"] = GUARDIAN
    use = LicenceUse.objects.create(
        licence=licence, kind=kind, share=share, detail=detail,
        actor=actor if getattr(actor, "is_authenticated", False) else None)
    audit.record("licence.used", licence, actor=actor, detail={"kind": kind, **detail})
    return use


def uses_of(licence: Licence) -> QuerySet[LicenceUse]:
    return licence.uses.select_related("share").all()


@transaction.atomic
def reveal_licence(licence: Licence, *, actor: Any, purpose: str = "",
                   on: date | None = None) -> list[Any]:
    """The licence's rows unmasked, for its holder, a current guardian of its holder (purpose
    ``guardian``) or an official of the issuing department; recorded in the audit log and
    the record of uses."""
    role = held_as(actor, licence, on=on)
    if role is None and not may_manage(actor, licence):
        raise PermissionDenied("may not reveal this licence")
    if role == GUARDIAN:
        purpose = GUARDIAN
    audit.record_personal_read(licence, sorted(licence.fields), purpose=purpose or "查看证照",
                               actor=actor)
    record_use(licence, UseKind.REVEAL, actor=actor,
               detail={"purpose": GUARDIAN} if role == GUARDIAN else None)
    return face_of(licence, masked=False)


# --- shares --------------------------------------------------------------------------------

def _token_hash(token: str) -> str:
    return integration.sha256_hex("licences.share:" + token)


@transaction.atomic
def create_share(licence: Licence, *, actor: Any, hours: int,
                 disclosed: Iterable[str] = (), on: date | None = None) -> tuple[Share, str]:
    """A verification link for ``licence`` open for ``hours``, showing the verification
    result and only the ``disclosed`` fields — by its holder or a current guardian of its
    holder. Returns the share and its token (shown once)."""
    if not may_access(actor, licence, on=on):
        raise PermissionDenied("not the holder")
    if effective_status(licence) != LicenceStatus.ACTIVE:
        raise error(_("只有有效的证照可以分享。"), "status")
    limit = int(settings.YIWANG_LICENCES_SHARE_MAX_DAYS) * 24
    if not isinstance(hours, int) or hours < 1 or hours > limit:
        raise error(_("分享有效期须在 1 小时到 %(days)s 天之间。"), "hours",
                    days=settings.YIWANG_LICENCES_SHARE_MAX_DAYS)
    keys = {f["key"] for f in licence.type.schema.get("fields", [])}
    chosen = sorted(set(disclosed))
    if len(chosen) > MAX_DISCLOSED or not set(chosen) <= keys:
        raise error(_("选择的字段无效。"), "disclosed")
    token = secrets.token_urlsafe(24)
    share = Share.objects.create(licence=licence, token_hash=_token_hash(token),
                                 disclosed=chosen, created_by=actor,
                                 expires_at=timezone.now() + timedelta(hours=hours))
    record_use(licence, UseKind.SHARE, actor=actor, share=share,
               detail={"hours": hours, "fields": chosen})
    return share, token


@transaction.atomic
def revoke_share(share: Share, *, actor: Any, on: date | None = None) -> Share:
    """Close a verification link at once (the holder or a current guardian of the holder)."""
    if not may_access(actor, share.licence, on=on):
        raise PermissionDenied("not the holder")
    if share.revoked_at is None:
        share.revoked_at = timezone.now()
        share.save(update_fields=["revoked_at"])
        record_use(share.licence, UseKind.SHARE_REVOKED, actor=actor, share=share)
    return share


def open_share(token: str) -> Share | None:
    """The live share with this token (not expired, not revoked), counted as a use; None
    otherwise (whatever the reason, so tokens cannot be probed)."""
    if not token or len(token) > 64:
        return None
    share = (Share.objects.select_related("licence", "licence__type")
             .filter(token_hash=_token_hash(token), revoked_at__isnull=True,
                     expires_at__gt=timezone.now()).first())
    if share is None:
        return None
    with transaction.atomic():
        # F(): concurrent openings each count (a read-then-write would lose some).
        Share.objects.filter(pk=share.pk).update(uses=F("uses") + 1)
        record_use(share.licence, UseKind.VERIFY_LINK, share=share)
    return share

