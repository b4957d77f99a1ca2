"""Tokens and the sessions they belong to: revocation, session end, back-channel logout.

Every token issued to a person comes from an :class:`Authorization` (one consent of a
relying party within one identity-provider session). Ending the session, revoking consent,
deactivating a relying party or deprovisioning an account revokes the tokens at once; the
relying parties of an ended session are told over the back channel (OpenID Connect
Back-Channel Logout 1.0) by a background task that retries.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import timedelta
from typing import Any

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_refresh_token_model,
    refresh_token_expire_timedelta,
)

from yiwang.core.audit import service as audit
from yiwang.core.tasks.service import PermanentFailure, enqueue
from yiwang.support.identity.models import AccountSession
from yiwang.support.identity.oidc import claims, keys, lookups, outbound
from yiwang.support.identity.oidc.models import Authorization, RelyingParty, SessionClient
from yiwang.support.identity.sessions import hash_token

logger = logging.getLogger(__name__)

AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_SECONDS = 120
BACKCHANNEL_TIMEOUT_SECONDS = 10


def issuer() -> str:
    """The issuer identifier (``iss``) of every token yiwang signs."""
    return str(settings.YIWANG_OIDC_ISSUER).rstrip("/")


def authorization_of_access_token(access_token: Any) -> Authorization | None:
    """The authorization (and so the session) an access token was issued under, or None."""
    prefetched = lookups.prefetched_authorization(access_token)
    if prefetched is not lookups.NOT_READ:
        return prefetched
    family = lookups.family_of_access_token(access_token.pk)
    if family is None:
        return None
    return lookups.authorization(family, person=access_token.user)


def authorization_of_refresh_token(refresh_token: Any) -> Authorization | None:
    """The authorization a refresh token's family belongs to, or None."""
    prefetched = lookups.prefetched_authorization(refresh_token)
    if prefetched is not lookups.NOT_READ:
        return prefetched
    if not refresh_token.token_family:
        return None
    return lookups.authorization(refresh_token.token_family, person=refresh_token.user)


def _revoke(authorizations: QuerySet[Authorization], token_filter: Q) -> tuple[int, int]:
    """Revoke the token families of ``authorizations`` and any other token ``token_filter``
    selects; returns (access tokens deleted, refresh tokens revoked)."""
    now = timezone.now()
    families = list(authorizations.values_list("family", flat=True))
    authorizations.filter(revoked_at__isnull=True).update(revoked_at=now)
    selected = token_filter | Q(token_family__in=families) if families else token_filter
    refresh = RefreshToken.objects.filter(selected, revoked__isnull=True)
    access_ids = list(refresh.exclude(access_token__isnull=True)
                      .values_list("access_token_id", flat=True))
    revoked = refresh.update(revoked=now, updated=now, access_token=None)
    _total, per_model = AccessToken.objects.filter(Q(pk__in=access_ids) | token_filter).delete()
    return int(per_model.get(AccessToken._meta.label, 0)), int(revoked)


@transaction.atomic
def revoke_session_tokens(session: AccountSession) -> int:
    """Revoke every token issued within ``session``; returns how many."""
    authorizations = Authorization.objects.filter(session=session)
    deleted, revoked = _revoke(authorizations, Q(pk__in=[]))
    return deleted + revoked


@transaction.atomic
def revoke_user_tokens(user: Any, *, reason: str) -> int:
    """Revoke every access and refresh token of ``user`` now (deprovisioning); returns how
    many. Audited as ``oidc.tokens_revoked``."""
    deleted, revoked = _revoke(Authorization.objects.filter(user=user), Q(user=user))
    audit.record("oidc.tokens_revoked", user,
                 detail={"reason": reason[:200], "access_tokens": deleted,
                         "refresh_tokens": revoked})
    return deleted + revoked


@transaction.atomic
def revoke_client_tokens(rp: RelyingParty, *, user: Any = None) -> int:
    """Revoke the tokens of ``rp`` (only ``user``'s when given); returns how many."""
    authorizations = Authorization.objects.filter(application=rp)
    token_filter = Q(application=rp)
    if user is not None:
        authorizations = authorizations.filter(user=user)
        token_filter &= Q(user=user)
    deleted, revoked = _revoke(authorizations, token_filter)
    return deleted + revoked


def revoke_authorization(authorization: Authorization) -> int:
    """Revoke the tokens of one authorization (a replayed authorization code)."""
    deleted, revoked = _revoke(Authorization.objects.filter(pk=authorization.pk), Q(pk__in=[]))
    return deleted + revoked


def session_ended(session: AccountSession, reason: str) -> None:
    """``sessions.on_session_end`` hook: revoke the session's tokens at once and queue a
    back-channel logout to each of its relying parties that asked for one."""
    with transaction.atomic():
        count = revoke_session_tokens(session)
        clients = (SessionClient.objects.filter(sid=session.sid, logout_sent_at__isnull=True)
                   .exclude(application__backchannel_logout_uri="")
                   .values_list("pk", flat=True))
        queued = 0
        for pk in clients:
            enqueue("oidc.send_backchannel_logout", pk)
            queued += 1
        if count or queued:
            audit.record("oidc.session_logout", session.user, actor=None,
                         detail={"reason": reason, "tokens_revoked": count,
                                 "backchannel_logouts": queued})


def logout_token(rp: RelyingParty, user: Any, sid: str) -> str:
    """A signed Logout Token (Back-Channel Logout 1.0, section 2.4) for ``rp``."""
    now = int(time.time())
    return keys.sign({
        "iss": issuer(), "aud": rp.client_id, "iat": now, "exp": now + LOGOUT_TOKEN_SECONDS,
        "jti": uuid.uuid4().hex, "sub": claims.subject(user, rp), "sid": sid,
        "events": {BACKCHANNEL_EVENT: {}},
    }, typ="logout+jwt")


def _record_failure(client: SessionClient, message: str) -> None:
    SessionClient.objects.filter(pk=client.pk).update(logout_error=message[:200])


def deliver_backchannel_logout(session_client_id: int) -> str:
    """POST a logout token to the relying party's ``backchannel_logout_uri``.

    Records the outcome on the :class:`SessionClient`. Raises to have the task retried
    (network errors, 5xx), or :class:`PermanentFailure` when the relying party refused the
    token (4xx) or the address may not be called (the outbound rule of :mod:`outbound`,
    checked after resolving the name): sending it again would not help. Idempotent: a
    delivered logout is not sent twice.
    """
    client = (SessionClient.objects.select_related("application", "user")
              .filter(pk=session_client_id).first())
    if client is None or client.logout_sent_at is not None:
        return "nothing to do"
    uri = client.application.backchannel_logout_uri
    if not uri:
        return "no back-channel logout address"
    token = logout_token(client.application, client.user, client.sid)
    try:
        with outbound.request("POST", uri, data={"logout_token": token},
                              timeout=BACKCHANNEL_TIMEOUT_SECONDS,
                              headers={"Cache-Control": "no-store"}) as response:
            status = response.status_code
    except outbound.OutboundRefused as exc:
        _record_failure(client, f"refused by the outbound rule: {exc.reason}")
        audit.record("oidc.backchannel_logout_refused", client.application, actor=None,
                     detail={"client_id": client.application.client_id, "reason": exc.reason})
        raise PermanentFailure(f"back-channel logout address refused: {exc.reason}") from None
    except (requests.RequestException, OSError) as exc:
        _record_failure(client, f"{type(exc).__name__}: could not reach the relying party")
        raise
    if 200 <= status < 300:
        SessionClient.objects.filter(pk=client.pk).update(logout_sent_at=timezone.now(),
                                                         logout_error="")
        return "sent"
    message = f"HTTP {status}"
    _record_failure(client, message)
    if status in (400, 401, 403, 404, 405, 410, 501):
        raise PermanentFailure(f"relying party refused the logout token: {message}")
    raise RuntimeError(f"back-channel logout failed: {message}")


@transaction.atomic
def purge_stale(*, now: Any = None) -> tuple[int, int]:
    """Delete bookkeeping nothing can use any more: authorizations revoked, of a session
    ended, or without a live refresh token, for a day; the list of relying parties of
    sessions ended 30 days ago. Returns how many of each."""
    now = now or timezone.now()
    day_ago, month_ago = now - timedelta(days=1), now - timedelta(days=30)
    live_families = RefreshToken.objects.filter(revoked__isnull=True).values("token_family")
    stale = (Q(revoked_at__lt=day_ago) | Q(session__ended_at__lt=day_ago)
             | (Q(created_at__lt=day_ago) & ~Q(family__in=live_families)))
    authorizations, _ = Authorization.objects.filter(stale).delete()
    ended = AccountSession.objects.filter(ended_at__lt=month_ago).values("sid")
    clients, _ = SessionClient.objects.filter(sid__in=ended).delete()
    return int(authorizations), int(clients)


def record_session_client(session: AccountSession, rp: RelyingParty) -> None:
    """Remember that ``rp`` received tokens within ``session`` (for logout)."""
    SessionClient.objects.update_or_create(sid=session.sid, application=rp,
                                           defaults={"user_id": session.user_id})


INACTIVE: dict[str, Any] = {"active": False}


def introspect(token: str, hint: str, caller: RelyingParty) -> dict[str, Any]:
    """RFC 7662 introspection of ``token`` for the authenticated client ``caller``.

    A client learns about its own tokens; yiwang's own (first-party) clients, which act as
    resource servers, about any. A token of an ended session, a deactivated account or a
    disabled relying party is inactive.
    """
    checksum = hash_token(token)  # what DOT stores as token_checksum
    found: Any = None
    kind = ""
    if hint != "refresh_token":
        found = (AccessToken.objects.select_related("application", "user")
                 .filter(token_checksum=checksum).first())
        kind = "access_token" if found is not None else ""
    if found is None:
        found = (RefreshToken.objects.select_related("application", "user", "access_token")
                 .filter(token_checksum=checksum, revoked__isnull=True).first())
        kind = "refresh_token" if found is not None else ""
    if found is None and hint == "refresh_token":
        found = (AccessToken.objects.select_related("application", "user")
                 .filter(token_checksum=checksum).first())
        kind = "access_token" if found is not None else ""
    if found is None:
        return dict(INACTIVE)
    rp = found.application
    if rp is None or not rp.active or not (caller.first_party or rp.pk == caller.pk):
        return dict(INACTIVE)
    if kind == "access_token":
        if found.is_expired():
            return dict(INACTIVE)
        expires = found.expires
        authorization = authorization_of_access_token(found) if found.user_id else None
    else:
        lifetime = refresh_token_expire_timedelta()
        if found.access_token is None:
            return dict(INACTIVE)
        expires = found.access_token.expires + lifetime if lifetime else None
        if expires is not None and expires <= timezone.now():
            return dict(INACTIVE)
        authorization = authorization_of_refresh_token(found)
    info: dict[str, Any] = {
        "active": True, "scope": found.scope if kind == "access_token"
        else found.access_token.scope, "client_id": rp.client_id,
        "token_type": "Bearer" if kind == "access_token" else "refresh_token",
        "iat": int(found.created.timestamp()), "iss": issuer(), "aud": rp.client_id,
    }
    if expires is not None:
        info["exp"] = int(expires.timestamp())
    if found.user_id:
        if not found.user.is_active or authorization is None or not authorization.live:
            return dict(INACTIVE)
        info.update(sub=claims.subject(found.user, rp), sid=authorization.session.sid,
                    acr=f"L{authorization.acr}",
                    auth_time=int(authorization.auth_time.timestamp()))
    return info
