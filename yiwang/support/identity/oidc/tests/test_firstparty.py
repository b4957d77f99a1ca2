"""The in-process first-party client, as the workbench uses it: the provider on the public
listener (public_client), the relying party's views on the internal one (internal_client)."""

from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

import pytest

from yiwang.platform.zones.service import URLCONFS, Zone
from yiwang.support.identity.models import AccountSession
from yiwang.support.identity.oidc import firstparty, keys
from yiwang.support.identity.oidc.models import RelyingParty, SessionClient
from yiwang.support.identity.oidc.relying_parties import register_relying_party
from yiwang.support.identity.oidc.tests import urls_rp
from yiwang.support.identity.oidc.tests.conftest import query_of
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def workbench(monkeypatch) -> RelyingParty:
    monkeypatch.setitem(URLCONFS, Zone.INTERNAL, "yiwang.support.identity.oidc.tests.urls_rp")
    rp, _none = register_relying_party(name="政务工作台", client_type="public",
                                       redirect_uris=urls_rp.CALLBACK, first_party=True,
                                       allowed_scopes="openid profile official", actor=None,
                                       client_id=urls_rp.CLIENT_ID)
    return rp


def _provider_path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _sign_in(internal_client, public_client, **start: str):
    response = internal_client.get("/rp/start/", start)
    assert response.status_code == 302
    authorize = response["Location"]
    assert authorize.startswith("http://localhost:8000/oidc/authorize/?")
    params = query_of(authorize)
    assert params["code_challenge_method"] == "S256" and params["nonce"] and params["state"]
    response = public_client.get(_provider_path(authorize))
    return response


def test_sign_in_through_the_provider(internal_client, public_client, workbench, citizen):
    sign_in_client(public_client, citizen)
    response = _sign_in(internal_client, public_client)
    callback = response["Location"]
    assert callback.startswith(urls_rp.CALLBACK + "?")
    result = internal_client.get(_provider_path(callback))
    assert result.status_code == 200, result.content
    claims = result.json()
    session = AccountSession.objects.get(user=citizen)
    assert claims["sub"] == str(citizen.pk)
    assert claims["sid"] == session.sid
    assert claims["acr"] == "L3" and "otp" in claims["amr"]
    assert claims["next_url"] == "/after/"
    assert SessionClient.objects.filter(sid=session.sid, application=workbench).exists()
    # The same callback again: the attempt is used up.
    again = internal_client.get(_provider_path(callback))
    assert again.status_code == 400 and again.json()["error"] == "invalid_state"


def test_the_level_the_workbench_asks_for_is_stepped_up(internal_client, public_client,
                                                        workbench, citizen):
    sign_in_client(public_client, citizen, amr=("pwd",))  # L2 only
    response = _sign_in(internal_client, public_client, acr="L3")
    assert urlsplit(response["Location"]).path == "/account/step-up/"
    assert query_of(response["Location"])["level"] == "3"


def test_a_refusal_from_the_provider_is_an_error(internal_client, public_client, workbench):
    response = _sign_in(internal_client, public_client, prompt="none")  # nobody signed in
    assert query_of(response["Location"])["error"] == "login_required"
    result = internal_client.get(_provider_path(response["Location"]))
    assert result.status_code == 400 and result.json()["error"] == "login_required"


def test_an_unknown_state_is_refused(internal_client, workbench):
    result = internal_client.get("/rp/callback/?code=x&state=made-up")
    assert result.json()["error"] == "invalid_state"


def _id_token(**claims) -> str:
    now = int(time.time())
    base = {"iss": firstparty.tokens.issuer(), "aud": "client", "sub": "1", "iat": now,
            "exp": now + 60, "nonce": "n"}
    base.update(claims)
    return keys.sign({k: v for k, v in base.items() if v is not None})


@pytest.mark.parametrize("claims", [
    {"aud": "someone-else"},
    {"nonce": "other"},
    {"exp": int(time.time()) - 3600},
    {"iss": "https://elsewhere.example"},
    {"iat": int(time.time()) + 3600},
])
def test_id_tokens_are_checked_like_a_relying_party_must(claims):
    assert firstparty.verify_id_token(_id_token(), client_id="client", nonce="n")["sub"] == "1"
    with pytest.raises(firstparty.SignInError) as caught:
        firstparty.verify_id_token(_id_token(**claims), client_id="client", nonce="n")
    assert caught.value.error == "invalid_id_token"


def test_a_tampered_id_token_is_refused():
    head, body, signature = _id_token().split(".")
    payload = json.loads(keys.jws.base64url_decode(body))
    payload["sub"] = "2"
    forged = keys.jws.base64url_encode(json.dumps(payload))
    with pytest.raises(firstparty.SignInError):
        firstparty.verify_id_token(f"{head}.{forged}.{signature}", client_id="client",
                                   nonce="n")
