"""yiwang's OAuth 2.0 / OpenID Connect request validator (django-oauth-toolkit's, extended).

What it adds to DOT's validator:

- the identity-provider session: the authorize view hands it over with the request; the
  code, the refresh-token family and every token then lead back to it (:class:`Authorization`),
  and a token of an ended session (or a deactivated account) is refused everywhere;
- ID tokens signed with the rotating keys of :mod:`keys` (``kid`` in the header) carrying
  ``acr``, ``amr``, ``auth_time`` and ``sid`` of that session, and the claims of the granted
  scopes (:mod:`claims`), pairwise subjects included; no ID-token rows are stored;
- scopes limited to those the relying party may ask for (unknown ones are ignored, as
  OpenID Connect asks), only ``response_type=code``;
- security events in the audit log: client authentication failures, replayed codes and
  refresh tokens, codes exchanged for tokens.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from datetime import timedelta
from typing import Any

from django.db import connection
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_grant_model,
    get_refresh_token_model,
    refresh_token_expire_timedelta,
)
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings
from oauthlib.oauth2.rfc6749 import errors

from yiwang.core.audit import service as audit
from yiwang.support.identity import assurance
from yiwang.support.identity.oidc import claims, keys, lookups, scopes, tokens
from yiwang.support.identity.oidc.models import Authorization, RelyingParty
from yiwang.support.identity.sessions import hash_token

AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()
Grant = get_grant_model()


def _client_id_of(request: Any) -> str:
    client = getattr(request, "client", None)
    found = getattr(client, "client_id", None) or getattr(request, "client_id", None) or ""
    return "".join(ch for ch in str(found) if ch >= " ")[:100]  # no NUL into the audit log


def _invalid_token(request: Any, description: str) -> bool:
    request.oauth2_error = OrderedDict([("error", "invalid_token"),
                                        ("error_description", description)])
    return False


class YiwangValidator(OAuth2Validator):
    """DOT's validator bound to yiwang's sessions, keys, claims and audit log."""

    oidc_claim_scope = None  # claims are chosen per scope in claims.user_claims

    # --- Clients -------------------------------------------------------------------------

    def _load_application(self, client_id: str, request: Any) -> Any:
        # DOT's, with a cheaper read (see lookups.py); Client ID Metadata Documents, which
        # yiwang does not enable, are not looked for.
        cached = request.client
        if isinstance(cached, RelyingParty) and cached.client_id == client_id \
                and cached.is_usable(request):
            return cached
        request.client = None
        if not client_id or "\x00" in str(client_id):  # PostgreSQL refuses NUL in text
            return None
        found = lookups.relying_party(str(client_id))
        if found is None or not found.is_usable(request):
            return None
        request.client = found
        return found

    def authenticate_client(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        if super().authenticate_client(request, *args, **kwargs):
            return True
        self._audit_client_failure(request, "invalid_client_secret")
        return False

    def authenticate_client_id(self, client_id: str, request: Any, *args: Any,
                               **kwargs: Any) -> bool:
        if super().authenticate_client_id(client_id, request, *args, **kwargs):
            return True
        self._audit_client_failure(request, "unknown_or_confidential_client")
        return False

    def _audit_client_failure(self, request: Any, reason: str) -> None:
        client_id = _client_id_of(request)
        if not client_id:
            auth = self._extract_basic_auth(request)
            client_id = "(basic)" if auth else ""
        audit.record("oidc.client_auth_failed", ("oidc.relyingparty", client_id), actor=None,
                     detail={"reason": reason, "grant_type": str(request.grant_type or "")})

    def validate_response_type(self, client_id: str, response_type: str, client: Any,
                               request: Any, *args: Any, **kwargs: Any) -> bool:
        # Authorization code only: no implicit or hybrid flows (tokens in URLs).
        return response_type == "code" and bool(
            client.allows_grant_type(client.GRANT_AUTHORIZATION_CODE))

    def validate_scopes(self, client_id: str, requested: list[str], client: Any, request: Any,
                        *args: Any, **kwargs: Any) -> bool:
        """Keep the scopes the relying party may ask for; ignore the others (OpenID
        Connect Core 3.1.2.1: scope values not understood SHOULD be ignored)."""
        allowed = set(client.allowed_scopes.split())
        kept = [s for s in scopes.normalise(requested) if s in allowed]
        if scopes.OPENID in requested and scopes.OPENID not in kept:
            kept.insert(0, scopes.OPENID)  # signing in is always allowed
        request.scopes = kept
        return bool(kept)

    def get_default_scopes(self, client_id: str, request: Any, *args: Any,
                           **kwargs: Any) -> list[str]:
        return [scopes.OPENID]

    # --- prompt=none: the authorize view has already checked login and consent ---------

    def validate_silent_login(self, request: Any) -> bool:
        return True

    def validate_silent_authorization(self, request: Any) -> bool:
        return True

    # --- Authorization codes -------------------------------------------------------------

    def save_authorization_code(self, client_id: str, code: dict[str, str], request: Any,
                                *args: Any, **kwargs: Any) -> None:
        session = getattr(request, "yiwang_session", None)
        if session is None:  # only the authorize view issues codes, always with a session
            raise errors.ServerError(description="no identity-provider session", request=request)
        super().save_authorization_code(client_id, code, request, *args, **kwargs)
        Authorization.objects.create(
            code_hash=hash_token(code["code"]), session=session, application=request.client,
            user=request.user, acr=session.acr, amr=list(session.amr or []),
            auth_time=session.auth_time)

    def _grant(self, code: str, request: Any) -> Any:
        cached = getattr(request, "_yiwang_grant", None)
        if cached is not None and cached.code == code:
            return cached
        return Grant.objects.get(code=code, application=request.client)

    def validate_code(self, client_id: str, code: str, client: Any, request: Any,
                      *args: Any, **kwargs: Any) -> bool:
        grant = Grant.objects.filter(code=code, application=client).first()
        if grant is None or grant.is_expired():
            self._check_code_replay(code, client, request)
            return False
        authorization = (Authorization.objects.select_related("session", "user")
                         .filter(code_hash=hash_token(code), application=client).first())
        if authorization is None or not authorization.live or not authorization.user.is_active:
            request.yiwang_refusal = "session_ended"
            return False
        request.scopes = grant.scope.split()
        request.user = authorization.user
        if grant.nonce:
            request.nonce = grant.nonce
        request._yiwang_grant = grant
        request.yiwang_authorization = authorization
        return True

    def _check_code_replay(self, code: str, client: Any, request: Any) -> None:
        """A used code presented again: revoke what it gave (RFC 6749 section 4.1.2)."""
        used = (Authorization.objects.filter(code_hash=hash_token(code), application=client,
                                             code_used_at__isnull=False).first())
        if used is None:
            return
        request.yiwang_refusal = "code_reused"
        count = tokens.revoke_authorization(used)
        audit.record("oidc.code_reused", client, actor=None,
                     detail={"client_id": client.client_id, "user": used.user_id,
                             "tokens_revoked": count})

    def get_code_challenge(self, code: str, request: Any) -> str | None:
        return self._grant(code, request).code_challenge or None

    def get_code_challenge_method(self, code: str, request: Any) -> str | None:
        request.yiwang_pkce_checked = True  # the verifier is compared right after this
        return self._grant(code, request).code_challenge_method or None

    def confirm_redirect_uri(self, client_id: str, code: str, redirect_uri: str, client: Any,
                             *args: Any, **kwargs: Any) -> bool:
        request = kwargs.get("request") or (args[0] if args else None)
        grant = (self._grant(code, request) if request is not None
                 else Grant.objects.get(code=code, application=client))
        return bool(grant.redirect_uri_allowed(redirect_uri))

    def get_authorization_code_nonce(self, client_id: str, code: str, redirect_uri: str,
                                     request: Any) -> str | None:
        return self._grant(code, request).nonce or None

    def invalidate_authorization_code(self, client_id: str, code: str, request: Any,
                                      *args: Any, **kwargs: Any) -> None:
        super().invalidate_authorization_code(client_id, code, request, *args, **kwargs)
        Authorization.objects.filter(code_hash=hash_token(code)).update(
            code_used_at=timezone.now())

    # --- Tokens --------------------------------------------------------------------------

    def _create_access_token(self, expires: Any, request: Any, token: dict[str, Any],
                             source_refresh_token: Any = None) -> Any:
        # DOT re-reads and verifies the ID token here to link an IDToken row; yiwang keeps
        # no ID-token rows (logout hints are verified by signature), which saves both.
        access_token = AccessToken(
            user=request.user, scope=token["scope"], expires=expires,
            application=request.client, source_refresh_token=source_refresh_token,
            resource=getattr(request, "resource", []))
        self._set_token_value(access_token, token["access_token"])
        return lookups.insert(access_token)

    def _create_refresh_token(self, request: Any, refresh_token_code: str, access_token: Any,
                              previous_refresh_token: Any) -> Any:
        if previous_refresh_token:
            family = previous_refresh_token.token_family
        else:
            authorization = getattr(request, "yiwang_authorization", None)
            family = authorization.family if authorization is not None else uuid.uuid4()
        refresh_token = RefreshToken(
            user=request.user, application=request.client, access_token=access_token,
            token_family=family, resource=getattr(request, "resource", []))
        self._set_token_value(refresh_token, refresh_token_code)
        return lookups.insert(refresh_token)

    def _save_bearer_token(self, token: dict[str, Any], request: Any, *args: Any,
                           **kwargs: Any) -> Any:
        previous = getattr(request, "refresh_token_instance", None)
        if (request.grant_type != "refresh_token" or previous is None
                or not token.get("refresh_token") or "scope" not in token):
            return super()._save_bearer_token(token, request, *args, **kwargs)
        return self._rotate(token, request, previous)

    def _rotate(self, token: dict[str, Any], request: Any, previous: Any) -> Any:
        """Refresh-token rotation in four statements (DOT's general path takes a dozen).

        The old refresh token is revoked by a conditional UPDATE, which is also the lock:
        of two requests presenting it at once only one changes the row, and the other is
        refused like any reused token. Its access token is deleted; the new pair is stored
        in the same family. (Runs inside DOT's save_bearer_token transaction.)
        """
        self._check_and_set_request_resource(request)
        now = timezone.now()
        quote = connection.ops.quote_name
        stamp = RefreshToken._meta.get_field("revoked").get_db_prep_value(now, connection)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {quote(RefreshToken._meta.db_table)} SET {quote('revoked')} = %s, "  # noqa: S608
                f"{quote('updated')} = %s, {quote('access_token_id')} = NULL "
                f"WHERE {quote('id')} = %s AND {quote('revoked')} IS NULL",
                [stamp, stamp, previous.pk])
            if cursor.rowcount != 1:
                raise errors.InvalidGrantError(description="Refresh token already used.",
                                               request=request)
            if previous.access_token_id:  # its one referrer was cleared just above
                cursor.execute(f"DELETE FROM {quote(AccessToken._meta.db_table)} "  # noqa: S608
                               f"WHERE {quote('id')} = %s", [previous.access_token_id])
        expires = now + timedelta(seconds=token.get("expires_in",
                                                    oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS))
        access_token = self._create_access_token(expires, request, token,
                                                 source_refresh_token=previous)
        request.refresh_token_instance = None
        return self._create_refresh_token(request, token["refresh_token"], access_token,
                                          previous)

    def save_bearer_token(self, token: dict[str, Any], request: Any, *args: Any,
                          **kwargs: Any) -> Any:
        result = super().save_bearer_token(token, request, *args, **kwargs)
        authorization = getattr(request, "yiwang_authorization", None)
        if request.grant_type == "authorization_code" and authorization is not None:
            tokens.record_session_client(authorization.session, request.client)
            audit.record("oidc.token_granted", request.client, actor=request.user,
                         detail={"client_id": request.client.client_id,
                                 "scopes": token.get("scope", ""),
                                 "acr": assurance.acr_name(authorization.acr),
                                 "session": authorization.session_id})
        return result

    def validate_refresh_token(self, refresh_token: str, client: Any, request: Any,
                               *args: Any, **kwargs: Any) -> bool:
        rt = lookups.refresh_token(hash_token(refresh_token))
        if rt is None or rt.application_id != client.pk:
            return False
        now = timezone.now()
        if rt.revoked is not None:
            # A revoked refresh token presented again. yiwang allows no grace period: if its
            # family was still live, the token was rotated and someone else holds a copy
            # (RFC 9700 section 4.14.2). Either way the whole family is revoked.
            if rt.token_family:
                live = Authorization.objects.filter(family=rt.token_family,
                                                    revoked_at__isnull=True,
                                                    session__ended_at__isnull=True)
                if live.update(revoked_at=now):
                    audit.record("oidc.refresh_token_reused", client, actor=None,
                                 detail={"client_id": client.client_id, "user": rt.user_id})
                RefreshToken.revoke_family(rt.token_family)
            return False
        if rt.access_token is None:
            return False
        lifetime = refresh_token_expire_timedelta()
        if lifetime and rt.access_token.expires + lifetime <= now:
            return False
        if not rt.user.is_active:
            self._refused_for_session(request, rt.user, "refresh_token", "account_inactive")
            return False
        authorization = tokens.authorization_of_refresh_token(rt)
        if authorization is None or not authorization.live:
            self._refused_for_session(request, rt.user, "refresh_token", "session_ended")
            return False
        request.user = rt.user
        request.refresh_token = refresh_token
        request.refresh_token_instance = rt
        request.yiwang_authorization = authorization
        return True

    def _load_access_token(self, token: str) -> Any:
        return lookups.access_token(hash_token(token))

    def validate_bearer_token(self, token: str, scopes_needed: list[str], request: Any) -> bool:
        if not super().validate_bearer_token(token, scopes_needed, request):
            return False
        access_token = request.access_token
        if access_token.user_id is None:
            if scopes.OPENID in (scopes_needed or []):  # no person behind a client's own token
                return _invalid_token(request, "The access token does not belong to a person.")
            return True
        if not access_token.user.is_active:
            self._refused_for_session(request, access_token.user, "access_token",
                                      "account_inactive")
            return _invalid_token(request, "The account is no longer active.")
        authorization = tokens.authorization_of_access_token(access_token)
        if authorization is None or not authorization.live:
            self._refused_for_session(request, access_token.user, "access_token",
                                      "session_ended")
            return _invalid_token(request, "The session this token belongs to has ended.")
        request.yiwang_authorization = authorization
        return True

    def revoke_token(self, token: str, token_type_hint: str | None, request: Any,
                     *args: Any, **kwargs: Any) -> None:
        super().revoke_token(token, token_type_hint, request, *args, **kwargs)
        audit.record("oidc.token_revoked", request.client, actor=None,
                     detail={"client_id": _client_id_of(request),
                             "hint": str(token_type_hint or "")[:20]})

    # --- ID tokens and userinfo ----------------------------------------------------------

    def refresh_id_token(self, request: Any) -> bool:
        return True

    def finalize_id_token(self, id_token: dict[str, Any], token: dict[str, Any],
                          token_handler: Any, request: Any) -> str:
        authorization: Authorization = request.yiwang_authorization
        now = int(time.time())
        payload = dict(id_token)  # aud, iat, nonce, at_hash from oauthlib
        payload.update(claims.user_claims(request.user, request.client, request.scopes,
                                          session=authorization.session))
        payload.update({
            "iss": tokens.issuer(),
            "aud": request.client.client_id,
            "azp": request.client.client_id,
            "iat": now,
            "exp": now + int(oauth2_settings.ID_TOKEN_EXPIRE_SECONDS),
            "auth_time": int(authorization.auth_time.timestamp()),
            "acr": assurance.acr_name(authorization.acr),
            "amr": list(authorization.amr or []),
            "sid": authorization.session.sid,
            "jti": uuid.uuid4().hex,
        })
        if request.grant_type == "authorization_code" and "nonce" not in payload and request.nonce:
            payload["nonce"] = request.nonce
        return keys.sign(payload)

    def get_userinfo_claims(self, request: Any) -> dict[str, Any]:
        authorization = getattr(request, "yiwang_authorization", None)
        return claims.user_claims(request.user, request.client, request.scopes,
                                  session=authorization.session if authorization else None)

    def get_oidc_issuer_endpoint(self, request: Any) -> str:
        return tokens.issuer()

    def get_discovery_claims(self, request: Any) -> list[str]:
        return scopes.all_claims()

    # --- Refusals at the token endpoint (called by the server, see server.py) ------------

    def _refused_for_session(self, request: Any, user: Any, token_type: str,
                             reason: str) -> None:
        """A token that outlived its sign-in (session ended, account deactivated) was
        presented: refused, and recorded, since it may be a stolen token being tried."""
        audit.record("oidc.token_refused", user, actor=None,
                     detail={"client_id": _client_id_of(request), "token_type": token_type,
                             "reason": reason})

    def audit_token_refusal(self, request: Any, error: errors.OAuth2Error) -> None:
        """Record a refused token request that matters (codes and PKCE, not expiry)."""
        grant_type = str(request.grant_type or "")
        if isinstance(error, errors.InvalidClientError) or grant_type == "refresh_token":
            return  # client failures are recorded where they happen; reuse is, too
        reason = getattr(request, "yiwang_refusal", "") or error.error
        if grant_type == "authorization_code" and getattr(request, "yiwang_pkce_checked", False) \
                and isinstance(error, errors.InvalidGrantError) and reason == "invalid_grant":
            reason = "pkce_verifier_mismatch"
        elif isinstance(error, errors.MissingCodeVerifierError):
            reason = "pkce_verifier_missing"
        if reason == "code_reused":
            return  # recorded with the revocation
        action = "oidc.pkce_failed" if reason.startswith("pkce_") else "oidc.token_refused"
        client = getattr(request, "client", None)
        target = client if client is not None else ("oidc.relyingparty", _client_id_of(request))
        audit.record(action, target, actor=None,
                     detail={"client_id": _client_id_of(request), "grant_type": grant_type,
                             "error": error.error, "reason": reason})

