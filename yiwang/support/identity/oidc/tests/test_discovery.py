"""Discovery metadata and the JWKS endpoint."""

from __future__ import annotations

import pytest
from django.urls import resolve

from yiwang.support.identity.oidc import scopes

pytestmark = pytest.mark.django_db

CLAIMS = ["sub", "name", "preferred_username", "account_type", "id_number_masked", "level",
          "real_name_verified", "phone_number_masked", "phone_number_verified", "act_for",
          "department", "positions", "acr", "amr", "auth_time", "sid", "nonce", "iss", "aud"]


def test_discovery_document(public_client, settings):
    response = public_client.get("/.well-known/openid-configuration")
    assert response.status_code == 200
    doc = response.json()
    issuer = settings.YIWANG_OIDC_ISSUER.rstrip("/")
    assert doc["issuer"] == issuer
    expected = {"authorization_endpoint": "/oidc/authorize/", "token_endpoint": "/oidc/token/",
                "userinfo_endpoint": "/oidc/userinfo/", "jwks_uri": "/oidc/jwks/",
                "end_session_endpoint": "/oidc/logout/", "revocation_endpoint": "/oidc/revoke/",
                "introspection_endpoint": "/oidc/introspect/"}
    for key, path in expected.items():
        assert doc[key] == issuer + path
        resolve(path, urlconf="yiwang.urls.public")  # the endpoint exists
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["acr_values_supported"] == ["L1", "L2", "L3"]
    assert doc["subject_types_supported"] == ["public", "pairwise"]
    assert doc["backchannel_logout_supported"] is True
    assert doc["backchannel_logout_session_supported"] is True
    assert doc["response_types_supported"] == ["code"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert set(doc["scopes_supported"]) == set(settings.OIDC_SCOPES) | set(scopes.API_SCOPES)
    assert set(CLAIMS) <= set(doc["claims_supported"])
    assert "client_credentials" in doc["grant_types_supported"]


def test_every_claim_any_scope_gives_is_advertised(public_client):
    doc = public_client.get("/.well-known/openid-configuration").json()
    for names in scopes.CLAIMS_BY_SCOPE.values():
        assert set(names) <= set(doc["claims_supported"])


def test_jwks_endpoint(public_client):
    response = public_client.get("/oidc/jwks/")
    assert response.status_code == 200
    assert "max-age" in response["Cache-Control"]
    published = response.json()["keys"]
    assert len(published) == 2
    assert all(k["kid"] and k["alg"] == "RS256" and "d" not in k for k in published)


def test_the_provider_is_not_on_the_internal_listener(internal_client):
    assert internal_client.get("/.well-known/openid-configuration").status_code == 404
    assert internal_client.get("/oidc/jwks/").status_code == 404
