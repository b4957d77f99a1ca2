"""What yiwang tells a relying party about a person: subject identifiers and scoped claims."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from yiwang.core.crypto.service import blind_index
from yiwang.core.masking.service import mask_id_number, mask_phone
from yiwang.platform.orgs import service as orgs
from yiwang.support.identity import assurance, enterprise
from yiwang.support.identity.models import AccountSession, AccountType
from yiwang.support.identity.oidc.models import RelyingParty, SubjectType

PAIRWISE_PURPOSE = "oidc.pairwise"


def sector_of(rp: RelyingParty) -> str:
    """The sector a pairwise subject is computed for: the host fixed when the relying party
    was registered pairwise (see :mod:`sectors`), else — no redirect URI yet, so nobody has
    signed in to it — its client id."""
    return rp.sector or rp.client_id


def subject(user: Any, rp: RelyingParty) -> str:
    """``sub`` for ``user`` at ``rp``: the account id, or for pairwise relying parties a keyed
    hash of sector and account id (stable, and different for every sector; relying parties
    sharing a sector — only ever of one department — see the same ``sub``)."""
    if rp.subject_type == SubjectType.PAIRWISE:
        return blind_index(f"{sector_of(rp)}|{user.pk}", PAIRWISE_PURPOSE)
    return str(user.pk)


def _official_claims(user: Any) -> dict[str, Any]:
    memberships = list(orgs.memberships_of(user))
    if not memberships:
        return {"positions": []}
    primary = memberships[0].department
    return {
        "department": {"code": primary.code, "name": primary.name},
        "positions": [
            {"department": m.department.code, "department_name": m.department.name,
             "code": m.position.code, "name": m.position.name}
            for m in memberships if m.position is not None
        ],
    }


def user_claims(user: Any, rp: RelyingParty, scopes: Iterable[str], *,
                session: AccountSession | None = None) -> dict[str, Any]:
    """The claims of ``scopes`` about ``user`` for ``rp`` (``sub`` always).

    ``session`` is the identity-provider session the tokens belong to: whom it acts for
    (checked against the live mandate) decides ``account_type`` and ``act_for``.
    """
    granted = set(scopes)
    claims: dict[str, Any] = {"sub": subject(user, rp)}
    acting = None
    if session is not None and granted & {"profile", "enterprise"}:
        acting = enterprise.acting_for_session(session)
    if "profile" in granted:
        # The verified real name: the person consented to ``profile`` for this app, and a
        # government system needs the name to act on (the ID number stays masked).
        claims["name"] = user.real_name or user.display_name or user.username
        claims["preferred_username"] = user.username
        claims["account_type"] = "enterprise" if acting is not None else str(user.account_type)
    if "identity" in granted:
        if user.id_number:
            claims["id_number_masked"] = mask_id_number(user.id_number)
        claims["level"] = assurance.acr_name(assurance.account_level(user))
        claims["real_name_verified"] = bool(user.verified_at)
    if "phone" in granted and user.phone:
        claims["phone_number_masked"] = mask_phone(user.phone)
        claims["phone_number_verified"] = bool(user.phone_verified_at)
    if "enterprise" in granted and acting is not None:
        claims["act_for"] = {"credit_code": acting.credit_code, "name": acting.name,
                             "role": acting.role, "scopes": list(acting.scopes)}
    if "official" in granted and user.account_type == AccountType.OFFICIAL:
        claims.update(_official_claims(user))
    return claims
