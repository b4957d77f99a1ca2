"""A guardian's side of the wallet (我监护的未成年人的证照): the licences of the minors a
citizen is the current guardian of (监护关系 of the population registry), and opening any
licence of the wallet with the access check in one place.

A guardian uses a ward's licence exactly as their own (open, download, share); every use is
recorded in the licence's 用证记录 and the audit log with the guardian as actor and purpose
``guardian``. A guardianship that ended, or a ward who turned 18, gives no access any more:
the licence is then a 404 for the former guardian like any other licence not theirs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import QuerySet

from yiwang.core.audit import service as audit
from yiwang.platform.registry import service as registry
from yiwang.support.licences.holders import GUARDIAN, held_as, holder_index
from yiwang.support.licences.models import HolderKind, Licence
from yiwang.support.licences.queries import get_licence, with_status


@dataclass
class WardWallet:
    """One ward: the guardianship (its ``pk``, kind, basis, end), the ward masked, and
    their licences newest first."""

    guardianship: Any
    ward: dict[str, str]
    licences: list[Licence] = field(default_factory=list)


def ward_licences(ward_id_number: str, *, status: str = "") -> QuerySet[Licence]:
    """The personal licences of a ward, newest first."""
    qs = Licence.objects.filter(holder_kind=HolderKind.PERSON,
                                holder_index=holder_index(ward_id_number)).select_related("type")
    return with_status(qs, status)


def ward_wallets(user: Any, *, on: date | None = None, status: str = "") -> list[WardWallet]:
    """For each minor ``user`` is the current guardian of on ``on`` (today): the ward,
    masked, and the ward's licences. Listing them is audited (actor the guardian, purpose
    ``guardian``, the number of wards — no names)."""
    own = str(getattr(user, "id_number", "") or "")
    if not own or not getattr(user, "is_authenticated", False):
        return []
    wallets = [WardWallet(g, registry.masked_person(g.ward),
                          list(ward_licences(g.ward.id_number, status=status)))
               for g in registry.wards_of(own, on=on)]
    if wallets:
        audit.record("licence.wards_listed", None, actor=user,
                     detail={"purpose": GUARDIAN, "wards": len(wallets),
                             "licences": sum(len(w.licences) for w in wallets)})
    return wallets


def licence_for(user: Any, pk: int, *, on: date | None = None) -> tuple[Licence, str] | None:
    """The licence ``pk`` and how ``user`` holds it (``self``, ``enterprise``, ``guardian``;
    see :func:`.holders.held_as`) — None when it is not in their wallet on ``on`` (today),
    which pages and the API answer with 404. A guardian's opening is audited."""
    licence = get_licence(pk)
    if licence is None:
        return None
    role = held_as(user, licence, on=on)
    if role is None:
        return None
    if role == GUARDIAN:
        audit.record("licence.opened", licence, actor=user, detail={"purpose": GUARDIAN})
    return licence, role
