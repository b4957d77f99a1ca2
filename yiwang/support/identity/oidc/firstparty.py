"""yiwang's own relying parties in the same process (the workbench): a small OIDC client.

The workbench signs people in the way any other government system does — authorization
code with PKCE against the provider on the public listener — only without HTTP for the
back-channel part: :func:`complete` hands the code to the real token endpoint view in this
process and checks the ID token against the published JWKS, exactly as a remote relying
party would.

Usage in the relying party's views::

    url = firstparty.authorization_url(request, client_id=..., redirect_uri=callback,
                                       acr_values="L3", next_url="/workbench/")
    return HttpResponseRedirect(url)
    ...
    claims = firstparty.complete(request, client_id=..., redirect_uri=callback)
    # claims["sub"], claims["sid"], claims["acr"], claims["amr"], claims["next_url"]

:func:`complete` raises :class:`SignInError` (with an OAuth ``error`` code) when the
provider refused, the ``state`` is unknown, or the ID token does not check out.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, QueryDict
from django.urls import reverse
from jwcrypto import jwk, jwt
from jwcrypto.common import JWException

from yiwang.support.identity.oidc import keys, tokens

SESSION_KEY = "yiwang_oidc_pending"
PENDING_MAX = 5  # authorization requests a browser may have open at once
PENDING_SECONDS = 15 * 60
PUBLIC_URLCONF = "yiwang.urls.public"
CLOCK_LEEWAY = 60


class SignInError(Exception):
    """Signing in through the provider did not succeed."""

    def __init__(self, error: str, description: str = "") -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def authorization_url(request: HttpRequest, *, client_id: str, redirect_uri: str,
                      acr_values: str = "", next_url: str = "/", scope: str = "openid profile",
                      prompt: str = "", ui_locales: str = "") -> str:
    """Start signing in: remember state, nonce and PKCE verifier in this browser's session
    and return the provider's authorization URL to redirect the browser to."""
    state = secrets.token_urlsafe(24)
    nonce = secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(48)
    challenge = _b64url(hashlib.sha256(verifier.encode()).digest())
    pending = dict(request.session.get(SESSION_KEY, {}))
    now = time.time()
    pending = {k: v for k, v in pending.items() if now - float(v.get("at", 0)) < PENDING_SECONDS}
    while len(pending) >= PENDING_MAX:
        pending.pop(min(pending, key=lambda k: float(pending[k].get("at", 0))))
    pending[state] = {"nonce": nonce, "verifier": verifier, "next": next_url,
                      "client_id": client_id, "redirect_uri": redirect_uri, "at": now}
    request.session[SESSION_KEY] = pending
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
              "scope": scope, "state": state, "nonce": nonce, "code_challenge": challenge,
              "code_challenge_method": "S256"}
    for name, value in (("acr_values", acr_values), ("prompt", prompt),
                        ("ui_locales", ui_locales)):
        if value:
            params[name] = value
    path = reverse("oidc:authorize", urlconf=PUBLIC_URLCONF)
    return f"{tokens.issuer()}{path}?{urlencode(params)}"


def _token_request(*, code: str, verifier: str, client_id: str, redirect_uri: str,
                   client_secret: str | None) -> dict[str, Any]:
    """POST to the token endpoint view in this process; the parsed JSON answer."""
    from yiwang.support.identity.oidc.views.protocol import TokenEndpoint

    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "client_id": client_id, "code_verifier": verifier}
    if client_secret:
        form["client_secret"] = client_secret
    issuer = tokens.issuer()
    secure = issuer.startswith("https://")
    host = issuer.split("://", 1)[-1].split("/", 1)[0]
    request = HttpRequest()
    request.method = "POST"
    request.path = request.path_info = reverse("oidc:token", urlconf=PUBLIC_URLCONF)
    request.POST = QueryDict(urlencode(form))
    request.META = {
        "REQUEST_METHOD": "POST", "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "SERVER_NAME": host.rsplit(":", 1)[0], "SERVER_PORT": host.rsplit(":", 1)[-1]
        if ":" in host else ("443" if secure else "80"), "HTTP_HOST": host,
        "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "https" if secure else "http",
    }
    request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]
    response = TokenEndpoint.as_view()(request)
    try:
        body = json.loads(response.content)
    except ValueError:
        raise SignInError("server_error", "the token endpoint did not answer JSON") from None
    if response.status_code != 200:
        raise SignInError(str(body.get("error", "server_error")),
                          str(body.get("error_description", "")))
    return dict(body)


def verify_id_token(id_token: str, *, client_id: str, nonce: str | None) -> dict[str, Any]:
    """Check an ID token as a relying party must (OpenID Connect Core 3.1.3.7): signature
    against the published JWKS, issuer, audience, expiry, nonce. Returns its claims."""
    keyset = jwk.JWKSet.from_json(json.dumps(keys.jwks()))
    try:
        parsed = jwt.JWT(jwt=id_token, key=keyset, algs=[keys.ALGORITHM],
                         expected_type="JWS",  # exp is checked with a minute's leeway
                         check_claims={"iss": tokens.issuer(), "exp": None})
        found = json.loads(parsed.claims)
    except (JWException, ValueError, TypeError) as exc:
        raise SignInError("invalid_id_token", type(exc).__name__) from None
    audience = found.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if client_id not in audiences or (len(audiences) > 1 and found.get("azp") != client_id):
        raise SignInError("invalid_id_token", "audience")
    if nonce is not None and found.get("nonce") != nonce:
        raise SignInError("invalid_id_token", "nonce")
    if int(found.get("iat", 0)) > time.time() + CLOCK_LEEWAY:
        raise SignInError("invalid_id_token", "issued in the future")
    return dict(found)


def complete(request: HttpRequest, *, client_id: str, redirect_uri: str,
             client_secret: str | None = None) -> dict[str, Any]:
    """Finish signing in on the callback request: check ``state``, exchange the code at
    the token endpoint (in process), verify the ID token against the JWKS.

    Returns the ID token's claims (``sub``, ``sid``, ``acr``, ``amr``, ``auth_time`` and
    the claims of the scopes) plus ``next_url``, the address given to
    :func:`authorization_url`. Raises :class:`SignInError`.
    """
    params = request.GET
    state = str(params.get("state", ""))
    pending = dict(request.session.get(SESSION_KEY, {}))
    entry = pending.pop(state, None) if state else None
    request.session[SESSION_KEY] = pending
    if entry is None or time.time() - float(entry.get("at", 0)) > PENDING_SECONDS:
        raise SignInError("invalid_state", "unknown or expired sign-in attempt")
    if entry.get("client_id") != client_id or entry.get("redirect_uri") != redirect_uri:
        raise SignInError("invalid_state", "the sign-in attempt was for another client")
    if params.get("error"):
        raise SignInError(str(params["error"]), str(params.get("error_description", "")))
    issuer = params.get("iss")
    if issuer and issuer != tokens.issuer():
        raise SignInError("invalid_issuer", "the response came from another issuer")
    code = str(params.get("code", ""))
    if not code:
        raise SignInError("invalid_request", "no authorization code")
    answer = _token_request(code=code, verifier=str(entry["verifier"]), client_id=client_id,
                            redirect_uri=redirect_uri, client_secret=client_secret)
    id_token = answer.get("id_token")
    if not id_token:
        raise SignInError("invalid_id_token", "no ID token (was openid requested?)")
    found = verify_id_token(str(id_token), client_id=client_id, nonce=str(entry["nonce"]))
    found["next_url"] = entry.get("next") or "/"
    return found
