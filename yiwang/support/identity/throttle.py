"""Throttling of guesses (防暴力破解): failure counters per account and per address.

Every guessable factor — passwords, SMS codes, TOTP codes, recovery codes — calls
:func:`check` before it looks at what was typed, :func:`fail` when the guess was wrong and
:func:`succeed` when it was right. The counters live in :class:`AuthThrottle` rows, so every
process of every listener shares them.

Policy (settings ``YIWANG_LOCKOUT_*``):

- An account is locked after ``YIWANG_LOCKOUT_ACCOUNT_FAILURES`` failures within
  ``YIWANG_LOCKOUT_WINDOW_SECONDS``, for that window. Within a day of a lock the count goes
  on: each further run of as many failures locks it again for twice as long, up to a day
  (Keycloak's "wait increment" with a cap). A successful sign-in clears the account's count.
- An address is locked after ``YIWANG_LOCKOUT_ADDRESS_FAILURES`` failures within the window,
  for one window each time (no doubling: many people may share an office's address). Success
  does not clear it, or one valid account would let an attacker reset it.
- A login name that belongs to no account is counted too, under a keyed hash of the name as
  typed (normalised), so that an unknown name locks exactly like a real one: the responses
  never tell whether an account exists.

Keys never hold a login name or an address in clear: they are blind indexes (HMAC) with
purposes of their own. Audit events: ``identity.sign_in_failed`` for every failure,
``identity.locked`` when a lock starts.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.core.audit import service as audit
from yiwang.core.crypto.service import blind_index
from yiwang.support.identity.models import AuthThrottle

logger = logging.getLogger(__name__)

MAX_LOCK = timedelta(days=1)
# After a lock, failures keep counting towards the next (longer) lock for this long.
MEMORY = timedelta(days=1)
LOGIN_PURPOSE = "identity.throttle.login"
ADDRESS_PURPOSE = "identity.throttle.address"
KEY_HASH_LENGTH = 40  # hex characters of the blind index kept in a key (160 bits)

LOCKED_MESSAGE = _(
    "尝试失败的次数过多，为保护账户安全，已暂停验证。请在约 %(minutes)d 分钟后再试。")


class Locked(ValidationError):
    """Guessing is paused for this account or address; ``retry_after`` is in seconds."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        minutes = max(1, math.ceil(self.retry_after / 60))
        super().__init__(LOCKED_MESSAGE, code="locked", params={"minutes": minutes})


@dataclass(frozen=True)
class Policy:
    """How many failures within which window lock a key, and whether locks double."""

    limit: int
    window: timedelta
    doubling: bool


def account_policy() -> Policy:
    return Policy(limit=max(1, int(settings.YIWANG_LOCKOUT_ACCOUNT_FAILURES)),
                  window=timedelta(seconds=int(settings.YIWANG_LOCKOUT_WINDOW_SECONDS)),
                  doubling=True)


def address_policy() -> Policy:
    return Policy(limit=max(1, int(settings.YIWANG_LOCKOUT_ADDRESS_FAILURES)),
                  window=timedelta(seconds=int(settings.YIWANG_LOCKOUT_WINDOW_SECONDS)),
                  doubling=False)


# --- keys ------------------------------------------------------------------------------


def _normalise_login(login: str) -> str:
    from yiwang.support.identity import accounts

    text = str(login or "").strip()
    try:
        return "phone:" + accounts.validate_phone(text)
    except ValidationError:
        return "name:" + text.casefold()


def _resolve(who: Any) -> tuple[Any, str]:
    """``(user or None, throttle key)`` for a user, a login name or phone number, or None."""
    if who is None or who == "":
        return None, ""
    if hasattr(who, "pk") and hasattr(who, "get_username"):
        return who, f"acct:u{who.pk}"
    from yiwang.support.identity import accounts

    user = accounts.find_account(str(who))
    if user is not None:
        return user, f"acct:u{user.pk}"
    digest = blind_index(_normalise_login(str(who)), LOGIN_PURPOSE)[:KEY_HASH_LENGTH]
    return None, f"acct:h{digest}"


def account_key(who: Any) -> str:
    """The counter key of an account (a user, or a login name that may match none)."""
    return _resolve(who)[1]


def address_key(request: HttpRequest | None) -> str:
    """The counter key of the request's client address ("" without one)."""
    if request is None:
        return ""
    from yiwang.support.identity.sessions import client_address

    address = client_address(request)
    if not address:
        return ""
    return "addr:" + blind_index(address, ADDRESS_PURPOSE)[:KEY_HASH_LENGTH]


# --- counting --------------------------------------------------------------------------


def _lock_length(policy: Policy, lock_number: int) -> timedelta:
    if not policy.doubling:
        return min(policy.window, MAX_LOCK)
    factor = 2 ** min(max(lock_number - 1, 0), 16)
    return min(policy.window * factor, MAX_LOCK)


def _count_failure(key: str, policy: Policy, now: datetime) -> AuthThrottle:
    """Add one failure to ``key`` (in the caller's transaction); sets ``locked_until`` when
    this failure starts a lock. Returns the row with ``_locked_now`` telling whether it did."""
    row, _created = AuthThrottle.objects.select_for_update().get_or_create(
        key=key, defaults={"window_started_at": now})
    in_episode = row.locked_until is not None and now < row.locked_until + MEMORY
    if not in_episode and (row.locked_until is not None
                           or now - row.window_started_at >= policy.window):
        row.failures = 0
        row.window_started_at = now
        row.locked_until = None
    row.failures += 1
    locked_now = row.failures % policy.limit == 0
    if locked_now:
        row.locked_until = now + _lock_length(policy, row.failures // policy.limit)
    row.save(update_fields=["failures", "window_started_at", "locked_until"])
    row._locked_now = locked_now  # type: ignore[attr-defined]
    return row


def check(request: HttpRequest | None, who: Any) -> None:
    """Raise :class:`Locked` when ``who``'s account (or login name) or the request's address
    is locked. Call it before looking at the guess."""
    keys = [k for k in (account_key(who), address_key(request)) if k]
    if not keys:
        return
    now = timezone.now()
    until = [t for t in AuthThrottle.objects.filter(key__in=keys, locked_until__gt=now)
             .values_list("locked_until", flat=True) if t is not None]
    if until:
        raise Locked((max(until) - now).total_seconds())


def retry_after(request: HttpRequest | None, who: Any) -> int:
    """Seconds until ``who`` and the address may guess again (0 when they may now)."""
    try:
        check(request, who)
    except Locked as locked:
        return locked.retry_after
    return 0


def fail(request: HttpRequest | None, who: Any, *, method: str = "password",
         reason: str = "") -> bool:
    """Count a wrong guess at ``who``'s factor (and from the request's address).

    Audits ``identity.sign_in_failed`` (and ``identity.locked`` when a lock starts). Returns
    whether the account or address is locked now, so the caller can say so at once.
    """
    user, key = _resolve(who)
    addr = address_key(request)
    now = timezone.now()
    locks: list[tuple[str, AuthThrottle]] = []
    with transaction.atomic():
        rows: list[tuple[str, AuthThrottle]] = []
        if key:
            rows.append(("account", _count_failure(key, account_policy(), now)))
        if addr:
            rows.append(("address", _count_failure(addr, address_policy(), now)))
        locks = [(scope, row) for scope, row in rows if row._locked_now]  # type: ignore[attr-defined]
        subject = user if user is not None else ("identity.login", key[6:22] if key else "")
        detail: dict[str, Any] = {"method": method, "known_account": user is not None}
        if reason:
            detail["reason"] = reason
        if user is None and isinstance(who, str):
            detail["login"] = _masked_login(who)
        audit.record("identity.sign_in_failed", subject, actor=user, detail=detail)
        for scope, row in locks:
            audit.record("identity.locked", subject, actor=user, detail={
                "scope": scope, "failures": row.failures,
                "until": row.locked_until.isoformat() if row.locked_until else "",
                "method": method,
            })
    for scope, row in locks:
        logger.warning("sign-in guessing paused: %s lock until %s after %d failures",
                       scope, row.locked_until, row.failures)
    if locks:
        return True
    return retry_after(request, user if user is not None else who) > 0


def succeed(request: HttpRequest | None, who: Any) -> None:
    """A right guess: clear the account's failures (the address keeps its count)."""
    key = account_key(who)
    if key:
        AuthThrottle.objects.filter(key=key).delete()


def _masked_login(login: str) -> str:
    """An unknown login name as audited: enough to spot a pattern, not a typed password."""
    text = str(login).strip()
    if len(text) <= 2:
        return "*" * len(text)
    return text[:2] + "*" * min(len(text) - 2, 8)


# --- rate limits (not guesses: e.g. SMS sends) ---------------------------------------------


def hit(key: str, *, limit: int, window: timedelta) -> int:
    """Count one use of ``key`` in a fixed window; returns 0 when allowed, else the seconds
    until the window ends (the use is then not counted)."""
    now = timezone.now()
    with transaction.atomic():
        row, _created = AuthThrottle.objects.select_for_update().get_or_create(
            key=key, defaults={"window_started_at": now})
        if now - row.window_started_at >= window:
            row.failures = 0
            row.window_started_at = now
        if row.failures >= limit:
            return max(1, math.ceil((row.window_started_at + window - now).total_seconds()))
        row.failures += 1
        row.save(update_fields=["failures", "window_started_at"])
    return 0


def purge(*, now: datetime | None = None) -> int:
    """Delete counters nobody needs any more (quiet for a day and not locked); returns how
    many. Safe to run at any time, e.g. daily."""
    now = now or timezone.now()
    stale = now - MEMORY - MAX_LOCK
    deleted, _ = (AuthThrottle.objects.filter(window_started_at__lt=stale)
                  .exclude(locked_until__gt=now - MEMORY).delete())
    return deleted
