"""Public facade of the licences app (电子证照): licence types, issuance, status, the
holder's wallet, share links, verification and the record of every use (用证记录).

Other apps import this module only. Writes are verb-named functions, each one transaction,
raising ``ValidationError`` with a Chinese message a person can act on. Issuance makes the
three forms of a licence at once — a W3C Verifiable Credential 2.0 with an ``eddsa-jcs-2022``
proof, a compact QR (COSE_Sign1/CWT/zlib/Base45) and a PDF sealed by the department — and
writes a ``licence.issued`` ledger entry holding hashes only. Status changes flip a bit in the
department's W3C Bitstring Status Lists, re-sign the list and write ``licence.status``.

The work is done in cohesive modules — :mod:`.holders` (who holds and who manages, a
minor's guardians included), :mod:`.guardians` (the wards' licences in a guardian's wallet),
:mod:`.issuance`, :mod:`.statuslists`, :mod:`.lifecycle` (suspend, revoke, reinstate),
:mod:`.queries` (reads for pages), :mod:`.wallet` (uses, reveal, shares) and
:mod:`.verification` — whose public functions this facade re-exports; the licence types live
here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from yiwang.core.audit import service as audit
from yiwang.platform.orgs import service as orgs
from yiwang.support.licences import catalogue, integration, schema
from yiwang.support.licences.common import (
    MAX_DISCLOSED,
    REASON_MAX_LENGTH,
    SHARE_CHOICES_HOURS,
    error,
)
from yiwang.support.licences.guardians import (
    WardWallet,
    licence_for,
    ward_licences,
    ward_wallets,
)
from yiwang.support.licences.holders import (
    GUARDIAN,
    guardianship_for,
    held_as,
    may_access,
    may_hold,
    may_manage,
)
from yiwang.support.licences.issuance import issue_licence, may_seal
from yiwang.support.licences.lifecycle import (
    effective_status,
    reinstate_licence,
    revoke_licence,
    suspend_licence,
)
from yiwang.support.licences.models import (
    HolderKind,
    Licence,
    LicenceStatus,
    LicenceType,
    LicenceUse,
    Share,
    StatusList,
    UseKind,
)
from yiwang.support.licences.queries import (
    face_of,
    find_by_identifier,
    get_licence,
    has_licence,
    licences_of,
    licences_of_department,
    masked_holder,
    pdf_bytes,
)
from yiwang.support.licences.statuslists import (
    refresh_status_lists,
    resign_status_lists,
    status_list_at,
    status_list_document,
    status_list_url,
    status_lists,
)
from yiwang.support.licences.verification import (
    VERIFY_RETRY_AFTER,
    Verification,
    over_verify_rate,
    verify_licence,
    verify_presented,
)
from yiwang.support.licences.wallet import (
    create_share,
    open_share,
    record_use,
    reveal_licence,
    revoke_share,
    uses_of,
)

__all__ = [
    "GUARDIAN",
    "MAX_DISCLOSED",
    "REASON_MAX_LENGTH",
    "SHARE_CHOICES_HOURS",
    "VERIFY_RETRY_AFTER",
    "HolderKind",
    "Licence",
    "LicenceStatus",
    "LicenceType",
    "LicenceUse",
    "Share",
    "StatusList",
    "UseKind",
    "Verification",
    "WardWallet",
    "authorise_issuers",
    "create_share",
    "effective_status",
    "face_of",
    "find_by_identifier",
    "get_licence",
    "get_type",
    "guardianship_for",
    "has_licence",
    "held_as",
    "issue_licence",
    "licence_for",
    "licences_of",
    "licences_of_department",
    "list_types",
    "load_catalogue",
    "masked_holder",
    "may_access",
    "may_hold",
    "may_manage",
    "may_seal",
    "open_share",
    "over_verify_rate",
    "pdf_bytes",
    "record_use",
    "refresh_status_lists",
    "reinstate_licence",
    "resign_status_lists",
    "reveal_licence",
    "revoke_licence",
    "revoke_share",
    "set_issuing_departments",
    "status_list_at",
    "status_list_document",
    "status_list_url",
    "status_lists",
    "suspend_licence",
    "types_issued_by",
    "uses_of",
    "verify_licence",
    "verify_presented",
    "ward_licences",
    "ward_wallets",
]


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
            raise error(_("部门 %(code)s 不存在。"), "department", code=code)
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

