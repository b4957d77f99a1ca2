"""Throttling of guesses (防暴力破解): failure counters per login name, account and address.

Every guessable factor — passwords, SMS codes, TOTP codes, recovery codes — calls
:func:`check` before it looks at what was typed, :func:`fail` when the guess was wrong and
:func:`succeed` when it was right. The counters live in :class:`AuthThrottle` rows, so every
process of every listener shares them.

Three counters, three jobs:

- **The login name as typed** (username or phone number, normalised) has the lock a person
  *sees*: ``YIWANG_LOCKOUT_ACCOUNT_FAILURES`` failures within ``YIWANG_LOCKOUT_WINDOW_SECONDS``
  lock the name for that window; within a day of a lock the count goes on and each further
  run of as many failures locks it again for twice as long, up to a day (Keycloak's "wait
  increment" with a cap). A name that belongs to no account is counted and locked exactly
  the same way. Because this lock depends on nothing but what was typed at this name, the
  answer for one name never tells anything about another: locking a username does not make
  the account's phone number answer "locked", so the two cannot be linked (django-axes keys
  by the name as typed for the same reason; Keycloak keys by the account, which links them).
- **The account** behind the name counts every failure at any of its names, under the same
  policy, so guessing spread over the username and the phone number gets no more tries. It
  is consulted *silently*: while it is locked, :func:`check` returns ``True`` for a name
  that is not locked itself, and the caller must refuse the password without checking it
  (a dummy hash keeps the time the same) and count a failure as usual. The person then sees
  the ordinary "wrong login or password" answer — exactly what any other name that is not
  locked gets — while no guess is evaluated (Keycloak answers "invalid username or
  password" for a temporarily disabled user for the same reason). For a name that belongs
  to no account a stand-in account counter, keyed by the name, does the same work. Once a
  person is identified (second factors, re-authentication, a password change) the guess is
  made at the account itself, and its lock is shown as it is.
- **The address** is locked after ``YIWANG_LOCKOUT_ADDRESS_FAILURES`` failures within the
  window, for one window each time (no doubling: many people may share an office's
  address). Success does not clear it, or one valid account would let an attacker reset it.

An SMS code typed to sign in (``method="sms"`` with a phone number) has a name counter of
its own and ignores the account lock: the code is a fresh secret sent only to the owner's
phone (and limited per code and by the sending quotas), so signing in with it is the
owner's way out of a lock that guessing at the password caused. Failures while a counter is
locked are not counted (nothing was tried). Only a *completed* sign-in clears the account's
count and the counters of the account's own names (the address keeps its count): a right
first factor that leaves the sign-in waiting for a second one clears just the name it was
typed at, so guesses at the second factor keep counting — and the lock keeps growing —
however often the first factor is proved again (see :func:`succeed`).

Keys never hold a login name or an address in clear: they are blind indexes (HMAC) with
purposes of their own. Audit events: ``identity.sign_in_failed`` for every failure (with
``reason`` ``account_locked`` for a silent refusal), ``identity.locked`` when a lock starts
(``scope`` ``login``, ``account`` or ``address``; recorded against the account when the name
belongs to one, so it shows among the account's security events).

A failure at a name does the same work whatever the account behind it is doing — locked
silently, not locked, or no account at all (a stand-in): the same statements, each writing
its row, and the same audit records, so neither timing nor the audit trail's growth links a
username to its phone. So the account counter behind a name is audited on the name's
schedule: its ``identity.locked`` record (``scope`` ``account``, ``until`` empty if it is
not locked) comes with the name's own lock, and an account lock started by guesses at its
other name is noted as ``account_locked_until`` in that failure's ``sign_in_failed`` record.
"""

from __future__ import annotations

import logging
import math
import unicodedata
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

# The method whose name counter is kept apart and which ignores the account lock.
SENT_CODE_METHODS = frozenset({"sms"})


def _is_user(who: Any) -> bool:
    return hasattr(who, "pk") and hasattr(who, "get_username")


def _normalise_login(login: str) -> str:
    from yiwang.support.identity import accounts

    text = unicodedata.normalize("NFKC", str(login or "")).strip()
    try:
        return "phone:" + accounts.validate_phone(text)
    except ValidationError:
        return "name:" + text.casefold()


def _name_digest(login: str) -> str:
    return blind_index(_normalise_login(login), LOGIN_PURPOSE)[:KEY_HASH_LENGTH]


def _resolve(who: Any) -> tuple[Any, str]:
    """``(user or None, account key)`` for a user, a login name or phone number, or None.

    A name that matches no account gets a stand-in account key of its own (``acct:h…``),
    so that it is counted with the same work as a real one."""
    if who is None or who == "":
        return None, ""
    if _is_user(who):
        return who, f"acct:u{who.pk}"
    from yiwang.support.identity import accounts

    user = accounts.find_account(str(who))
    if user is not None:
        return user, f"acct:u{user.pk}"
    return None, f"acct:h{_name_digest(str(who))}"


def account_key(who: Any) -> str:
    """The account counter's key for a user or a login name (a stand-in for unknown names)."""
    return _resolve(who)[1]


def login_key(who: Any, method: str = "password") -> str:
    """The key of the counter of a login name as typed ("" for a user: no name was typed).

    SMS codes sent to a phone to sign in are counted apart from passwords typed with it."""
    if who is None or who == "" or _is_user(who):
        return ""
    kind = "s" if method in SENT_CODE_METHODS else "p"
    return f"login:{kind}:{_name_digest(str(who))}"


def _own_login_keys(user: Any) -> list[str]:
    """The name counters of the names ``user`` can sign in with (username, phone)."""
    names = [str(user.get_username() or "")]
    phone = str(getattr(user, "phone", "") or "")
    if phone:
        names.append(phone)
    return [login_key(name, method) for name in names if name
            for method in ("password", "sms")]


def _keys(request: HttpRequest | None, who: Any, method: str
          ) -> tuple[Any, list[tuple[str, str]], str]:
    """``(user, [(scope, key) shown], account key consulted silently or "")``."""
    user, account = _resolve(who)
    address = address_key(request)
    shown: list[tuple[str, str]] = []
    silent = ""
    if _is_user(who):
        shown.append(("account", account))
    elif account:
        shown.append(("login", login_key(who, method)))
        if method not in SENT_CODE_METHODS:
            silent = account
    if address:
        shown.append(("address", address))
    return user, shown, silent


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
    this failure starts a lock. Returns the row with ``_locked_now`` telling whether it did.

    A failure while the key is locked is not counted: no guess was evaluated (the account
    lock is consulted silently), and counting it would only let anyone lengthen the lock.

    The same three statements run whatever the row holds — new or not, locked or not — and
    each writes the row: an upsert that creates it or takes its lock, a read of it under
    that lock, and an update. The work (and so the time) of counting at a name therefore
    does not tell whether the account behind it is locked, or exists. Concurrent failures
    at one key queue on the row's lock (BEGIN IMMEDIATE on SQLite), so each is counted once
    and exactly one of them starts a lock at the limit.
    """
    AuthThrottle.objects.bulk_create(
        [AuthThrottle(key=key, failures=0, window_started_at=now)],
        update_conflicts=True, unique_fields=["key"], update_fields=["key"])
    row = AuthThrottle.objects.select_for_update().get(key=key)
    locked_now = False
    if row.locked_until is None or now >= row.locked_until:
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
    # written even when nothing changed (a locked key): the same work either way
    row.save(update_fields=["failures", "window_started_at", "locked_until"])
    row._locked_now = locked_now  # type: ignore[attr-defined]
    return row


def check(request: HttpRequest | None, who: Any, *, method: str = "password") -> bool:
    """Call before looking at a guess at ``who``'s factor (a user, or a login name as typed).

    Raises :class:`Locked` when the lock a person may see is on: the login name's (or, for a
    user, the account's) or the request's address. Otherwise returns whether the account
    behind the name is locked *silently*: then the caller must refuse the guess without
    evaluating it (running a dummy hash instead of a password check), call :func:`fail`
    with ``reason="account_locked"`` and answer exactly as for a wrong guess. Always one
    query, whether or not the name belongs to an account.
    """
    _user, shown, silent = _keys(request, who, method)
    keys = [key for _scope, key in shown if key] + ([silent] if silent else [])
    if not keys:
        return False
    now = timezone.now()
    locked: dict[str, datetime] = {
        key: until for key, until in AuthThrottle.objects.filter(
            key__in=keys, locked_until__gt=now).values_list("key", "locked_until")
        if until is not None}
    until = [locked[key] for _scope, key in shown if key in locked]
    if until:
        raise Locked((max(until) - now).total_seconds())
    return bool(silent) and silent in locked


def retry_after(request: HttpRequest | None, who: Any, *, method: str = "password") -> int:
    """Seconds until ``who`` (the name, or the user) and the address may guess again as far
    as anyone may see (0 when they may now; a silent account lock is not told)."""
    try:
        check(request, who, method=method)
    except Locked as locked:
        return locked.retry_after
    return 0


def fail(request: HttpRequest | None, who: Any, *, method: str = "password",
         reason: str = "") -> bool:
    """Count a wrong guess at ``who``'s factor (and from the request's address).

    ``who`` is a login name as typed (its counter, and its account's silently) or a user
    (the account's counter). Audits ``identity.sign_in_failed`` (and ``identity.locked`` when
    a lock starts). Returns whether the lock a person may see — the name's (or, for a user,
    the account's) or the address's — is on now, so the caller can say so at once.
    """
    user, shown, silent = _keys(request, who, method)
    now = timezone.now()
    policies = {"login": account_policy(), "account": account_policy(),
                "address": address_policy()}
    counted: list[tuple[str, AuthThrottle, bool]] = []
    with transaction.atomic():
        for scope, key in shown:
            if key:
                counted.append((scope, _count_failure(key, policies[scope], now), True))
        account_row = _count_failure(silent, policies["account"], now) if silent else None
        if account_row is not None:
            counted.append(("account", account_row, False))
        locks = [(scope, row) for scope, row, is_shown in counted
                 if is_shown and row._locked_now]  # type: ignore[attr-defined]
        # The account counter behind a name is audited on the name's schedule, not its
        # own: its state is recorded when the name's lock starts, whatever the account is
        # doing, and a lock it starts by itself is noted in the failure's record. So every
        # name — of a locked account, of another, of none — writes the same records at the
        # same failures (timing follows writes).
        if account_row is not None and any(scope == "login" for scope, _row in locks):
            locks.append(("account", account_row))
        named = isinstance(who, str) and who != ""
        subject = user if user is not None else (
            "identity.login", _name_digest(who)[:16] if named else "")
        detail: dict[str, Any] = {"method": method, "known_account": user is not None}
        if reason:
            detail["reason"] = reason
        if account_row is not None and account_row._locked_now:  # type: ignore[attr-defined]
            detail["account_locked_until"] = _iso(account_row.locked_until)
        if user is None and named:
            detail["login"] = _masked_login(who)
        audit.record("identity.sign_in_failed", subject, actor=user, detail=detail)
        for scope, row in locks:
            audit.record("identity.locked", subject, actor=user, detail={
                "scope": scope, "failures": row.failures,
                "until": _iso(row.locked_until),
                "method": method,
            })
    for scope, row in locks:
        logger.warning("sign-in guessing paused: %s lock until %s after %d failures",
                       scope, row.locked_until, row.failures)
    return any(is_shown and row.locked_until is not None and row.locked_until > now
               for _scope, row, is_shown in counted)


def succeed(request: HttpRequest | None, who: Any, *, method: str = "password",
            finished: bool = True) -> None:
    """A right guess: clear the typed name's failures (for ``method``) and, when the guess
    finished what it was for, the account's and those of the account's own names. The
    address keeps its count.

    A first factor that leaves a sign-in pending (``finished=False``), and any factor proved
    while this browser holds a pending sign-in of the account, clear only the typed name:
    the account's count goes on until :func:`pipeline.begin` or :func:`pipeline.complete`
    has signed the person in, and they call this again. Otherwise whoever knows the
    password (or has the phone) could guess at the second factor, wait out the lock and
    prove the first factor again to start afresh, so the lock would never grow longer.
    """
    keys = {login_key(who, method)}
    if finished and not _sign_in_pending(request, who):
        user, account = _resolve(who)
        keys.add(account)
        if user is not None:
            keys.update(_own_login_keys(user))
    keys.discard("")
    if keys:
        AuthThrottle.objects.filter(key__in=keys).delete()


def _sign_in_pending(request: HttpRequest | None, who: Any) -> bool:
    """Whether ``request``'s browser is half-way through signing in as the user ``who``."""
    if request is None or not _is_user(who) or not hasattr(request, "session"):
        return False
    from yiwang.support.identity import pipeline

    state = pipeline.pending(request)
    return state is not None and state.kind == pipeline.SIGN_IN and state.user_id == who.pk


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else ""


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
