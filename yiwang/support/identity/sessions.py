"""Identity-provider sessions: starting, stepping up, listing and ending them.

A signed-in Django session carries ``yiwang_sid``, the id of an :class:`AccountSession`.
The session middleware checks on every request that the row is still live, so ending the
row (remote sign-out, deprovisioning, RP-initiated logout) ends the session at once in every
process. Whatever else must happen when a session ends — revoking its tokens, telling
relying parties over the back channel — registers itself with :func:`on_session_end`.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import secrets
from collections.abc import Callable, Iterable
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, load_backend, login, logout
from django.contrib.auth import SESSION_KEY as USER_ID_SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.db import connections, router, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from yiwang.core.audit import service as audit
from yiwang.support.identity import assurance
from yiwang.support.identity.models import AccountSession

logger = logging.getLogger(__name__)

SESSION_KEY = "yiwang_sid"
TOUCH_EVERY = timedelta(minutes=1)

_end_hooks: list[Callable[[AccountSession, str], None]] = []


EndHook = Callable[[AccountSession, str], None]


def on_session_end(hook: EndHook) -> EndHook:
    """Register ``hook(session, reason)``; it runs after the ending transaction commits."""
    if hook not in _end_hooks:
        _end_hooks.append(hook)
    return hook


def client_address(request: HttpRequest) -> str:
    """The client's address as the listener saw it (proxies are trusted by configuration)."""
    return str(request.META.get("REMOTE_ADDR") or "")


def mask_address(address: str) -> str:
    """192.168.1.23 -> 192.168.1.*, 2001:db8::1 -> 2001:db8::/48-ish: enough to recognise."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return ""
    if ip.version == 4:
        return ".".join(str(ip).split(".")[:3]) + ".*"
    return str(ipaddress.ip_network(f"{ip}/48", strict=False).network_address) + "*"


def _user_agent(request: HttpRequest) -> str:
    return str(request.META.get("HTTP_USER_AGENT", ""))[:256]


def new_sid() -> str:
    return secrets.token_urlsafe(32)


def sign_in(request: HttpRequest, user: Any, *, amr: Iterable[str], method: str,
            level_cap: int | None = None, backend: str | None = None) -> AccountSession:
    """Sign ``user`` in on this browser with the factors in ``amr``; returns the new session.

    Rotates the session key (no fixation), records an :class:`AccountSession`, stores its
    sid in the Django session and writes the security event ``identity.sign_in``.
    """
    amr_list = assurance.with_mfa_marker(amr)
    level = assurance.session_level(user, amr_list, cap=level_cap)
    previous = current(request)
    with transaction.atomic():
        login(request, user, backend=backend or "django.contrib.auth.backends.ModelBackend")
        now = timezone.now()
        if previous is not None and previous.user_id == user.pk:
            # The same person authenticating again (prompt=login, max_age, a new sign-in on
            # this browser): renew the session in place, so that its relying parties and the
            # workbench stay signed in.
            AccountSession.objects.filter(pk=previous.pk).update(
                auth_time=now, acr=level, amr=amr_list, level_cap=level_cap, last_seen_at=now,
                ip_masked=mask_address(client_address(request)), user_agent=_user_agent(request))
            previous.refresh_from_db()
            session = previous
        else:
            if previous is not None:
                _mark_ended(previous, "replaced")  # another account signs in on this browser
            session = AccountSession.objects.create(
                sid=new_sid(), user=user, zone=str(getattr(request, "zone", "public")),
                auth_time=now, acr=level, amr=amr_list, level_cap=level_cap,
                ip_masked=mask_address(client_address(request)),
                user_agent=_user_agent(request),
            )
        request.session[SESSION_KEY] = session.sid
        request._yiwang_account_session = session  # type: ignore[attr-defined]
        audit.record("identity.sign_in", user, actor=user,
                     detail={"method": method, "amr": amr_list, "acr": assurance.acr_name(level),
                             "ip": session.ip_masked})
    return session


def step_up(request: HttpRequest, *, amr: Iterable[str], method: str) -> AccountSession:
    """Add factors proved just now to the current session and raise its level if they allow.

    Only a factor not already counted in the session is a new authentication: it renews
    ``auth_time`` and lifts a level cap. Called with nothing new (after real-name
    verification raised the account's level), it recomputes the level from the factors
    already proved, within the cap, and leaves ``auth_time`` alone.
    """
    session = current(request)
    if session is None:
        raise PermissionError("no signed-in session to step up")
    fresh = {value for value in amr if value != "mfa"} - set(session.amr)
    amr_list = assurance.with_mfa_marker([*session.amr, *amr])
    cap = None if fresh else session.level_cap
    level = max(session.acr, assurance.session_level(session.user, amr_list, cap=cap))
    changes: dict[str, Any] = {"amr": amr_list, "acr": level}
    if fresh:
        changes.update(auth_time=timezone.now(), level_cap=None)
    with transaction.atomic():
        request.session.cycle_key()
        AccountSession.objects.filter(pk=session.pk).update(**changes)
        audit.record("identity.step_up", session.user, actor=session.user,
                     detail={"method": method, "amr": amr_list, "acr": assurance.acr_name(level)})
    session.refresh_from_db()
    request._yiwang_account_session = session  # type: ignore[attr-defined]
    return session


def join_session(request: HttpRequest, sid: str) -> AccountSession:
    """Sign this browser in to an existing live provider session (a first-party relying party).

    The workbench, in the internal zone, receives the provider's ``sid`` in the ID token of a
    completed OpenID Connect sign-in and joins that session: ending it anywhere ends this
    browser's sign-in too.
    """
    session = AccountSession.objects.select_related("user").filter(
        sid=sid, ended_at__isnull=True).first()
    if session is None or not session.user.is_active:
        raise PermissionError("the provider session has ended")
    login(request, session.user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[SESSION_KEY] = session.sid
    request._yiwang_account_session = session  # type: ignore[attr-defined]
    return session


def leave_session(request: HttpRequest) -> None:
    """Sign this browser out locally only: the provider session (and others') lives on."""
    logout(request)
    request._yiwang_account_session = None  # type: ignore[attr-defined]


def current(request: HttpRequest) -> AccountSession | None:
    """The live :class:`AccountSession` of this request, or None (cached on the request)."""
    cached = getattr(request, "_yiwang_account_session", False)
    if cached is not False:
        return cached  # type: ignore[return-value]
    sid = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    found = _live_session(str(sid)) if sid else None
    request._yiwang_account_session = found  # type: ignore[attr-defined]
    return found


class _LiveSessionQuery:
    """``AccountSession.objects.select_related("user").filter(sid=…, ended_at=None).first()``
    with its SQL built once per database instead of on every request.

    Every request of a signed-in browser asks it, and building the query took as long as
    running it. The rows become model instances exactly as the ORM makes them: each column
    through the converters the ORM applies (backend's, then field's — decryption, JSON,
    datetimes), then ``Model.from_db``, the account cached on the session.
    """

    def __init__(self, alias: str) -> None:
        connection = connections[alias]
        qn = connection.ops.quote_name
        self.alias = alias
        user_model = AccountSession._meta.get_field("user").related_model
        self.models = (AccountSession, user_model)
        self.fields = [list(model._meta.concrete_fields) for model in self.models]
        tables = ("s", "u")
        columns = [f"{table}.{qn(str(f.column))}"
                   for table, fields in zip(tables, self.fields, strict=True) for f in fields]
        session_meta, user_meta = AccountSession._meta, user_model._meta

        def column(table: str, meta: Any, name: str) -> str:
            return f"{table}.{qn(meta.get_field(name).column)}"

        # Only quoted names from the models' metadata go into the text; the sid is a parameter.
        self.sql = " ".join([
            "SELECT", ", ".join(columns),
            "FROM", qn(session_meta.db_table), "s",
            "INNER JOIN", qn(user_meta.db_table), "u",
            "ON", f"u.{qn(str(user_meta.pk.column))}", "=", column("s", session_meta, "user"),
            "WHERE", column("s", session_meta, "sid"), "= %s",
            "AND", column("s", session_meta, "ended_at"), "IS NULL",
        ])
        self.converters = []
        for table, fields in zip(tables, self.fields, strict=True):
            for f in fields:
                col = f.get_col(table)
                self.converters.append((connection.ops.get_db_converters(col)
                                        + col.get_db_converters(connection), col))
        # The account's personal data (phone, real name, ID number: encrypted columns) is
        # decrypted when first read, not on every request (most read none of it): those
        # columns are left deferred, their tokens kept for User.refresh_from_db.
        split = len(self.fields[0])
        self.lazy = {split + pos for pos, f in enumerate(self.fields[1])
                     if getattr(f, "personal_data", False)
                     and hasattr(user_model, "decrypt_later")}
        self.user_names = [f.attname for pos, f in enumerate(self.fields[1])
                           if split + pos not in self.lazy]

    def fetch(self, sid: str) -> AccountSession | None:
        connection = connections[self.alias]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, [sid])
            row = cursor.fetchone()
        if row is None:
            return None
        values = list(row)
        later = {}
        for pos, (convs, expression) in enumerate(self.converters):
            value = values[pos]
            if pos in self.lazy:
                later[expression.target.attname] = partial(_convert, value, convs, expression,
                                                           connection)
                continue
            for converter in convs:
                value = converter(value, expression, connection)
            values[pos] = value
        split = len(self.fields[0])
        session = AccountSession.from_db(self.alias, [f.attname for f in self.fields[0]],
                                         values[:split])
        user = self.models[1].from_db(self.alias, self.user_names,
                                      [v for pos, v in enumerate(values[split:], start=split)
                                       if pos not in self.lazy])
        if later:
            user.decrypt_later(later)  # type: ignore[attr-defined]
        AccountSession._meta.get_field("user").set_cached_value(session, user)
        return session


def _convert(value: Any, converters: list[Any], expression: Any, connection: Any) -> Any:
    for converter in converters:
        value = converter(value, expression, connection)
    return value


_live_queries: dict[str, _LiveSessionQuery] = {}


def _live_session(sid: str) -> AccountSession | None:
    alias = router.db_for_read(AccountSession)
    query = _live_queries.get(alias)
    if query is None:
        query = _live_queries[alias] = _LiveSessionQuery(alias)
    return query.fetch(sid)


def level_of(request: HttpRequest) -> int:
    """The assurance level of this request's session (0 when nobody is signed in)."""
    session = current(request)
    return int(session.acr) if session else 0


def get_session(sid: str) -> AccountSession | None:
    return AccountSession.objects.select_related("user").filter(sid=sid).first()


def list_sessions(user: Any, *, live_only: bool = True) -> list[AccountSession]:
    """A person's sessions, newest first."""
    qs = AccountSession.objects.filter(user=user).order_by("-last_seen_at", "-id")
    if live_only:
        qs = qs.filter(ended_at__isnull=True)
    return list(qs[:100])


def _mark_ended(session: AccountSession, reason: str) -> bool:
    updated = AccountSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(
        ended_at=timezone.now(), end_reason=reason[:32])
    if updated:
        session.ended_at = timezone.now()
        session.end_reason = reason[:32]
        for hook in list(_end_hooks):
            transaction.on_commit(partial(_run_hook, hook, session, reason))
    return bool(updated)


def _run_hook(hook: Callable[[AccountSession, str], None], session: AccountSession,
              reason: str) -> None:
    try:
        hook(session, reason)
    except Exception:  # one failing hook must not stop the others; it is logged
        logger.exception("session end hook %s failed for a session",
                         getattr(hook, "__name__", hook))


@transaction.atomic
def end_session(session: AccountSession | str, *, reason: str, actor: Any = None) -> bool:
    """End one session everywhere (its browsers, its tokens, its relying parties)."""
    if isinstance(session, str):
        found = get_session(session)
        if found is None:
            return False
        session = found
    ended = _mark_ended(session, reason)
    if ended:
        audit.record("identity.session_ended", session.user, actor=actor,
                     detail={"reason": reason, "ip": session.ip_masked})
    return ended


@transaction.atomic
def end_user_sessions(user: Any, *, reason: str, actor: Any = None) -> int:
    """End every live session of ``user``; returns how many."""
    count = 0
    for session in AccountSession.objects.filter(user=user, ended_at__isnull=True):
        if _mark_ended(session, reason):
            count += 1
    audit.record("identity.sessions_ended", user, actor=actor,
                 detail={"reason": reason, "count": count})
    return count


def sign_out(request: HttpRequest, *, reason: str = "sign_out") -> AccountSession | None:
    """End this browser's session (and so every relying party's) and clear the cookie."""
    session = current(request)
    if session is not None:
        end_session(session, reason=reason, actor=session.user)
    logout(request)
    request._yiwang_account_session = None  # type: ignore[attr-defined]
    return session


def set_acting_for(request: HttpRequest, credit_code: str) -> None:
    """Record which enterprise (or nobody: ``""``) this session acts for."""
    session = current(request)
    if session is None:
        raise PermissionError("not signed in")
    AccountSession.objects.filter(pk=session.pk).update(acting_for=credit_code)
    session.acting_for = credit_code
    audit.record("identity.acting_for", session.user, actor=session.user,
                 detail={"credit_code": credit_code})


def lifetime() -> timedelta:
    """How long a sign-in lasts at most (``YIWANG_SESSION_AGE``), however active it is."""
    return timedelta(seconds=int(settings.SESSION_COOKIE_AGE))


def expire_sessions(*, now: Any = None) -> int:
    """End every session older than :func:`lifetime` (a periodic job): its browsers sign
    out, its tokens are revoked and its relying parties told. Returns how many."""
    now = now or timezone.now()
    count = 0
    for session in AccountSession.objects.filter(ended_at__isnull=True,
                                                 created_at__lt=now - lifetime()):
        with transaction.atomic():
            if _mark_ended(session, "expired"):
                count += 1
    return count


def adopt_user(request: HttpRequest, session: AccountSession | None) -> None:
    """Let ``request.user`` be the account already loaded with ``session`` (one query less
    per request), when Django's own ``auth.get_user`` would return that very account.

    Only the ordinary case is taken over: the session's user id is the account's, its
    backend is one of ``AUTHENTICATION_BACKENDS`` whose ``get_user`` is ModelBackend's, the
    account may authenticate (active) and the session hash matches with the current secret.
    Anything else (a fallback secret, an inactive account, a changed password, another
    backend) is left to ``django.contrib.auth.get_user``, which decides as always.
    """
    if session is None or hasattr(request, "_cached_user"):
        return
    try:
        user_id = type(session.user)._meta.pk.to_python(request.session[USER_ID_SESSION_KEY])
        backend_path = request.session[BACKEND_SESSION_KEY]
    except (KeyError, ValueError, TypeError, ValidationError):
        return
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return
    backend = load_backend(backend_path)
    user = session.user
    if (not isinstance(backend, ModelBackend) or type(backend).get_user is not ModelBackend.get_user
            or user.pk != user_id or not backend.user_can_authenticate(user)):
        return
    session_hash = request.session.get(HASH_SESSION_KEY)
    if not session_hash or not constant_time_compare(session_hash,
                                                     user.get_session_auth_hash()):
        return
    request._cached_user = user  # type: ignore[attr-defined]


def check_request(request: HttpRequest) -> None:
    """Called by the middleware: sign out a browser whose session was ended elsewhere."""
    sid = request.session.get(SESSION_KEY)
    user = getattr(request, "user", None)
    if not sid:
        if user is not None and user.is_authenticated:
            # Signed in without an identity-provider session (a bypass of the sign-in
            # pipeline, e.g. a bare django.contrib.auth.login): refuse it.
            logout(request)
        return
    session = current(request)
    if session is None or (user is not None and user.is_authenticated
                           and session.user_id != user.pk):
        logout(request)
        request._yiwang_account_session = None  # type: ignore[attr-defined]
        return
    now = timezone.now()
    if now - session.created_at > lifetime():
        end_session(session, reason="expired")
        logout(request)
        request._yiwang_account_session = None  # type: ignore[attr-defined]
        return
    if now - session.last_seen_at > TOUCH_EVERY:
        AccountSession.objects.filter(pk=session.pk).update(last_seen_at=now)


def hash_token(value: str) -> str:
    """SHA-256 hex of a bearer secret (codes, tickets) for storage."""
    return hashlib.sha256(value.encode()).hexdigest()
