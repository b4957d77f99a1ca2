"""Access tokens for other apps' tests, obtained the way a real client gets them: a person
signed in on the public listener, the authorization-code flow with PKCE (consenting to what
is asked), the code exchanged at the token endpoint. Re-exported by
``yiwang.support.identity.testing``."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from django.conf import settings

REDIRECT_URI = "https://app.example.org/callback"


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    scope: str
    expires_in: int
    client_id: str


def api_client(*, scopes: str = "openid applications", actor: Any = None) -> Any:
    """A registered public client (a mobile app: PKCE, no secret) allowed ``scopes``."""
    from yiwang.support.identity.oidc.relying_parties import register_relying_party

    rp, _secret = register_relying_party(
        name="移动端测试应用", client_type="public", redirect_uris=REDIRECT_URI,
        allowed_scopes=scopes, actor=actor)
    return rp


def issue_tokens(user: Any, *, scope: str = "openid applications", rp: Any = None,
                 amr: tuple[str, ...] = ("pwd", "otp")) -> IssuedTokens:
    """Tokens for ``user`` from the provider's own endpoints (see the module docstring).

    ``rp`` defaults to a new public client allowed ``scope``."""
    from yiwang.platform.zones.testing import ListenerClient
    from yiwang.support.identity.testing import sign_in_client

    rp = rp or api_client(scopes=scope)
    browser = ListenerClient(settings.YIWANG_PUBLIC_PORT)
    sign_in_client(browser, user, amr=amr)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state = secrets.token_urlsafe(8)
    params = {"response_type": "code", "client_id": rp.client_id,
              "redirect_uri": REDIRECT_URI, "scope": scope, "state": state,
              "nonce": secrets.token_urlsafe(8), "code_challenge": challenge,
              "code_challenge_method": "S256"}
    response = browser.get("/oidc/authorize/?" + urlencode(params))
    if response.status_code == 200 and b"consent_scope" in response.content:
        response = browser.post(response.wsgi_request.get_full_path(),
                                {"decision": "allow", "consent_scope": scope.split()})
    if response.status_code != 302:
        raise AssertionError(f"authorization failed: {response.status_code} "
                             f"{response.content[:300]!r}")
    query = {k: v[0] for k, v in parse_qs(urlsplit(response["Location"]).query).items()}
    if query.get("state") != state or "code" not in query:
        raise AssertionError(f"no code in the redirect: {query}")
    response = browser.post("/oidc/token/", {
        "grant_type": "authorization_code", "code": query["code"],
        "redirect_uri": REDIRECT_URI, "client_id": rp.client_id, "code_verifier": verifier})
    if response.status_code != 200:
        raise AssertionError(f"token request failed: {response.content[:300]!r}")
    body = response.json()
    return IssuedTokens(access_token=body["access_token"],
                        refresh_token=body.get("refresh_token", ""),
                        scope=body.get("scope", ""), expires_in=int(body["expires_in"]),
                        client_id=rp.client_id)


def bearer_token(user: Any, *, scope: str = "openid applications", rp: Any = None) -> str:
    """Just the access token of :func:`issue_tokens`."""
    return issue_tokens(user, scope=scope, rp=rp).access_token
