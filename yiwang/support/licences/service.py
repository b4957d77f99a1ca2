"""Public facade of the licences app (电子证照): licence types, issuance, status, the
holder's wallet, share links, verification and the record of every use (用证记录).

Other apps import this module only. Writes are verb-named functions, each one transaction,
raising ``ValidationError`` with a Chinese message a person can act on. Issuance makes the
three forms of a licence at once — a W3C Verifiable Credential 2.0 with an ``eddsa-jcs-2022``
proof, a compact QR (COSE_Sign1/CWT/zlib/Base45) and a PDF sealed by the department — and
writes a ``licence.issued`` ledger entry holding hashes only. Status changes flip a bit in the
department's W3C Bitstring Status Lists, re-sign the list and write ``licence.status``.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import service as audit
from yiwang.core.crypto.service import blind_index
from yiwang.core.identifiers.service import (
    InvalidIdentifier,
    validate_credit_code,
    validate_id_number,
)
from yiwang.platform.orgs import service as orgs
from yiwang.platform.registry import service as registry
from yiwang.support.identity import service as identity
from yiwang.support.licences import catalogue, integration, rendering, schema, statusfetch
from yiwang.support.licences.models import (
    HolderKind,
    Licence,
    LicenceStatus,
    LicenceType,
    LicenceUse,
    Share,
    StatusList,
    StatusPurpose,
    UseKind,
)

__all__ = [
    "HolderKind",
    "Licence",
    "LicenceStatus",
    "LicenceType",
    "LicenceUse",
    "Share",
    "StatusList",
    "UseKind",
    "Verification",
    "authorise_issuers",
    "create_share",
    "effective_status",
    "face_of",
    "find_by_identifier",
    "get_licence",
    "get_type",
    "has_licence",
    "issue_licence",
    "licences_of",
    "licences_of_department",
    "list_types",
    "load_catalogue",
    "may_hold",
    "may_manage",
    "open_share",
    "record_use",
    "refresh_status_lists",
    "reinstate_licence",
    "reveal_licence",
    "revoke_licence",
    "revoke_share",
    "set_issuing_departments",
    "status_list_document",
    "suspend_licence",
    "types_issued_by",
    "uses_of",
    "verify_presented",
]

HOLDER_INDEX = "licences.holder"
REASON_MAX_LENGTH = 200
SHARE_CHOICES_HOURS = (1, 24, 24 * 7, 24 * 30)
MAX_DISCLOSED = 20


def _error(message: str, error_code: str, /, **params: Any) -> ValidationError:
    return ValidationError(message, code=error_code, params=params or None)


def _public_url() -> str:
    return str(settings.YIWANG_PUBLIC_URL).rstrip("/")


# --- licence types ---------------------------------------------------------------------------

def list_types(*, active_only: bool = True) -> QuerySet[LicenceType]:
    """The licence types, by code."""
    qs = LicenceType.objects.all()
    return qs.filter(active=True) if active_only else qs


def get_type(code: str) -> LicenceType | None:
    """The licence type with this code, or None."""
    return LicenceType.objects.filter(code=code).first()


def types_issued_by(department_code: str) -> list[LicenceType]:
    """The active types a department may issue."""
    return [t for t in list_types() if department_code in (t.issuing_departments or [])]


@transaction.atomic
def load_catalogue(*, actor: Any = None) -> int:
    """Create the shipped licence types that are missing (see :mod:`.catalogue`); existing
    ones are left as administrators changed them. Returns how many were created."""
    created = 0
    for spec in catalogue.TYPES:
        schema.check_schema(spec["schema"])
        _obj, made = LicenceType.objects.get_or_create(code=spec["code"], defaults={
            k: v for k, v in spec.items() if k != "code"})
        created += int(made)
    return created


@transaction.atomic
def set_issuing_departments(ltype: LicenceType, codes: Iterable[str], *,
                            actor: Any = None) -> LicenceType:
    """Change which departments may issue ``ltype``: new ones are authorised on the trust
    list (``trust.service.authorise_issuer``), removed ones withdrawn from it."""
    wanted = list(dict.fromkeys(c.strip() for c in codes if c and c.strip()))
    for code in wanted:
        if orgs.get_department(code) is None:
            raise _error(_("部门 %(code)s 不存在。"), "department", code=code)
    before = set(ltype.issuing_departments or [])
    for code in wanted:
        integration.authorise_issuer(code, ltype.code, actor=actor)
    for code in before - set(wanted):
        integration.withdraw_issuer(code, ltype.code, actor=actor)
    ltype.issuing_departments = wanted
    ltype.save(update_fields=["issuing_departments"])
    audit.record("licence.type_issuers_changed", ltype, actor=actor,
                 detail={"type": ltype.code, "departments": wanted})
    return ltype


@transaction.atomic
def authorise_issuers(*, actor: Any = None) -> int:
    """Put every issuing department of every type on the trust list for that type
    (``trust.service.authorise_issuer``; idempotent) — after the catalogue is loaded, since
    issuance itself never authorises (an issuer the trust administrator withdrew must stay
    withdrawn); returns how many pairs there are."""
    count = 0
    for ltype in list_types():
        for code in ltype.issuing_departments or []:
            if orgs.get_department(code) is not None:
                integration.authorise_issuer(code, ltype.code, actor=actor)
                count += 1
    return count


# --- holders -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Holder:
    kind: str
    code: str  # ID number or credit code
    name: str
    user: Any = None


def _holder_index(code: str) -> str:
    return blind_index(code.strip().upper(), HOLDER_INDEX)


def _resolve_holder(ltype: LicenceType, holder: Any) -> Holder:
    """Who gets the licence: a citizen account, an ID number, an enterprise account or a
    credit code; the name comes from the account or the base registry."""
    if ltype.holder_kind == HolderKind.ENTERPRISE:
        code = getattr(holder, "credit_code", holder)
        try:
            code = validate_credit_code(code).value
        except InvalidIdentifier as exc:
            raise _error(_("持证企业的统一社会信用代码有误:%(problem)s"), "holder",
                         problem=exc.message) from None
        found = registry.find_enterprise(code)
        if found is None:
            raise _error(_("法人库中没有统一社会信用代码为 %(code)s 的企业。"), "holder", code=code)
        return Holder(HolderKind.ENTERPRISE, code, str(found.name))
    user = holder if hasattr(holder, "id_number") and hasattr(holder, "pk") else None
    number = (user.id_number if user is not None else str(holder or "")).strip()
    if user is not None and not (user.verified_at and number):
        raise _error(_("持证人尚未完成实名认证,不能签发个人证照。"), "holder")
    try:
        number = validate_id_number(number).value
    except InvalidIdentifier as exc:
        raise _error(_("持证人的公民身份号码有误:%(problem)s"), "holder",
                     problem=exc.message) from None
    person = registry.find_person(number)
    name = ""
    if user is not None and user.real_name:
        name = user.real_name
    elif person is not None:
        name = registry.reveal_person(person, ["name"], purpose="签发电子证照 licence issuance")[
            "name"]
    if not name:
        raise _error(_("人口库中没有这个公民身份号码。"), "holder")
    return Holder(HolderKind.PERSON, number, name, user)


def may_hold(user: Any, licence: Licence) -> bool:
    """Whether ``user`` may see ``licence`` in their wallet: their own (by ID number), or an
    enterprise's they represent or act for with the 证照使用 (``licence``) scope."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if licence.holder_kind == HolderKind.PERSON:
        return bool(user.id_number) and licence.holder_index == _holder_index(user.id_number)
    return licence.credit_code in _enterprise_codes(user)


def _enterprise_codes(user: Any) -> set[str]:
    return {a.credit_code for a in identity.acting_identities(user)
            if a.is_representative or "licence" in a.scopes}


def licences_of(user: Any, *, type_code: str = "", status: str = "",
                holder: str = "") -> QuerySet[Licence]:
    """The licences ``user`` may see in their wallet (own and their enterprises'), newest
    first; ``holder`` is ``"self"`` or a credit code to keep one holder's."""
    q = Q(pk__in=[])
    if holder in ("", "self") and user.id_number:
        q |= Q(holder_kind=HolderKind.PERSON, holder_index=_holder_index(user.id_number))
    codes = _enterprise_codes(user)
    if holder not in ("", "self"):
        codes &= {holder}
    if holder != "self" and codes:
        q |= Q(holder_kind=HolderKind.ENTERPRISE, credit_code__in=codes)
    qs = Licence.objects.filter(q).select_related("type")
    if type_code:
        qs = qs.filter(type__code=type_code)
    if status == LicenceStatus.EXPIRED:
        qs = qs.filter(valid_until__lt=timezone.localdate()).exclude(
            status=LicenceStatus.REVOKED)
    elif status:
        qs = qs.filter(status=status)
    return qs


# --- issuance ---------------------------------------------------------------------------------

def _allocate(department_code: str, purpose: str) -> tuple[StatusList, int]:
    """A free index on the department's open status list for ``purpose`` (the row is locked,
    which also serialises the department's issuances)."""
    found = (StatusList.objects.select_for_update()
             .filter(department_code=department_code, purpose=purpose)
             .order_by("-id").first())
    if found is None or found.next_index >= found.size:
        number = StatusList.objects.filter(department_code=department_code,
                                           purpose=purpose).count() + 1
        size = int(settings.YIWANG_LICENCES_STATUS_LIST_SIZE)
        found = StatusList.objects.create(
            list_id=f"{department_code}-{purpose}-{number}", department_code=department_code,
            purpose=purpose, size=size, bits=bytes(size // 8))
    index = found.next_index
    found.next_index = index + 1
    found.save(update_fields=["next_index", "updated_at"])
    return found, index


def status_list_url(status_list: StatusList) -> str:
    return f"{_public_url()}/credentials/status/{status_list.list_id}"


def _valid_until(ltype: LicenceType, start: date) -> date | None:
    if not ltype.validity_years:
        return None
    try:
        end = start.replace(year=start.year + ltype.validity_years)
    except ValueError:  # 29 February
        end = start.replace(year=start.year + ltype.validity_years, day=28)
    return end - timedelta(days=1)


def _status_entries(licence: Licence) -> list[dict[str, Any]]:
    entries = []
    for purpose, slist, index in (
            (StatusPurpose.REVOCATION, licence.revocation_list, licence.revocation_index),
            (StatusPurpose.SUSPENSION, licence.suspension_list, licence.suspension_index)):
        entries.append(integration.status_entry(list_url=status_list_url(slist), index=index,
                                                purpose=str(purpose)))
    return entries


def _credential(licence: Licence, ltype: LicenceType, holder: Holder,
                values: dict[str, Any], department: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": f"urn:yiwang:licence:{licence.identifier}",
        "type": ["VerifiableCredential", "ElectronicLicence"],
        "name": ltype.name,
        "issuer": {"id": integration.issuer_id(department.code), "name": department.name},
        "validFrom": licence.issued_at.isoformat(timespec="seconds"),
        "credentialSubject": {
            "type": "LicenceHolder",
            "holderKind": holder.kind,
            "holderName": holder.name,
            "holderCode": holder.code,
            "licence": {
                "identifier": licence.identifier,
                "number": licence.number,
                "type": ltype.code,
                "catalogueCode": ltype.catalogue_code,
                "name": ltype.name,
                "issuerCode": department.credit_code,
                "issuedOn": licence.valid_from.isoformat(),
                "fields": values,
            },
        },
        "credentialStatus": _status_entries(licence),
    }
    if licence.valid_until is not None:
        document["validUntil"] = datetime.combine(
            licence.valid_until, datetime.max.time().replace(microsecond=0),
            tzinfo=timezone.get_current_timezone()).isoformat()
    return document


def _qr_claims(licence: Licence, ltype: LicenceType, holder: Holder,
               department: Any) -> dict[Any, Any]:
    """The CWT claims: issuer, times and a compact licence with its status entries (no long
    fields: a QR must stay scannable; the VC and the PDF carry the rest)."""
    compact: dict[str, Any] = {
        "id": licence.identifier, "no": licence.number, "type": ltype.code,
        "name": ltype.name, "holder": holder.name, "holderCode": holder.code,
        "issuer": department.name, "validFrom": licence.valid_from.isoformat(),
        "status": _status_entries(licence),
    }
    # iat rounded up to the next second: it must not fall before the validity of a key made
    # a moment ago (the verifier allows a few minutes of clock skew the other way).
    claims: dict[Any, Any] = {"iss": integration.issuer_id(department.code),
                              "iat": int(licence.issued_at.timestamp()) + 1,
                              "licence": compact}
    if licence.valid_until is not None:
        claims["exp"] = int(datetime.combine(licence.valid_until, datetime.max.time(),
                                             tzinfo=timezone.get_current_timezone()).timestamp())
        compact["validUntil"] = licence.valid_until.isoformat()
    return claims


@transaction.atomic
def issue_licence(type_code: str, *, holder: Any, fields: dict[str, Any],
                  department_code: str, actor: Any) -> Licence:
    """Issue a licence of ``type_code`` to ``holder`` (a citizen account or ID number; an
    enterprise account or credit code) with ``fields``, by ``department_code``.

    Checks the department may issue the type and the fields against the type's schema; makes
    the VC (``licence.vc`` key), the QR (``licence.cose`` key), the PDF (sealed by the
    department's seal where the seals service provides one); allocates status list entries;
    appends ``licence.issued`` to the ledger (hashes only) and records the audit event. All or
    nothing."""
    ltype = get_type(type_code)
    if ltype is None or not ltype.active:
        raise _error(_("没有证照类型 %(code)s。"), "type", code=type_code)
    if department_code not in (ltype.issuing_departments or []):
        raise _error(_("该部门无权签发%(name)s。"), "department", name=ltype.name)
    department = orgs.get_department(department_code)
    if department is None or not department.active:
        raise _error(_("部门 %(code)s 不存在或已停用。"), "department", code=department_code)
    owner = _resolve_holder(ltype, holder)
    values = dict(fields or {})
    for role, value in (("code", owner.code), ("name", owner.name)):
        key = schema.holder_field(ltype.schema, role)
        if key is None:
            continue
        given = str(values.get(key) or "").strip().upper()
        if role == "code" and given and given != value.upper():
            raise _error(_("“%(label)s”与持证主体不一致。"), "holder",
                         label=next(f["label"] for f in ltype.schema["fields"]
                                    if f["key"] == key))
        values[key] = value
    cleaned = schema.validate_fields(ltype.schema, values)

    # Keys first: a key made now must already be valid at the licence's issue time.
    vc_key = integration.signing_key(department.code, integration.VC_PURPOSE,
                                     integration.VC_ALGORITHM, actor=actor)
    cose_key = integration.signing_key(department.code, integration.COSE_PURPOSE,
                                       integration.COSE_ALGORITHM, actor=actor)
    now = timezone.now()
    today = timezone.localdate()
    revocation_list, revocation_index = _allocate(department.code, StatusPurpose.REVOCATION)
    suspension_list, suspension_index = _allocate(department.code, StatusPurpose.SUSPENSION)
    serial = Licence.objects.filter(department_code=department.code).count() + 1
    identifier = integration.build_identifier(ltype.catalogue_code, department.credit_code,
                                              serial)
    licence = Licence(
        identifier=identifier,
        number=f"{department.code.upper()}{today:%Y}{serial:08d}",
        type=ltype, holder_kind=owner.kind, holder_user=owner.user,
        credit_code=owner.code if owner.kind == HolderKind.ENTERPRISE else "",
        holder_index=_holder_index(owner.code), holder_name=owner.name,
        holder_code=owner.code, data=json.dumps(cleaned, ensure_ascii=False, sort_keys=True),
        department_code=department.code, department_name=department.name,
        revocation_list=revocation_list, revocation_index=revocation_index,
        suspension_list=suspension_list, suspension_index=suspension_index,
        issued_at=now.replace(microsecond=0), valid_from=today,
        valid_until=_valid_until(ltype, today),
        issued_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    vc = integration.add_vc_proof(_credential(licence, ltype, owner, cleaned, department), vc_key)
    vc_text = json.dumps(vc, ensure_ascii=False, separators=(",", ":"))
    licence.vc = vc_text
    licence.vc_sha256 = integration.sha256_hex(vc_text)
    try:
        licence.qr = integration.encode_qr(_qr_claims(licence, ltype, owner, department),
                                           cose_key)
    except ValueError:  # more than a scannable QR code holds
        raise _error(_("持证主体名称过长,无法生成可扫描的二维码。"), "qr_too_long") from None
    pdf = rendering.render_pdf(
        layout=ltype.layout, schema=ltype.schema, values=cleaned, identifier=identifier,
        issuer_name=department.name, issued_on=today.isoformat(),
        valid_until=licence.valid_until.isoformat() if licence.valid_until else "",
        qr_text=licence.qr, title=f"{ltype.name} {licence.number}")
    pdf, licence.sealed = integration.seal(pdf, department_code=department.code,
                                           type_code=ltype.code,
                                           box=rendering.SEAL_BOX,
                                           reason=f"签发{ltype.name}", actor=actor)
    licence.pdf = base64.b64encode(pdf).decode("ascii")
    licence.pdf_sha256 = integration.sha256_hex(pdf)
    licence.save()
    receipt = integration.ledger_append("licence.issued", {
        "identifier_sha256": integration.sha256_hex(identifier),
        "type": ltype.code,
        "issuer": department.code,
        "vc_sha256": licence.vc_sha256,
        "pdf_sha256": licence.pdf_sha256,
        "issued_at": licence.issued_at.isoformat(),
    })
    if receipt is not None:
        licence.ledger_log = receipt.log
        licence.ledger_index = receipt.index
        licence.ledger_record_hash = receipt.record_hash
        licence.save(update_fields=["ledger_log", "ledger_index", "ledger_record_hash"])
    audit.record("licence.issued", licence, actor=actor,
                 detail={"type": ltype.code, "department": department.code,
                         "identifier": identifier, "sealed": licence.sealed,
                         "ledger_index": licence.ledger_index})
    return licence


# --- status ----------------------------------------------------------------------------------

def effective_status(licence: Licence, *, today: date | None = None) -> str:
    """The licence's status now: ``expired`` once past its validity unless revoked."""
    if (licence.status in (LicenceStatus.ACTIVE, LicenceStatus.SUSPENDED)
            and licence.valid_until is not None
            and licence.valid_until < (today or timezone.localdate())):
        return LicenceStatus.EXPIRED
    return str(licence.status)


def _set_bit(status_list: StatusList, index: int, value: bool) -> None:
    locked = StatusList.objects.select_for_update().get(pk=status_list.pk)
    bits = bytearray(locked.bits)
    # W3C Bitstring Status List: index 0 is the most significant bit of the first byte.
    mask = 0x80 >> (index % 8)
    if value:
        bits[index // 8] |= mask
    else:
        bits[index // 8] &= ~mask & 0xFF
    locked.bits = bytes(bits)
    locked.credential = ""  # re-signed on the next request
    locked.save(update_fields=["bits", "credential", "updated_at"])


def may_manage(user: Any, licence: Licence) -> bool:
    """Whether ``user`` is an official of the licence's issuing department."""
    return bool(user and getattr(user, "is_authenticated", False)
                and orgs.is_member(user, licence.department_code))


def _check_manager(licence: Licence, actor: Any) -> None:
    if not may_manage(actor, licence):
        raise PermissionDenied("not an official of the issuing department")


def _reason(reason: str) -> str:
    text = " ".join((reason or "").split())
    if not text:
        raise _error(_("请填写原因。"), "reason")
    if len(text) > REASON_MAX_LENGTH:
        raise _error(_("原因最多 %(max)s 个字。"), "reason", max=REASON_MAX_LENGTH)
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
        raise _error(labels[to], "status")
    before = locked.status
    if to == LicenceStatus.REVOKED:
        _set_bit(locked.revocation_list, locked.revocation_index, True)
    else:
        _set_bit(locked.suspension_list, locked.suspension_index,
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


def status_list_document(list_id: str) -> dict[str, Any] | None:
    """The signed BitstringStatusListCredential of a status list (signed again after each
    change, then kept), or None for an unknown list."""
    found = StatusList.objects.filter(list_id=list_id).first()
    if found is None:
        return None
    if found.credential:
        return dict(json.loads(found.credential))
    with transaction.atomic():
        locked = StatusList.objects.select_for_update().get(pk=found.pk)
        if not locked.credential:
            key = integration.signing_key(locked.department_code, integration.VC_PURPOSE,
                                          integration.VC_ALGORITHM)
            document = integration.status_list_credential(
                list_url=status_list_url(locked), purpose=locked.purpose,
                bits=bytes(locked.bits), key=key,
                issuer=integration.issuer_id(locked.department_code))
            locked.credential = json.dumps(document, ensure_ascii=False,
                                           separators=(",", ":"))
            locked.save(update_fields=["credential"])
        return dict(json.loads(locked.credential))


def status_lists() -> dict[str, Any]:
    """Every status list credential of this instance, by URL (for the verifier)."""
    return {status_list_url(s): status_list_document(s.list_id)
            for s in StatusList.objects.all()}


def _own_list_id(url: Any) -> str | None:
    prefix = f"{_public_url()}/credentials/status/"
    if not isinstance(url, str) or not url.startswith(prefix):
        return None
    return url[len(prefix):]


def status_list_at(url: str) -> dict[str, Any] | None:
    """The status list credential at ``url``: one of this instance's, or one of another
    region whose trust list was imported — fetched from the issuing instance when ``url``
    is on the origin of that region's keys, checked against its keys and cached
    (``statusfetch``) — else None (the verifier then names the status unknown)."""
    list_id = _own_list_id(url)
    if list_id is not None:
        return status_list_document(list_id)
    return statusfetch.status_list(url).document


class _StatusLookup:
    """``status_list_at`` for one verification, remembering why a list was unavailable so
    that the failed status check can say so."""

    def __init__(self) -> None:
        self.reasons: dict[str, str] = {}

    def __call__(self, url: str) -> dict[str, Any] | None:
        list_id = _own_list_id(url)
        if list_id is not None:
            return status_list_document(list_id)
        found = statusfetch.status_list(url)
        if found.document is None:
            self.reasons[url] = found.message
        return found.document

    def explain(self, checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``checks`` with each unavailable status list's reason in its status check."""
        for check in checks:
            if check.get("name") != "status" or check.get("ok"):
                continue
            message = str(check.get("message") or "")
            for url, reason in self.reasons.items():
                if url in message and "not available" in message:
                    check["message"] = (f"无法取得状态列表，状态未知：{reason} "
                                        f"(status list not available: {url})")
        return checks


def refresh_status_lists(urls: list[str] | None = None) -> dict[str, str]:
    """Fetch the status lists of other regions again at once (each one fetched so far, by
    default), instead of waiting for ``YIWANG_LICENCES_STATUS_CACHE_SECONDS``: URL → '' when
    fetched, else why not (a fresh copy, if any, is kept). Call it outside a transaction."""
    return statusfetch.refresh(urls)


# --- reads for pages ------------------------------------------------------------------------

def get_licence(pk: int) -> Licence | None:
    return Licence.objects.select_related("type").filter(pk=pk).first()


def has_licence(type_code: str, holder_code: str) -> bool:
    """Whether a licence of ``type_code`` was issued to the holder with this ID number or
    credit code (any status) — for idempotent loads."""
    return Licence.objects.filter(type__code=type_code,
                                  holder_index=_holder_index(holder_code)).exists()


def find_by_identifier(identifier: str) -> Licence | None:
    return Licence.objects.select_related("type").filter(identifier=identifier).first()


def licences_of_department(department_code: str, *, type_code: str = "", status: str = "",
                           number: str = "") -> QuerySet[Licence]:
    """A department's licences, newest first, for its officials' lists."""
    qs = Licence.objects.filter(department_code=department_code).select_related("type")
    if type_code:
        qs = qs.filter(type__code=type_code)
    if status:
        qs = qs.filter(status=status)
    if number:
        qs = qs.filter(Q(number=number.strip().upper()) | Q(identifier=number.strip()))
    return qs


def face_of(licence: Licence, *, masked: bool = True,
            only: set[str] | None = None) -> list[rendering.FaceRow]:
    """The licence's fields as rows in the type's layout order (personal values masked)."""
    return rendering.face(licence.type.layout, licence.type.schema, licence.fields,
                          masked=masked, only=only)


def masked_holder(licence: Licence) -> dict[str, str]:
    """The holder's name and code as lists show them."""
    if licence.holder_kind == HolderKind.ENTERPRISE:
        return {"name": licence.holder_name, "code": licence.credit_code}
    return {"name": rendering.mask_value({"key": "name"}, licence.holder_name),
            "code": rendering.mask_value({"key": "id", "format": "id_number"},
                                         licence.holder_code)}


def pdf_bytes(licence: Licence) -> bytes:
    return base64.b64decode(licence.pdf)


# --- uses (用证记录) --------------------------------------------------------------------------

def record_use(licence: Licence, kind: str, *, actor: Any = None, share: Share | None = None,
               detail: dict[str, Any] | None = None) -> LicenceUse:
    """Record one use of a licence for its holder to see, and in the audit log."""
    use = LicenceUse.objects.create(
        licence=licence, kind=kind, share=share, detail=detail or {},
        actor=actor if getattr(actor, "is_authenticated", False) else None)
    audit.record("licence.used", licence, actor=actor,
                 detail={"kind": kind, **(detail or {})})
    return use


def uses_of(licence: Licence) -> QuerySet[LicenceUse]:
    return licence.uses.select_related("share").all()


@transaction.atomic
def reveal_licence(licence: Licence, *, actor: Any, purpose: str = "") -> list[Any]:
    """The licence's rows unmasked, for its holder (or an official of the issuing
    department); recorded in the audit log and the record of uses."""
    if not (may_hold(actor, licence) or may_manage(actor, licence)):
        raise PermissionDenied("may not reveal this licence")
    audit.record_personal_read(licence, sorted(licence.fields), purpose=purpose or "查看证照",
                               actor=actor)
    record_use(licence, UseKind.REVEAL, actor=actor)
    return face_of(licence, masked=False)


# --- shares --------------------------------------------------------------------------------

def _token_hash(token: str) -> str:
    return integration.sha256_hex("licences.share:" + token)


@transaction.atomic
def create_share(licence: Licence, *, actor: Any, hours: int,
                 disclosed: Iterable[str] = ()) -> tuple[Share, str]:
    """A verification link for ``licence`` open for ``hours``, showing the verification
    result and only the ``disclosed`` fields. Returns the share and its token (shown once)."""
    if not may_hold(actor, licence):
        raise PermissionDenied("not the holder")
    if effective_status(licence) != LicenceStatus.ACTIVE:
        raise _error(_("只有有效的证照可以分享。"), "status")
    limit = int(settings.YIWANG_LICENCES_SHARE_MAX_DAYS) * 24
    if not isinstance(hours, int) or hours < 1 or hours > limit:
        raise _error(_("分享有效期须在 1 小时到 %(days)s 天之间。"), "hours",
                     days=settings.YIWANG_LICENCES_SHARE_MAX_DAYS)
    keys = {f["key"] for f in licence.type.schema.get("fields", [])}
    chosen = sorted(set(disclosed))
    if len(chosen) > MAX_DISCLOSED or not set(chosen) <= keys:
        raise _error(_("选择的字段无效。"), "disclosed")
    token = secrets.token_urlsafe(24)
    share = Share.objects.create(licence=licence, token_hash=_token_hash(token),
                                 disclosed=chosen, created_by=actor,
                                 expires_at=timezone.now() + timedelta(hours=hours))
    record_use(licence, UseKind.SHARE, actor=actor, share=share,
               detail={"hours": hours, "fields": chosen})
    return share, token


@transaction.atomic
def revoke_share(share: Share, *, actor: Any) -> Share:
    """Close a verification link at once."""
    if not may_hold(actor, share.licence):
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
        Share.objects.filter(pk=share.pk).update(uses=share.uses + 1)
        record_use(share.licence, UseKind.VERIFY_LINK, share=share)
    return share


# --- verification ----------------------------------------------------------------------------

@dataclass
class Verification:
    """A verification's outcome: ``valid`` only when every named check passed."""

    kind: str
    checks: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    licence: Licence | None = None

    @property
    def valid(self) -> bool:
        return bool(self.checks) and all(c["ok"] for c in self.checks)

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [c for c in self.checks if not c["ok"]]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "valid": self.valid, "checks": self.checks,
                "errors": [c["name"] for c in self.errors],
                "summary": {k: v for k, v in self.summary.items()
                            if k in {"kind", "issuer", "issuer_name", "identifier", "type",
                                     "status", "valid_until", "licence_type"}}}


def _malformed(kind: str, message: str) -> Verification:
    return Verification(kind, [{"name": "malformed", "ok": False, "message": message}])


def verify_presented(*, kind: str, payload: bytes | str, channel: str = UseKind.VERIFY_PAGE,
                     actor: Any = None) -> Verification:
    """Verify a presented licence — ``kind`` ``vc`` (JSON), ``qr`` (text) or ``pdf`` (bytes)
    — with the offline verifier, this instance's trust bundle and status lists; record the
    use for the holder when it names one of this instance's licences."""
    limit = int(settings.YIWANG_LICENCES_MAX_UPLOAD_BYTES)
    raw = payload.encode() if isinstance(payload, str) else bytes(payload)
    if not raw:
        return _malformed(kind, "没有收到要核验的内容(nothing to verify)")
    if len(raw) > limit:
        return _malformed(kind, f"内容超过 {limit} 字节的上限(too large)")
    lookup = _StatusLookup()
    checker = integration.verifier(lookup)
    if kind == "pdf":
        if not raw.startswith(b"%PDF-"):
            return _malformed(kind, "不是 PDF 文件(not a PDF: it must start with %PDF-)")
        result = checker.verify_pdf(raw)
    elif kind == "qr":
        try:
            text = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            return _malformed(kind, "二维码内容不是文本(QR content is not text)")
        result = checker.verify_qr(text)
    elif kind == "vc":
        try:
            document = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return _malformed(kind, "不是有效的 JSON(not valid JSON)")
        if not isinstance(document, dict):
            return _malformed(kind, "凭证应为 JSON 对象(a credential is a JSON object)")
        result = checker.verify_credential(document)
    else:
        return _malformed(kind, "未知的核验类型(unknown kind)")
    outcome = Verification(kind, lookup.explain([c.to_dict() for c in result.checks]),
                           dict(result.summary or {}))
    identifier = str(outcome.summary.get("identifier") or "")
    licence = find_by_identifier(identifier) if identifier else None
    if licence is None and kind == "pdf":
        # A PDF names no identifier the verifier reads; this instance knows its own files.
        licence = (Licence.objects.select_related("type")
                   .filter(pdf_sha256=integration.sha256_hex(raw)).first())
    if kind == "pdf":
        _add_licence_checks(outcome, licence)
    if licence is not None:
        outcome.licence = licence
        with transaction.atomic():
            record_use(licence, channel, actor=actor,
                       detail={"format": kind, "valid": outcome.valid,
                               "failed": [c["name"] for c in outcome.errors]})
    return outcome


def _add_licence_checks(outcome: Verification, licence: Licence | None) -> None:
    """A valid seal proves who sealed the PDF, not that the licence is still valid, nor that
    the sealer may issue it: for a licence of this instance, add the status, validity and
    authorisation checks of its credential; for any other PDF, say it is not a licence this
    instance can vouch for (its QR code carries the status) — never "valid licence"."""
    if licence is None:
        outcome.checks.append({
            "name": "licence", "ok": False,
            "message": "印章有效，但这不是本平台签发的电子证照，无法确认其状态；"
                       "请核验证照上的二维码(the seals are valid, but this is not a "
                       "licence issued here, so its status cannot be confirmed: verify "
                       "the QR code printed on it)"})
        return
    credential = verify_licence(licence)
    names = {c["name"] for c in outcome.checks}
    outcome.checks.extend(c for c in credential.checks
                          if c["name"] in {"status", "validity", "issuer", "authorised"}
                          and c["name"] not in names)
    for key in ("identifier", "type", "licence_type", "status", "valid_until", "issuer"):
        if key in credential.summary:
            outcome.summary.setdefault(key, credential.summary[key])


def verify_licence(licence: Licence) -> Verification:
    """Verify a licence of this instance as a relying party would (its VC), without
    recording a use (for the holder's share page, which records its own)."""
    lookup = _StatusLookup()
    result = integration.verifier(lookup).verify_credential(json.loads(licence.vc))
    return Verification("vc", lookup.explain([c.to_dict() for c in result.checks]),
                        dict(result.summary or {}), licence)
