"""Holders of licences (持证主体) and who may see or manage a licence: a citizen's own, an
enterprise's for its representatives and agents with the 证照使用 scope, a minor's for their
current guardians (监护人), and a department's for its officials."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from yiwang.core.crypto.service import blind_index
from yiwang.core.identifiers.service import (
    InvalidIdentifier,
    validate_credit_code,
    validate_id_number,
)
from yiwang.platform.orgs import service as orgs
from yiwang.platform.registry import service as registry
from yiwang.support.identity import service as identity
from yiwang.support.licences.common import HOLDER_INDEX, error
from yiwang.support.licences.models import HolderKind, Licence, LicenceType


@dataclass(frozen=True)
class Holder:
    kind: str
    code: str  # ID number or credit code
    name: str
    user: Any = None


def holder_index(code: str) -> str:
    return blind_index(code.strip().upper(), HOLDER_INDEX)


def resolve_holder(ltype: LicenceType, holder: Any) -> Holder:
    """Who gets the licence: a citizen account, an ID number, an enterprise account or a
    credit code; the name comes from the account or the base registry."""
    if ltype.holder_kind == HolderKind.ENTERPRISE:
        code = getattr(holder, "credit_code", holder)
        try:
            code = validate_credit_code(code).value
        except InvalidIdentifier as exc:
            raise error(_("持证企业的统一社会信用代码有误:%(problem)s"), "holder",
                        problem=exc.message) from None
        found = registry.find_enterprise(code)
        if found is None:
            raise error(_("法人库中没有统一社会信用代码为 %(code)s 的企业。"), "holder", code=code)
        return Holder(HolderKind.ENTERPRISE, code, str(found.name))
    user = holder if hasattr(holder, "id_number") and hasattr(holder, "pk") else None
    number = (user.id_number if user is not None else str(holder or "")).strip()
    if user is not None and not (user.verified_at and number):
        raise error(_("持证人尚未完成实名认证,不能签发个人证照。"), "holder")
    try:
        number = validate_id_number(number).value
    except InvalidIdentifier as exc:
        raise error(_("持证人的公民身份号码有误:%(problem)s"), "holder",
                    problem=exc.message) from None
    name = ""
    if user is not None and user.real_name:
        name = user.real_name
    # The base registry only when the account has no name: its row's personal fields are
    # decrypted on reading, for nothing when the account names the holder.
    elif (person := registry.find_person(number)) is not None:
        name = registry.reveal_person(person, ["name"], purpose="签发电子证照 licence issuance")[
            "name"]
    if not name:
        raise error(_("人口库中没有这个公民身份号码。"), "holder")
    return Holder(HolderKind.PERSON, number, name, user)


def may_hold(user: Any, licence: Licence) -> bool:
    """Whether ``user`` may see ``licence`` in their wallet: their own (by ID number), or an
    enterprise's they represent or act for with the 证照使用 (``licence``) scope."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if licence.holder_kind == HolderKind.PERSON:
        return bool(user.id_number) and licence.holder_index == holder_index(user.id_number)
    return licence.credit_code in enterprise_codes(user)


def enterprise_codes(user: Any) -> set[str]:
    """The credit codes of the enterprises whose licences ``user`` may hold in the wallet."""
    return {a.credit_code for a in identity.acting_identities(user)
            if a.is_representative or "licence" in a.scopes}


def may_manage(user: Any, licence: Licence) -> bool:
    """Whether ``user`` is an official of the licence's issuing department."""
    return bool(user and getattr(user, "is_authenticated", False)
                and orgs.is_member(user, licence.department_code))


# --- guardians (监护人) ------------------------------------------------------------------------
#
# A current guardian of a minor (registry.wards_of: begun, not ended, the ward under 18 on
# the day) sees and uses the ward's personal licences as their own; every use is recorded
# with the guardian as actor and purpose "guardian" (wallet.record_use).

GUARDIAN = "guardian"


def guardianship_for(user: Any, licence: Licence, *, on: date | None = None) -> Any:
    """The current guardianship through which ``user`` may use ``licence`` (a personal
    licence of a minor they are the guardian of) on ``on`` (today), or None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    own = str(getattr(user, "id_number", "") or "")
    if not own or licence.holder_kind != HolderKind.PERSON:
        return None
    if licence.holder_index == holder_index(own):
        return None
    return registry.guardianship_of(own, licence.holder_code, on=on)


def held_as(user: Any, licence: Licence, *, on: date | None = None) -> str | None:
    """How ``user`` holds ``licence`` in their wallet: ``"self"`` (their own),
    ``"enterprise"`` (an enterprise's they act for), ``"guardian"`` (a minor ward's), or
    None (not at all: a 404 for them)."""
    if may_hold(user, licence):
        return "self" if licence.holder_kind == HolderKind.PERSON else "enterprise"
    if guardianship_for(user, licence, on=on) is not None:
        return GUARDIAN
    return None


def may_access(user: Any, licence: Licence, *, on: date | None = None) -> bool:
    """Whether ``user`` may open, download and share ``licence``: :func:`may_hold`, or a
    current guardian of its (minor) holder."""
    return held_as(user, licence, on=on) is not None
