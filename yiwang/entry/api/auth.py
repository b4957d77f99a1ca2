"""Who calls the public API: a citizen's browser session, or a client with a bearer token.

``citizen_auth`` is a list for ninja's ``auth=`` — tried in order, the first that accepts
wins:

1. :class:`CitizenBearer` — ``Authorization: Bearer <access token>`` issued by our own
   OpenID provider (authorization code + PKCE) with the ``applications`` scope, checked by
   ``identity.check_bearer`` (expiry, revocation, scope, ended session, active account, not
   an official). No CSRF check: a browser never adds this header by itself. A request that
   carries the header is judged by it alone: a bad token answers 401 with
   ``WWW-Authenticate: Bearer error="invalid_token"`` (403 ``insufficient_scope`` for a
   token without the scope or of an official), and never falls back to the session cookie.
2. :class:`CitizenSession` — the signed-in session of the public listener, CSRF-checked
   for writes (as before).

The ``WWW-Authenticate`` header needs the handler :func:`install` adds to the API
(``install(api)`` once, after creating the ``NinjaAPI``); without it the refusals keep
their status and body, without the header.

Either way the account is bound to the request context, so audit events name it (for a
bearer token, ``request.bearer_client_id`` names the client); failed bearer tokens count
against a per-address budget (``YIWANG_API_BEARER_FAILURES_PER_MINUTE``, default 30): a
client trying token after token gets 429, while valid tokens from the same address (a
NAT) keep working.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja.errors import HttpError
from ninja.security import HttpBearer, SessionAuth

from yiwang.core import context, ratelimit
from yiwang.platform.zones.service import Zone, session_cookie_name
from yiwang.support.identity import service as identity

logger = logging.getLogger(__name__)

APPLICATIONS_SCOPE = "applications"
LICENCES_SCOPE = "licences"
#: Bad bearer tokens a client address may present per minute before it gets 429.
DEFAULT_FAILURES_PER_MINUTE = 30
REALM = "yiwang"


class BearerRefused(HttpError):
    """A refused bearer token: 401 ``invalid_token``, 403 ``insufficient_scope`` or 429."""

    def __init__(self, status_code: int, error: str, description: str, scope: str) -> None:
        super().__init__(status_code, description)
        self.error = error
        self.description = description
        self.scope = scope

    def challenge(self) -> str:
        """The ``WWW-Authenticate`` value (RFC 6750 §3)."""
        parts = [f'realm="{REALM}"']
        if self.error:
            parts.append(f'error="{self.error}"')
            parts.append('error_description="{}"'.format(self.description.replace('"', "'")))
        if self.error == "insufficient_scope":
            parts.append(f'scope="{self.scope}"')
        return "Bearer " + ", ".join(parts)


def bearer_refused(request: HttpRequest, exc: BearerRefused, *, api: Any) -> HttpResponse:
    """The API's answer to a refused bearer token, with its ``WWW-Authenticate`` challenge."""
    response: HttpResponse = api.create_response(
        request, {"code": exc.error or "rate_limited", "detail": exc.description},
        status=exc.status_code)
    if exc.status_code == 429:
        response["Retry-After"] = ratelimit.retry_after()
    else:
        response["WWW-Authenticate"] = exc.challenge()
    response["Cache-Control"] = "no-store"
    return response


def install(api: Any) -> None:
    """Answer refused bearer tokens of ``api`` with RFC 6750 challenges (call once)."""
    from functools import partial

    api.add_exception_handler(BearerRefused, partial(bearer_refused, api=api))


def _failures_per_minute() -> int:
    return int(getattr(settings, "YIWANG_API_BEARER_FAILURES_PER_MINUTE",
                       DEFAULT_FAILURES_PER_MINUTE))


class CitizenBearer(HttpBearer):
    """An access token of our own provider carrying ``scope``, of an active public-side
    account (citizen or enterprise, not an official)."""

    def __init__(self, scope: str = APPLICATIONS_SCOPE) -> None:
        self.scope = scope
        super().__init__()

    def __call__(self, request: HttpRequest) -> Any:
        header = request.headers.get(self.header, "")
        scheme, _space, token = header.strip().partition(" ")
        if not header or scheme.lower() != "bearer":
            return None  # no bearer token: the session may still sign the request
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = identity.check_bearer(token, scope=self.scope)
        if not found.ok:
            over = ratelimit.exceeded("api.bearer_refused", request,
                                      per_minute=_failures_per_minute())
            logger.info("bearer token refused: %s (%s)", found.error, found.client_id or "-")
            if over:
                raise BearerRefused(429, "", _("令牌校验失败次数过多，请一分钟后再试。"),
                                    self.scope)
            status = 403 if found.error == "insufficient_scope" else 401
            raise BearerRefused(status, found.error, found.description, self.scope)
        user = found.user
        # The audit context was bound from the (anonymous) session: name the token's owner.
        context.bind_user(user)
        request.user = user
        request.bearer_client_id = found.client_id  # type: ignore[attr-defined]
        return user


class CitizenSession(SessionAuth):
    """A signed-in, active account's session on the public listener (CSRF-checked)."""

    param_name = session_cookie_name(Zone.PUBLIC)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is not None and user.is_active:
            return user
        return None


citizen_bearer = CitizenBearer(APPLICATIONS_SCOPE)
citizen_session = CitizenSession()
#: For ninja's ``auth=``: a bearer token with the ``applications`` scope, or the session.
citizen_auth = [citizen_bearer, citizen_session]
#: The same for the licence wallet's endpoints (scope ``licences``).
licences_auth = [CitizenBearer(LICENCES_SCOPE), citizen_session]
