"""The authorization endpoint: sign-in, re-authentication, step-up, consent, refusals."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone
from oauthlib.oauth2.rfc6749.grant_types.authorization_code import (
    AuthorizationCodeGrant as OAuth2AuthorizationCodeGrant,
)

from yiwang.core.audit.service import AuditEvent
from yiwang.platform.zones.testing import ListenerClient
from yiwang.support.identity.models import AccountSession
from yiwang.support.identity.oidc import firstparty
from yiwang.support.identity.oidc.models import Authorization, Consent
from yiwang.support.identity.oidc.relying_parties import (
    register_relying_party,
    set_relying_party_active,
    update_relying_party,
)
from yiwang.support.identity.oidc.tests.conftest import REDIRECT, Flow, make_user, query_of
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db


def _location(response) -> tuple[str, dict[str, str]]:
    assert response.status_code == 302, response.content[:300]
    location = response["Location"]
    return urlsplit(location).path, query_of(location)


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


# --- who must sign in ------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in_with_the_level_needed(public_client, rp):
    update_relying_party(rp, actor=None, min_level=2)
    flow = Flow(public_client, rp)
    path, params = _location(flow.authorize())
    assert path == "/account/login/"
    assert params["level"] == "2"
    assert params["next"].startswith("/oidc/authorize/?")
    assert f"client_id={rp.client_id}" in params["next"]


def test_english_sign_in_page_when_the_relying_party_asks_for_english(public_client, rp):
    path, _params = _location(Flow(public_client, rp).authorize(ui_locales="en-GB zh"))
    assert path == "/en/account/login/"


def test_prompt_none_without_a_session_returns_login_required(public_client, rp, settings):
    flow = Flow(public_client, rp)
    response = flow.authorize(prompt="none")
    location = response["Location"]
    assert location.startswith(REDIRECT)
    params = query_of(location)
    assert params["error"] == "login_required"
    assert params["state"] == flow.state
    assert params["iss"] == settings.YIWANG_OIDC_ISSUER.rstrip("/")


# --- refusals ------------------------------------------------------------------------------


def test_an_unregistered_redirect_uri_gets_an_error_page_never_a_redirect(signed_in, rp):
    response = Flow(signed_in, rp, redirect_uri="https://evil.example.net/cb").authorize()
    assert response.status_code == 400
    assert "Location" not in response
    assert "返回地址未登记" in response.content.decode()
    event = _events("oidc.authorize_refused")[-1]
    assert event.detail["reason"] == "bad_redirect"
    assert "evil.example.net" in event.detail["redirect_uri"]


def test_unknown_and_disabled_clients_are_refused_with_a_page(signed_in, rp):
    flow = Flow(signed_in, rp)
    response = signed_in.get(flow.authorize_url(client_id="no-such-client"))
    assert response.status_code == 400 and "Location" not in response
    set_relying_party_active(rp, False, actor=None)
    response = flow.authorize()
    assert response.status_code == 400 and "Location" not in response
    assert "未在本平台登记，或已被停用" in response.content.decode()


@pytest.mark.parametrize("overrides", [
    {"code_challenge_method": "plain"},
    {"code_challenge_method": None},  # a challenge without a method means plain
    {"code_challenge": None, "code_challenge_method": None},  # PKCE is required
])
def test_pkce_plain_or_missing_is_refused_with_invalid_request(signed_in, rp, overrides):
    flow = Flow(signed_in, rp)
    response = flow.authorize(**overrides)
    params = query_of(response["Location"])
    assert response["Location"].startswith(REDIRECT)
    assert params["error"] == "invalid_request"
    assert params["state"] == flow.state
    assert not Authorization.objects.exists()
    assert _events("oidc.authorize_refused")[-1].detail["error"] == "invalid_request"


def test_the_s256_only_server_leaves_oauthlibs_own_table_alone():
    assert "plain" in OAuth2AuthorizationCodeGrant._code_challenge_methods


def test_only_the_code_response_type(signed_in, rp):
    params = query_of(Flow(signed_in, rp).authorize(response_type="token")["Location"])
    assert params["error"] in {"unauthorized_client", "unsupported_response_type"}


def test_unknown_scopes_are_ignored_and_unallowed_ones_dropped(signed_in, rp, secret):
    update_relying_party(rp, actor=None, allowed_scopes="openid profile")
    flow = Flow(signed_in, rp, secret, scope="openid profile email phone")
    got = flow.tokens()
    assert got["scope"].split() == ["openid", "profile"]


# --- re-authentication and step-up ---------------------------------------------------------


def test_prompt_login_asks_to_sign_in_again_and_then_continues(signed_in, rp, secret, citizen):
    flow = Flow(signed_in, rp, secret)
    path, params = _location(flow.authorize(prompt="login"))
    assert path == "/account/login/" and params["prompt"] == "login"
    back = params["next"]
    assert "prompt=login" not in back and "yiwang_auth=" in back
    # Coming back without signing in again is not accepted as a fresh sign-in.
    response = signed_in.get(back)
    assert query_of(response["Location"])["error"] == "login_required"
    # Signing in again (a newer authentication time) lets the request through.
    AccountSession.objects.filter(user=citizen).update(
        auth_time=timezone.now() + timedelta(seconds=1))
    response = signed_in.get(back)
    assert response.status_code == 200 and b"consent_scope" in response.content


def test_max_age(signed_in, rp, citizen):
    AccountSession.objects.filter(user=citizen).update(
        auth_time=timezone.now() - timedelta(minutes=10))
    flow = Flow(signed_in, rp)
    assert flow.authorize(max_age="3600").status_code == 200  # consent page: fresh enough
    path, _params = _location(flow.authorize(max_age="60"))
    assert path == "/account/login/"
    assert query_of(flow.authorize(max_age="60", prompt="none")["Location"])["error"] == \
        "login_required"


def test_a_session_below_the_relying_partys_level_is_stepped_up(public_client, rp):
    person = make_user(verified=False)
    sign_in_client(public_client, person, amr=("pwd", "sms"))
    update_relying_party(rp, actor=None, min_level=2)
    flow = Flow(public_client, rp)
    path, params = _location(flow.authorize())
    assert path == "/account/step-up/"
    assert params["level"] == "2"
    # Back from the step-up page still at L1: explained, with a way out; no loop.
    response = public_client.get(params["next"])
    assert response.status_code == 200
    page = response.content.decode()
    assert "需要更高的认证等级" in page
    assert "error=unmet_authentication_requirements" in page
    assert query_of(flow.authorize(prompt="none")["Location"])["error"] == "login_required"


@pytest.mark.parametrize(("acr_values", "level"), [("L3", "3"), ("L3 L2", "2")])
def test_acr_values_ask_for_the_lowest_level_listed(public_client, rp, acr_values, level):
    person = make_user()
    sign_in_client(public_client, person, amr=("pwd",))  # L2 account, one factor: L2 session
    response = Flow(public_client, rp).authorize(acr_values=acr_values)
    if level == "3":
        path, params = _location(response)
        assert path == "/account/step-up/" and params["level"] == "3"
    else:
        assert response.status_code == 200  # L2 suffices: straight to consent


# --- consent -------------------------------------------------------------------------------


def test_consent_per_scope_is_remembered_and_honoured(signed_in, rp, secret, citizen):
    flow = Flow(signed_in, rp, secret, scope="openid profile phone")
    response = flow.authorize()
    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="consent_scope" value="phone"' in page
    assert "disabled" in page  # openid cannot be unticked
    assert "form-action 'self' https://rp.example.org" in response["Content-Security-Policy"]
    response = signed_in.post(response.wsgi_request.get_full_path(),
                              {"decision": "allow", "consent_scope": ["profile"]})
    code = query_of(response["Location"])["code"]
    got = flow.token(code).json()
    assert got["scope"].split() == ["openid", "profile"]
    claims = firstparty.verify_id_token(got["id_token"], client_id=rp.client_id,
                                        nonce=flow.nonce)
    assert "name" in claims and "phone_number_masked" not in claims
    assert "phone_number_masked" not in flow.userinfo(got["access_token"]).json()
    consent = Consent.objects.get(user=citizen, application=rp)
    assert consent.scopes == "openid profile"
    assert consent.asked_scopes == "openid profile phone"
    event = _events("oidc.consent_given")[-1]
    assert event.detail["declined"] == ["phone"]
    # Asked again for no more than before: no screen, the same choice.
    response = flow.authorize()
    assert response.status_code == 302
    assert flow.token(query_of(response["Location"])["code"]).json()["scope"] == "openid profile"
    # A new scope: asked again, with the earlier choice preset.
    response = Flow(signed_in, rp, secret, scope="openid profile identity").authorize()
    assert response.status_code == 200 and 'value="identity"' in response.content.decode()
    # prompt=consent always asks; prompt=none never does.
    assert flow.authorize(prompt="consent").status_code == 200
    params = query_of(Flow(signed_in, rp, scope="openid identity").authorize(
        prompt="none")["Location"])
    assert params["error"] == "consent_required"


def test_declining_returns_access_denied(signed_in, rp):
    flow = Flow(signed_in, rp)
    response = flow.authorize()
    response = signed_in.post(response.wsgi_request.get_full_path(), {"decision": "deny"})
    params = query_of(response["Location"])
    assert params["error"] == "access_denied" and params["state"] == flow.state
    assert _events("oidc.consent_denied")
    assert not Consent.objects.exists()


def test_consent_needs_the_csrf_token(public_client, citizen, rp):
    strict = ListenerClient(int(public_client.port), enforce_csrf_checks=True)
    sign_in_client(strict, citizen)
    flow = Flow(strict, rp)
    response = flow.authorize()
    response = strict.post(response.wsgi_request.get_full_path(),
                           {"decision": "allow", "consent_scope": ["profile"]})
    assert response.status_code == 403
    assert not Consent.objects.exists()


def test_first_party_relying_parties_skip_consent(signed_in):
    rp, _secret = register_relying_party(name="工作台", client_type="public",
                                         redirect_uris=REDIRECT, first_party=True, actor=None)
    response = Flow(signed_in, rp).authorize()
    assert response.status_code == 302 and "code" in query_of(response["Location"])
    assert not Consent.objects.exists()


def test_consent_page_in_english(signed_in, rp):
    response = Flow(signed_in, rp).authorize(ui_locales="en")
    assert response["Content-Language"] == "en"
    page = response.content.decode()
    assert 'lang="en"' in page
    assert "ui_locales=zh-Hans" in page  # the switch back to Chinese


def test_after_a_sign_in_form_the_browser_moves_on_by_itself(signed_in):
    rp, _secret = register_relying_party(name="工作台", client_type="public",
                                         redirect_uris=REDIRECT, first_party=True, actor=None)
    flow = Flow(signed_in, rp)
    response = signed_in.get(flow.authorize_url(), HTTP_SEC_FETCH_SITE="same-origin")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'http-equiv="refresh"' in page and "code=" in page
    assert response["Cache-Control"] == "no-store"


def test_prompt_none_with_a_hint_for_someone_else(signed_in, rp, secret, public_client):
    first = Flow(signed_in, rp, secret).tokens()
    other = make_user()
    browser = ListenerClient(int(public_client.port))
    sign_in_client(browser, other)
    params = query_of(Flow(browser, rp).authorize(prompt="none",
                                                  id_token_hint=first["id_token"])["Location"])
    assert params["error"] == "login_required"


def test_codes_are_bound_to_the_session(signed_in, rp, citizen):
    flow = Flow(signed_in, rp)
    flow.code()
    authorization = Authorization.objects.get()
    session = AccountSession.objects.get(user=citizen)
    assert authorization.session == session
    assert authorization.acr == session.acr and authorization.amr == session.amr
    assert parse_qs(urlsplit(flow.authorize_url()).query)["code_challenge_method"] == ["S256"]


def test_an_authorization_request_may_be_posted(public_client, citizen, rp):
    strict = ListenerClient(int(public_client.port), enforce_csrf_checks=True)
    sign_in_client(strict, citizen)
    flow = Flow(strict, rp)
    params = query_of("http://x" + flow.authorize_url())
    response = strict.post("/oidc/authorize/", params)  # a relying party's form, no CSRF token
    assert response.status_code == 303
    assert response["Location"].startswith("/oidc/authorize/?")
    assert query_of("http://x" + response["Location"]) == params
    assert strict.get(response["Location"]).status_code == 200  # the consent screen


def test_control_characters_in_a_request_are_refused_and_recorded_safely(signed_in, rp):
    response = signed_in.get("/oidc/authorize/?client_id=a%00b&redirect_uri=https://x/%00")
    assert response.status_code == 400  # refused at the door (RejectNulMiddleware)
    event = _events("request.invalid_characters")[-1]
    assert event.detail["path"] == "/oidc/authorize/"
