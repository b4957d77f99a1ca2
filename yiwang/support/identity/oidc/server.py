"""The oauthlib server yiwang runs: PKCE with S256 only (never ``plain``), refusals audited."""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Callable
from typing import Any

from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc6749.grant_types.authorization_code import code_challenge_method_s256
from oauthlib.openid import Server


def random_token(request: Any, refresh_token: bool = False) -> str:
    """An access or refresh token: 256 bits from the operating system in one call (oauthlib
    draws each of its 30 characters separately, which shows on the token benchmarks)."""
    return secrets.token_urlsafe(32)


def _audited(validate: Callable[[Any], None], validator: Any) -> Callable[[Any], None]:
    @functools.wraps(validate)
    def validate_token_request(request: Any) -> None:
        try:
            validate(request)
        except errors.OAuth2Error as error:
            audit = getattr(validator, "audit_token_refusal", None)
            if audit is not None:
                audit(request, error)
            raise

    return validate_token_request


_CHALLENGE = re.compile(r"[A-Za-z0-9._~-]{43,128}")


def check_request_shape(request: Any) -> dict[str, Any]:
    """A pre-authorization check: values that would not fit where they are kept are refused
    with ``invalid_request`` here, not a database error later (RFC 7636 section 4.2 gives
    the challenge's alphabet and length; nonce and state are kept to 255 characters)."""
    challenge = request.code_challenge
    if challenge is not None and not _CHALLENGE.fullmatch(str(challenge)):
        raise errors.InvalidRequestError(
            description="code_challenge must be 43-128 characters of [A-Za-z0-9-._~]",
            request=request)
    for name in ("nonce", "state"):
        value = getattr(request, name, None)
        if value is not None and (len(str(value)) > 255 or "\x00" in str(value)):
            raise errors.InvalidRequestError(description=f"{name} is too long or invalid",
                                             request=request)
    return {}


class S256OnlyServer(Server):
    """oauthlib's OpenID Connect server with only the ``S256`` PKCE method.

    A request with ``code_challenge_method=plain`` (or with a challenge and no method, which
    means ``plain``) is refused with ``invalid_request``. Each grant gets its own method
    table, so oauthlib's class-level table is left alone. Refused token requests are handed
    to the validator's ``audit_token_refusal``.
    """

    def __init__(self, request_validator: Any, *args: Any, **kwargs: Any) -> None:
        kwargs["token_generator"] = kwargs.get("token_generator") or random_token
        kwargs["refresh_token_generator"] = kwargs.get("refresh_token_generator") or random_token
        super().__init__(request_validator, *args, **kwargs)
        code_grants = [self.auth_grant, self.openid_connect_auth.proxy_target,
                       self.openid_connect_hybrid.proxy_target]
        for grant in code_grants:
            grant._code_challenge_methods = {"S256": code_challenge_method_s256}
            grant.custom_validators.pre_auth.append(check_request_shape)
        for grant in (*code_grants, self.refresh_grant.proxy_target, self.credentials_grant):
            grant.validate_token_request = _audited(grant.validate_token_request,
                                                    request_validator)
