"""Access tokens of our own provider presented to yiwang's API as bearer tokens (RFC 6750).

A mobile app or a partner's client signs a person in with the authorization-code flow
(PKCE), asks for an API scope such as ``applications`` and calls ``/api/v1/`` with
``Authorization: Bearer <access token>``. The token is checked by the provider's own
validator, as the userinfo endpoint checks it: known (only its hash is stored), not
expired, not revoked, carrying the scope, issued under a session that has not ended, to an
account that is still active. On top of that the API takes only public-side accounts: an
official's token is refused (officials work on the internal listener, at L3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oauthlib.common import Request as OAuthRequest

from yiwang.support.identity.models import AccountType

INVALID_TOKEN = "invalid_token"  # noqa: S105 - an RFC 6750 error code
INSUFFICIENT_SCOPE = "insufficient_scope"
# Tokens are long random strings; anything far longer is not one of ours.
MAX_TOKEN_LENGTH = 512


@dataclass(frozen=True)
class BearerCheck:
    """The outcome of checking a bearer token: the account (when accepted) or the RFC 6750
    error code (``invalid_token`` → 401, ``insufficient_scope`` → 403) and why."""

    user: Any = None
    error: str = ""
    description: str = ""
    client_id: str = ""

    @property
    def ok(self) -> bool:
        return self.user is not None and not self.error


def check_bearer(token: str, *, scope: str) -> BearerCheck:
    """Check an access token presented for an API needing ``scope``.

    Expired, revoked, unknown tokens and tokens of an ended session or a deactivated
    account give ``invalid_token``; a token without ``scope``, and an official's token,
    give ``insufficient_scope``. Refusals of a token whose session ended are audited (by
    the validator), since the token may have been stolen.
    """
    from oauth2_provider.settings import oauth2_settings

    token = str(token or "").strip()
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        return BearerCheck(error=INVALID_TOKEN, description="The access token is invalid.")
    validator = oauth2_settings.OAUTH2_VALIDATOR_CLASS()
    request = OAuthRequest("")
    if not validator.validate_bearer_token(token, [scope], request):
        error = getattr(request, "oauth2_error", None) or {}
        return BearerCheck(error=str(error.get("error") or INVALID_TOKEN),
                           description=str(error.get("error_description") or
                                           "The access token is invalid."))
    access_token = request.access_token
    client_id = access_token.application.client_id if access_token.application else ""
    user = access_token.user
    if user is None:
        # A client's own token (client credentials): no person to act for.
        return BearerCheck(error=INSUFFICIENT_SCOPE, client_id=client_id,
                           description="The access token does not belong to a person.")
    if user.account_type == AccountType.OFFICIAL:
        return BearerCheck(error=INSUFFICIENT_SCOPE, client_id=client_id,
                           description="This API takes tokens of citizens and enterprises, "
                                       "not of officials.")
    return BearerCheck(user=user, client_id=client_id)


def user_for_bearer(token: str, *, scope: str) -> Any:
    """The account an access token acts for, when it is valid for ``scope`` (see
    :func:`check_bearer`); ``None`` otherwise."""
    return check_bearer(token, scope=scope).user
