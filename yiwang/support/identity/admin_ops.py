"""Account administration for officials (账户管理): search, detail, reveal, deprovisioning.

Built to stay fast at a million accounts:

* Lists page by keyset, never by OFFSET: ``WHERE id < :last ORDER BY id DESC LIMIT n+1``
  reads n+1 index entries whatever the page's depth. Filters by account type, level and
  state use the composite indexes ``(account_type, id)``, ``(level, id)`` and
  ``(is_active, id)``, so a filtered page is one index range too.
* A user-name prefix search is ordered by user name and pages by user name: an index range
  scan over the unique user-name index that stops after n+1 entries, however many accounts
  share the prefix. (Ordered by id, a prefix shared by half the table would need a sort of
  half a million rows, and a rare one a scan of the whole id index.)
* A phone number or ID number is looked up exactly through its blind index.
* No page counts the table: the total shown is a cached count per filter (refreshed every
  few minutes), or PostgreSQL's planner estimate for the whole table.

Lists show masked data only; :func:`reveal_account` shows an account's full personal data
for a stated purpose and records it in the audit log.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from yiwang.core.audit import service as audit
from yiwang.core.crypto.service import blind_index
from yiwang.core.identifiers.service import InvalidIdentifier, validate_id_number
from yiwang.core.masking.service import mask_email, mask_id_number, mask_name, mask_phone
from yiwang.platform.orgs import service as orgs
from yiwang.support.identity import factors, sessions
from yiwang.support.identity.enterprise import live_mandates
from yiwang.support.identity.models import (
    AccountSession,
    AccountType,
    EnterpriseAccount,
    Level,
    Mandate,
    User,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

logger = logging.getLogger(__name__)

MANAGE_ACCOUNTS = "identity.manage_accounts"
REVEAL_ACCOUNTS = "identity.reveal_accounts"
MANAGE_RELYING_PARTIES = "identity.manage_relying_parties"

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
COUNT_CACHE_SECONDS = 300
REVEALABLE = ("real_name", "id_number", "phone", "email")
REASON_MAX_LENGTH = 200
_PHONE = re.compile(r"^(?:\+?86)?(1\d{10})$")
_LIST_FIELDS = ("id", "username", "account_type", "display_name", "phone", "level",
                "is_active", "is_staff", "is_superuser", "date_joined", "last_login")


def _error(message: StrPromise, error_code: str, /, **params: Any) -> ValidationError:
    return ValidationError(message, code=error_code, params=params or None)


# --- search --------------------------------------------------------------------------------

@dataclass(frozen=True)
class AccountRow:
    """One account as a list shows it: personal data masked."""

    id: int
    username: str
    name: str
    account_type: str
    account_type_label: str
    level: int
    level_label: str
    phone: str
    is_active: bool
    is_superuser: bool
    date_joined: datetime
    last_login: datetime | None


@dataclass(frozen=True)
class AccountPage:
    """A page of accounts and the keys of the pages before and after it.

    ``order`` is ``"id"`` (newest first) or ``"username"`` (a prefix search, A to Z).
    ``next_key``/``previous_key`` are the keyword arguments of :func:`search_accounts`
    that open the next and previous pages (None: there is none).
    """

    rows: list[AccountRow]
    order: str
    lookup: str  # "", "username", "phone" or "id_number": how q was understood
    next_key: dict[str, Any] | None = None
    previous_key: dict[str, Any] | None = None
    approximate_total: int | None = None
    filters: dict[str, Any] = field(default_factory=dict)


def classify_query(q: str) -> tuple[str, str]:
    """How a search box's text is looked up: ``("phone", digits)``, ``("id_number", value)``,
    ``("username", prefix)`` or ``("", "")``."""
    text = q.strip()
    if not text:
        return "", ""
    compact = re.sub(r"[\s-]", "", text)
    phone = _PHONE.match(compact)
    if phone:
        return "phone", phone.group(1)
    if len(compact) == 18 and compact[:17].isdigit():
        try:
            return "id_number", validate_id_number(compact).value
        except InvalidIdentifier:
            return "id_number", ""  # looks like an ID number but is none: nothing matches
    return "username", text




def _prefix_upper_bound(prefix: str) -> str:
    """The smallest string greater than every string starting with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _filtered(account_type: str, level: int | None, active: bool | None) -> QuerySet[User]:
    qs = User.objects.all()
    if account_type:
        qs = qs.filter(account_type=account_type)
    if level is not None:
        qs = qs.filter(level=level)
    if active is not None:
        # ``is_active=False`` renders as ``NOT is_active``, which no index serves; an IN of
        # one value is an equality to the planner, so (is_active, id) is used.
        qs = qs.filter(is_active__in=[active])
    return qs


ESTIMATE_FROM = 100_000  # below this many rows the planner's estimate is not worth its error


def approximate_total(*, account_type: str = "", level: int | None = None,
                      active: bool | None = None) -> int:
    """About how many accounts match these filters: a count cached for a few minutes (the
    planner's estimate for the whole table on PostgreSQL). Never counted per page."""
    key = f"identity.accounts.count:{account_type}:{level}:{active}"
    found = cache.get(key)
    if found is not None:
        return int(found)
    total: int | None = None
    if connection.vendor == "postgresql" and not account_type and level is None and active is None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                           [User._meta.db_table])
            row = cursor.fetchone()
            total = int(row[0]) if row and row[0] is not None and row[0] >= 0 else None
    if total is None or total < ESTIMATE_FROM:
        # Small (or never analysed: the estimate reads 0 or -1): counting is cheap and exact.
        total = _filtered(account_type, level, active).count()
    cache.set(key, total, COUNT_CACHE_SECONDS)
    return total


def _labels() -> tuple[dict[str, str], dict[int, str]]:
    # Translated once per page: get_FOO_display() hashes lazy choices on every call, which
    # cost more than the query itself.
    return ({value: str(label) for value, label in AccountType.choices},
            {value: str(label) for value, label in Level.choices})


def _row(user: User, labels: tuple[dict[str, str], dict[int, str]]) -> AccountRow:
    name = user.display_name or user.username
    if user.account_type != AccountType.OFFICIAL:
        name = mask_name(name)
    types, levels = labels
    return AccountRow(
        id=user.pk, username=user.username, name=name, account_type=user.account_type,
        account_type_label=types.get(user.account_type, user.account_type),
        level=int(user.level), level_label=levels.get(int(user.level), str(user.level)),
        phone=mask_phone(user.phone) if user.phone else "", is_active=user.is_active,
        is_superuser=user.is_superuser, date_joined=user.date_joined, last_login=user.last_login,
    )


def search_accounts(*, q: str = "", account_type: str = "", level: int | None = None,
                    active: bool | None = None, after_id: int | None = None,
                    before_id: int | None = None, after_username: str | None = None,
                    before_username: str | None = None, limit: int = DEFAULT_LIMIT
                    ) -> AccountPage:
    """One page of accounts matching the search, masked.

    ``q`` is an exact phone number, an exact ID number (both through their blind indexes)
    or a user name or its beginning. Without ``q`` (or with a phone or ID number), accounts
    come newest first and page by id (``after_id``/``before_id``); a user-name search comes
    A to Z and pages by user name (``after_username``/``before_username``). Every filter
    (``account_type``, ``level``, ``active``) combines with every search.
    """
    limit = max(1, min(int(limit), MAX_LIMIT))
    if account_type and account_type not in AccountType.values:
        raise ValueError(f"unknown account type {account_type!r}")
    if level is not None and level not in Level.values:
        raise ValueError(f"unknown level {level!r}")
    filters = {"account_type": account_type, "level": level, "active": active}
    lookup, value = classify_query(q)
    qs = _filtered(account_type, level, active).only(*_LIST_FIELDS)
    if lookup == "phone":
        qs = qs.filter(phone_index=blind_index(value, "identity.phone"))
    elif lookup == "id_number":
        if not value:
            return AccountPage(rows=[], order="id", lookup=lookup, filters=filters)
        qs = qs.filter(id_number_index=blind_index(value, "identity.id_number"))
    elif lookup == "username":
        return _username_page(qs, value, after_username, before_username, limit, filters)

    backwards = before_id is not None and after_id is None
    if backwards:
        qs = qs.filter(id__gt=before_id).order_by("id")
    else:
        if after_id is not None:
            qs = qs.filter(id__lt=after_id)
        qs = qs.order_by("-id")
    found = list(qs[:limit + 1])
    more = len(found) > limit
    found = found[:limit]
    if backwards:
        found.reverse()
    labels = _labels()
    rows = [_row(u, labels) for u in found]
    has_next = (not backwards and more) or (backwards and bool(rows))
    has_previous = (backwards and more) or (not backwards and after_id is not None)
    total = None
    if not lookup and after_id is None and before_id is None:
        total = approximate_total(account_type=account_type, level=level, active=active)
    return AccountPage(
        rows=rows, order="id", lookup=lookup, filters=filters, approximate_total=total,
        next_key={"after_id": rows[-1].id} if has_next and rows else None,
        previous_key={"before_id": rows[0].id} if has_previous and rows else None,
    )


def _username_page(qs: QuerySet[User], prefix: str, after: str | None, before: str | None,
                   limit: int, filters: dict[str, Any]) -> AccountPage:
    qs = qs.filter(username__startswith=prefix)
    backwards = before is not None and after is None
    if connection.vendor == "sqlite":
        # SQLite's LIKE (case-insensitive, with ESCAPE) cannot use the index; a range can,
        # and with SQLite's binary collation it selects exactly the names with the prefix.
        # One bound per side: given two lower bounds, SQLite may start the index range at
        # the wrong one and read every name before the page.
        lower, upper = prefix, _prefix_upper_bound(prefix)
        if backwards and before is not None:
            qs = qs.filter(username__gte=lower, username__lt=min(upper, before))
        elif after is not None and after >= lower:
            qs = qs.filter(username__gt=after, username__lt=upper)
        else:
            qs = qs.filter(username__gte=lower, username__lt=upper)
    elif backwards:
        qs = qs.filter(username__lt=before)
    elif after is not None:
        qs = qs.filter(username__gt=after)
    qs = qs.order_by("-username" if backwards else "username")
    found = list(qs[:limit + 1])
    more = len(found) > limit
    found = found[:limit]
    if backwards:
        found.reverse()
    labels = _labels()
    rows = [_row(u, labels) for u in found]
    has_next = (not backwards and more) or (backwards and bool(rows))
    has_previous = (backwards and more) or (not backwards and after is not None)
    return AccountPage(
        rows=rows, order="username", lookup="username", filters=filters,
        next_key={"after_username": rows[-1].username} if has_next and rows else None,
        previous_key={"before_username": rows[0].username} if has_previous and rows else None,
    )


def find_account(number: str, *, actor: Any) -> User | None:
    """The account with this phone number or ID number (exact, through the blind indexes),
    or None. Raises ``ValidationError`` when the text is neither; the lookup is audited."""
    lookup, value = classify_query(number)
    if lookup == "id_number" and not value:
        try:
            validate_id_number(re.sub(r"\s", "", number))
        except InvalidIdentifier as exc:
            raise ValidationError(exc.message, code="id_number") from None
    if lookup not in ("phone", "id_number"):
        raise _error(_("请填写 11 位手机号码或 18 位公民身份号码。"), "not_a_number")
    index_field, purpose = (("phone_index", "identity.phone") if lookup == "phone"
                            else ("id_number_index", "identity.id_number"))
    found = User.objects.filter(**{index_field: blind_index(value, purpose)}).first()
    audit.record("identity.account_lookup", found or ("identity.user", ""), actor=actor,
                 detail={"by": lookup, "found": found is not None})
    return found


# --- one account ---------------------------------------------------------------------------

@dataclass(frozen=True)
class AccountDetail:
    """What an administrator sees of one account: masked, with its security state."""

    user: User
    masked: dict[str, str]
    factors: Any  # factors.FactorSummary
    sessions: list[AccountSession]
    mandates: list[Mandate]
    represented: list[EnterpriseAccount]
    departments: list[Any]


def masked_account(user: User) -> dict[str, str]:
    """The account's personal data, masked (脱敏)."""
    return {
        "name": (user.display_name if user.account_type == AccountType.OFFICIAL
                 else mask_name(user.display_name)) if user.display_name else "",
        "real_name": mask_name(user.real_name) if user.real_name else "",
        "phone": mask_phone(user.phone) if user.phone else "",
        "id_number": mask_id_number(user.id_number) if user.id_number else "",
        "email": mask_email(user.email) if user.email else "",
    }


def get_account(user_id: int) -> User | None:
    """The account with this id, or None."""
    return User.objects.filter(pk=user_id).first()


def account_detail(user_id: int, *, actor: Any) -> AccountDetail | None:
    """One account for an administrator, masked, with its factors, live sessions, mandates
    and departments (None if there is no such account). The view is audited."""
    user = get_account(user_id)
    if user is None:
        return None
    audit.record("identity.account_viewed", user, actor=actor)
    return AccountDetail(
        user=user, masked=masked_account(user), factors=factors.list_factors(user),
        sessions=sessions.list_sessions(user),
        mandates=list(live_mandates().filter(agent=user).order_by("-role", "enterprise__name")),
        represented=list(EnterpriseAccount.objects.filter(representative=user).order_by("name")),
        departments=(orgs.departments_of(user) if user.account_type == AccountType.OFFICIAL
                     else []),
    )


def reveal_account(user: User, fields: Iterable[str], *, purpose: str, actor: Any
                   ) -> dict[str, str]:
    """Show ``fields`` of an account unmasked and record who looked and why."""
    wanted = sorted(set(fields))
    unknown = set(wanted) - set(REVEALABLE)
    if unknown:
        raise ValueError(f"cannot reveal {', '.join(sorted(unknown))}")
    if not (purpose or "").strip():
        raise _error(_("请填写事由。"), "purpose_required")
    audit.record_personal_read(user, wanted, purpose=" ".join(purpose.split()), actor=actor)
    return {name: str(getattr(user, name) or "") for name in wanted}


# --- deprovisioning ------------------------------------------------------------------------

def _reason(reason: str) -> str:
    text = " ".join((reason or "").split())
    if not text:
        raise _error(_("请填写原因。"), "reason_required")
    if len(text) > REASON_MAX_LENGTH:
        raise _error(_("原因最多 %(max)s 个字。"), "reason_too_long", max=REASON_MAX_LENGTH)
    return text


def _check_may_act_on(user: User, actor: Any) -> None:
    if actor is not None and actor.pk == user.pk:
        raise _error(_("不能对自己的账户执行此操作。"), "self")
    if user.is_superuser and not getattr(actor, "is_superuser", False):
        raise PermissionDenied("only a superuser may act on a superuser's account")


def revoke_tokens(user: User, *, reason: str) -> int | None:
    """Revoke every OAuth token of ``user`` now; None when the provider is not installed."""
    # The provider's module may not be there (yet): only its absence is tolerated, not an
    # error raised while importing it.
    if importlib.util.find_spec("yiwang.support.identity.oidc.service") is None:
        logger.warning("no OIDC service: tokens of account %s were not revoked", user.pk)
        return None
    oidc_service = importlib.import_module("yiwang.support.identity.oidc.service")
    return int(oidc_service.revoke_user_tokens(user, reason=reason) or 0)


@transaction.atomic
def deactivate_account(user: User, *, actor: Any, reason: str) -> User:
    """Deprovision an account: it can no longer sign in, every session ends and every token
    is revoked at once (its relying parties are told by back-channel logout)."""
    text = _reason(reason)
    _check_may_act_on(user, actor)
    locked = User.objects.select_for_update().get(pk=user.pk)
    if not locked.is_active:
        raise _error(_("该账户已经停用。"), "already_inactive")
    locked.is_active = False
    locked.save(update_fields=["is_active"])
    ended = sessions.end_user_sessions(locked, reason="deprovisioned", actor=actor)
    tokens = revoke_tokens(locked, reason="deprovisioned")
    audit.record("identity.account_deactivated", locked, actor=actor,
                 detail={"reason": text, "sessions_ended": ended, "tokens_revoked": tokens})
    user.is_active = False
    return locked


@transaction.atomic
def reactivate_account(user: User, *, actor: Any, reason: str) -> User:
    """Let a deactivated account sign in again (its sessions and tokens stay ended)."""
    text = _reason(reason)
    _check_may_act_on(user, actor)
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.is_active:
        raise _error(_("该账户没有停用。"), "already_active")
    locked.is_active = True
    locked.save(update_fields=["is_active"])
    audit.record("identity.account_reactivated", locked, actor=actor, detail={"reason": text})
    user.is_active = True
    return locked


@transaction.atomic
def end_account_sessions(user: User, *, actor: Any, reason: str) -> int:
    """Sign an account out everywhere: every session ends and every token is revoked."""
    text = _reason(reason)
    _check_may_act_on(user, actor)
    ended = sessions.end_user_sessions(user, reason="admin", actor=actor)
    tokens = revoke_tokens(user, reason="admin")
    audit.record("identity.account_signed_out", user, actor=actor,
                 detail={"reason": text, "sessions_ended": ended, "tokens_revoked": tokens})
    return ended


@transaction.atomic
def reset_account_factors(user: User, *, actor: Any, reason: str) -> None:
    """Remove an account's second factors (lost phone or key) so the person can enrol new
    ones; delegates to ``factors.reset_factors``, which also ends the account's sessions and
    records ``identity.mfa_reset``."""
    text = _reason(reason)
    _check_may_act_on(user, actor)
    factors.reset_factors(user, actor=actor)
    audit.record("identity.account_factors_reset", user, actor=actor, detail={"reason": text})


# --- who may administer relying parties ------------------------------------------------------

def relying_party_departments(user: Any) -> list[Any]:
    """The departments whose relying parties ``user`` may manage: theirs, and the
    departments their units (科室) belong to, as :func:`may_manage_relying_party` counts
    them. (Superusers may manage every relying party; this lists their own departments.)"""
    found: dict[str, Any] = {}
    for department in orgs.departments_of(user):
        current: Any = department
        depth = 0
        while current is not None and current.code not in found and depth < 10:
            found[current.code] = current
            current, depth = current.parent, depth + 1
    return list(found.values())


def may_manage_relying_party(user: Any, relying_party: Any) -> bool:
    """Whether ``user`` may change ``relying_party``: superusers always; other officials
    holding the permission only for a relying party of a department they belong to."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    if not user.has_perm(MANAGE_RELYING_PARTIES):
        return False
    code = getattr(relying_party, "department_code", "")
    return bool(code) and orgs.is_member(user, code)
