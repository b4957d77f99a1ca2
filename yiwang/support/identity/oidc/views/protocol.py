"""Protocol endpoints: discovery, JWKS, token, userinfo, revocation, introspection."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from oauth2_provider.views import RevokeTokenView, TokenView, UserInfoView
from oauth2_provider.views.mixins import OAuthLibMixin
from oauthlib.common import Request as OauthlibRequest

from yiwang.support.identity.assurance import ACR_VALUES
from yiwang.support.identity.oidc import keys, scopes, tokens
from yiwang.support.identity.oidc.models import RelyingParty

PUBLIC_URLCONF = "yiwang.urls.public"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def endpoint(name: str) -> str:
    """The absolute URL of one of the provider's endpoints, under the issuer."""
    return tokens.issuer() + reverse(f"oidc:{name}", urlconf=PUBLIC_URLCONF)


def configuration() -> dict[str, Any]:
    """The OpenID Provider metadata (OpenID Connect Discovery 1.0, RFC 8414)."""
    client_auth = ["client_secret_basic", "client_secret_post"]
    return {
        "issuer": tokens.issuer(),
        "authorization_endpoint": endpoint("authorize"),
        "token_endpoint": endpoint("token"),
        "userinfo_endpoint": endpoint("userinfo"),
        "jwks_uri": endpoint("jwks"),
        "end_session_endpoint": endpoint("logout"),
        "revocation_endpoint": endpoint("revoke"),
        "introspection_endpoint": endpoint("introspect"),
        "scopes_supported": scopes.known(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": [keys.ALGORITHM],
        "token_endpoint_auth_methods_supported": [*client_auth, "none"],
        "revocation_endpoint_auth_methods_supported": [*client_auth, "none"],
        "introspection_endpoint_auth_methods_supported": client_auth,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": scopes.all_claims(),
        "claim_types_supported": ["normal"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "acr_values_supported": list(ACR_VALUES),
        "prompt_values_supported": ["none", "login", "consent"],
        "ui_locales_supported": ["zh-Hans", "en"],
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": False,
        "authorization_response_iss_parameter_supported": True,
    }


@require_GET
def discovery(request: HttpRequest) -> HttpResponse:
    """/.well-known/openid-configuration"""
    response = JsonResponse(configuration())
    response["Cache-Control"] = "public, max-age=3600"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def jwks(request: HttpRequest) -> HttpResponse:
    """/oidc/jwks/: the published signing keys."""
    response = JsonResponse(keys.jwks())
    response["Cache-Control"] = f"public, max-age={keys.JWKS_MAX_AGE_SECONDS}"
    response["Access-Control-Allow-Origin"] = "*"
    return response


class TokenEndpoint(TokenView):
    """/oidc/token/. DOT's, without the extra read of the new access token it does for its
    ``app_authorized`` signal (yiwang audits grants in the validator instead)."""

    def authorization_flow_token_response(self, request: HttpRequest, *args: Any,
                                          **kwargs: Any) -> HttpResponse:
        _url, headers, body, status = self.create_token_response(request)
        response = HttpResponse(content=body, status=status, content_type="application/json")
        for key, value in headers.items():
            response[key] = value
        return response


class UserInfoEndpoint(UserInfoView):
    """/oidc/userinfo/ (GET or POST with a bearer access token)."""

    def _create_userinfo_response(self, request: HttpRequest) -> HttpResponse:
        response = super()._create_userinfo_response(request)
        for key, value in NO_STORE.items():
            response[key] = value
        return response


class RevokeEndpoint(RevokeTokenView):
    """/oidc/revoke/ (RFC 7009)."""


def _unauthorized_client() -> HttpResponse:
    response = JsonResponse({"error": "invalid_client"}, status=401)
    response["WWW-Authenticate"] = 'Basic realm="yiwang"'
    return response


@csrf_exempt
@require_POST
def introspect(request: HttpRequest) -> HttpResponse:
    """/oidc/introspect/ (RFC 7662): confidential clients authenticate as at the token
    endpoint; a client may introspect its own tokens (yiwang's own clients any)."""
    core = OAuthLibMixin.get_oauthlib_core()
    uri, method, body, headers = core._extract_params(request)
    oauth_request = OauthlibRequest(uri, method, body, headers)
    validator = core.server.request_validator
    if not validator.authenticate_client(oauth_request):
        return _unauthorized_client()
    caller = oauth_request.client
    if not isinstance(caller, RelyingParty) \
            or caller.client_type != RelyingParty.CLIENT_CONFIDENTIAL:
        return _unauthorized_client()
    token = str(request.POST.get("token", ""))
    if not token:
        return JsonResponse({"error": "invalid_request",
                             "error_description": "token is required"}, status=400)
    info = tokens.introspect(token, str(request.POST.get("token_type_hint", "")), caller)
    return HttpResponse(json.dumps(info), content_type="application/json", headers=NO_STORE)

