"""The seal registry (印章管理): queries, making a seal (a vault key, a certificate from the
region's root CA, the seal picture), custodians, suspension, reinstatement and revocation.
Used through :mod:`yiwang.support.seals.service`."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.audit import service as audit
from yiwang.platform.orgs import service as orgs
from yiwang.support.seals import backend as backends
from yiwang.support.seals.models import Seal, SealAuthorisation, SealKind, SealStatus, SealUse
from yiwang.support.seals.stamp import render_stamp

logger = logging.getLogger(__name__)

MANAGE_PERMISSION = "seals.manage_seals"
VIEW_USES_PERMISSION = "seals.view_seal_uses"


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


def uses(*, department_codes: Iterable[str] | None = None, seal: Seal | None = None,
         seal_ids: Iterable[int] | None = None) -> QuerySet[SealUse]:
    """Seal uses (用印记录), newest first, of some departments, one seal or some seals — a
    query to paginate."""
    query = SealUse.objects.select_related("seal", "seal__department", "authorisation",
                                           "authorisation__custodian", "actor")
    if department_codes is not None:
        query = query.filter(seal__department__code__in=list(department_codes))
    if seal is not None:
        query = query.filter(seal=seal)
    if seal_ids is not None:
        query = query.filter(seal_id__in=list(seal_ids))
    return query.order_by("-created_at", "-id")


def list_uses(*, department_codes: Iterable[str] | None = None, seal: Seal | None = None,
              limit: int = 100) -> list[SealUse]:
    """The newest seal uses (用印记录), of some departments or one seal, at most ``limit``."""
    return list(uses(department_codes=department_codes, seal=seal)[:max(1, min(limit, 1000))])


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

