"""Authorization requests with values that cannot be kept are refused, not a 500."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from yiwang.support.identity.oidc.tests.conftest import REDIRECT

pytestmark = pytest.mark.django_db


def _authorize(client, rp, **overrides):  # type: ignore[no-untyped-def]
    params = {"response_type": "code", "client_id": rp.client_id, "scope": "openid",
              "redirect_uri": REDIRECT, "state": "s", "nonce": "n",
              "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
              "code_challenge_method": "S256", **overrides}
    return client.get("/oidc/authorize/", params)


@pytest.mark.parametrize("overrides", [
    {"code_challenge": "a" * 200},
    {"code_challenge": "short"},
    {"code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c!"},
    {"nonce": "n" * 300},
])
def test_malformed_values_get_invalid_request(signed_in, rp, overrides) -> None:
    response = _authorize(signed_in, rp, **overrides)
    assert response.status_code == 302
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["error"] == ["invalid_request"]


def test_an_http_client_told_about_plain_pkce_gets_the_error_redirect(signed_in) -> None:
    """Found by a tester: an http:// relying party (allowed outside production) asking for
    ``plain`` got a bare 400 instead of the error sent back to it."""
    from yiwang.support.identity.oidc.relying_parties import register_relying_party

    rp, _secret = register_relying_party(
        name="本地应用", client_type="confidential", redirect_uris="http://127.0.0.1:8100/cb",
        actor=None)
    response = signed_in.get("/oidc/authorize/", {
        "response_type": "code", "client_id": rp.client_id, "scope": "openid",
        "redirect_uri": "http://127.0.0.1:8100/cb", "state": "s",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "plain"})
    assert response.status_code == 302
    assert response["Location"].startswith("http://127.0.0.1:8100/cb?")
    assert "error=invalid_request" in response["Location"]
