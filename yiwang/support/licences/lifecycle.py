"""Changing a licence's status (暂停, 注销, 恢复): the bit in the department's status list, the
licence row, a ``licence.status`` ledger entry and the audit event, in one transaction; and the
status a licence has now (``expired`` past its validity)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import service as audit
from yiwang.support.licences import integration
from yiwang.support.licences.common import REASON_MAX_LENGTH, error
from yiwang.support.licences.holders import may_manage
from yiwang.support.licences.models import Licence, LicenceStatus
from yiwang.support.licences.statuslists import set_bit


def effective_status(licence: Licence, *, today: date | None = None) -> str:
    """The licence's status now: ``expired`` once past its validity unless revoked."""
    if (licence.status in (LicenceStatus.ACTIVE, LicenceStatus.SUSPENDED)
            and licence.valid_until is not None
            and licence.valid_until < (today or timezone.localdate())):
        return LicenceStatus.EXPIRED
    return str(licence.status)


def _check_manager(licence: Licence, actor: Any) -> None:
    if not may_manage(actor, licence):
        raise PermissionDenied("not an official of the issuing department")


def _reason(reason: str) -> str:
    text = " ".join((reason or "").split())
    if not text:
        raise error(_("请填写原因。"), "reason")
    if len(text) > REASON_MAX_LENGTH:
        raise error(_("原因最多 %(max)s 个字。"), "reason", max=REASON_MAX_LENGTH)
    return text


def _change_status(licence: Licence, *, to: str, reason: str, actor: Any,
                   allowed_from: Iterable[str]) -> Licence:
    _check_manager(licence, actor)
    text = _reason(reason)
    locked = Licence.objects.select_for_update().select_related(
        "revocation_list", "suspension_list", "type").get(pk=licence.pk)
    if locked.status not in allowed_from:
        labels = {"suspended": _("只有有效的证照可以暂停。"),
                  "revoked": _("这张证照已经注销。"),
                  "active": _("只有已暂停的证照可以恢复。")}
        raise error(labels[to], "status")
    before = locked.status
    if to == LicenceStatus.REVOKED:
        set_bit(locked.revocation_list, locked.revocation_index, True)
    else:
        set_bit(locked.suspension_list, locked.suspension_index,
                to == LicenceStatus.SUSPENDED)
    locked.status = to
    locked.status_reason = text
    locked.status_changed_at = timezone.now()
    locked.save(update_fields=["status", "status_reason", "status_changed_at"])
    receipt = integration.ledger_append("licence.status", {
        "identifier_sha256": integration.sha256_hex(locked.identifier),
        "issuer": locked.department_code, "from": before, "to": to,
        "at": locked.status_changed_at.isoformat(timespec="seconds"),
    })
    action = {LicenceStatus.SUSPENDED: "licence.suspended",
              LicenceStatus.REVOKED: "licence.revoked",
              LicenceStatus.ACTIVE: "licence.reinstated"}[LicenceStatus(to)]
    audit.record(action, locked, actor=actor,
                 detail={"identifier": locked.identifier, "from": before, "to": to,
                         "reason": text,
                         "ledger_index": getattr(receipt, "index", None)})
    return locked


@transaction.atomic
def suspend_licence(licence: Licence, *, reason: str, actor: Any) -> Licence:
    """Suspend an active licence (暂停): its suspension bit is set; reversible."""
    return _change_status(licence, to=LicenceStatus.SUSPENDED, reason=reason, actor=actor,
                          allowed_from=[LicenceStatus.ACTIVE])


@transaction.atomic
def revoke_licence(licence: Licence, *, reason: str, actor: Any) -> Licence:
    """Revoke a licence (注销) for good: its revocation bit is set."""
    return _change_status(licence, to=LicenceStatus.REVOKED, reason=reason, actor=actor,
                          allowed_from=[LicenceStatus.ACTIVE, LicenceStatus.SUSPENDED])


@transaction.atomic
def reinstate_licence(licence: Licence, *, reason: str, actor: Any) -> Licence:
    """Reinstate a suspended licence (恢复): its suspension bit is cleared."""
    return _change_status(licence, to=LicenceStatus.ACTIVE, reason=reason, actor=actor,
                          allowed_from=[LicenceStatus.SUSPENDED])
