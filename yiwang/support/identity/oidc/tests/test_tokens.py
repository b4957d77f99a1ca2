"""The token endpoint, userinfo, revocation and introspection, and tokens of ended sessions."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from django.contrib.auth.hashers import check_password
from jwcrypto import jws
from oauth2_provider.models import AccessToken, RefreshToken

from yiwang.core.audit.service import AuditEvent
from yiwang.platform.zones.testing import ListenerClient
from yiwang.support.identity import sessions
from yiwang.support.identity.models import AccountSession
from yiwang.support.identity.oidc import firstparty, keys
from yiwang.support.identity.oidc.models import Authorization, SessionClient
from yiwang.support.identity.oidc.relying_parties import (
    register_relying_party,
    set_relying_party_active,
)
from yiwang.support.identity.oidc.tests.conftest import REDIRECT, Flow, make_user
from yiwang.support.identity.oidc.tokens import revoke_user_tokens
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db


def _actions() -> list[str]:
    return list(AuditEvent.objects.values_list("action", flat=True))


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def _introspect(client, token: str, rp, secret: str, **extra: str):
    return client.post("/oidc/introspect/", {"token": token, **extra},
                       HTTP_AUTHORIZATION=_basic(rp.client_id, secret))


# --- the authorization code ------------------------------------------------------------


def test_code_exchange_gives_an_id_token_of_this_session(flow, citizen, settings):
    got = flow.tokens()
    assert got["token_type"] == "Bearer" and got["refresh_token"]
    claims = firstparty.verify_id_token(got["id_token"], client_id=flow.rp.client_id,
                                        nonce=flow.nonce)
    session = AccountSession.objects.get(user=citizen)
    assert claims["iss"] == settings.YIWANG_OIDC_ISSUER.rstrip("/")
    assert claims["sub"] == str(citizen.pk)
    assert claims["aud"] == claims["azp"] == flow.rp.client_id
    assert claims["sid"] == session.sid
    assert claims["acr"] == "L3"  # a real-name account with password and TOTP
    assert claims["amr"] == ["otp", "pwd", "mfa"]
    assert claims["auth_time"] == int(session.auth_time.timestamp())
    header = jws.JWS()
    header.deserialize(got["id_token"])
    assert header.jose_header["kid"] == keys.active_key().kid
    assert SessionClient.objects.filter(sid=session.sid, application=flow.rp).exists()
    granted = AuditEvent.objects.get(action="oidc.token_granted")
    assert granted.detail["client_id"] == flow.rp.client_id and granted.detail["acr"] == "L3"


def test_tokens_are_stored_only_as_hashes(flow):
    got = flow.tokens()
    assert AccessToken.objects.get().token == ""
    assert RefreshToken.objects.get().token == ""
    assert got["access_token"] not in json.dumps(list(AccessToken.objects.values()), default=str)


def test_a_wrong_pkce_verifier_is_invalid_grant_and_audited(flow):
    code = flow.code()
    response = flow.token(code, verifier="x" * 50)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    event = AuditEvent.objects.get(action="oidc.pkce_failed")
    assert event.detail["reason"] == "pkce_verifier_mismatch"
    assert not AccessToken.objects.exists()


def test_a_missing_pkce_verifier_is_refused(flow):
    code = flow.code()
    response = flow.client.post("/oidc/token/", {
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": flow.rp.client_id, "client_secret": flow.secret})
    assert response.status_code == 400
    assert AuditEvent.objects.get(action="oidc.pkce_failed").detail["reason"] == \
        "pkce_verifier_missing"


def test_a_replayed_code_is_refused_and_revokes_what_it_gave(flow):
    code = flow.code()
    first = flow.token(code).json()
    again = flow.token(code)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert flow.userinfo(first["access_token"]).status_code == 401
    assert flow.refresh(first["refresh_token"]).json()["error"] == "invalid_grant"
    assert "oidc.code_reused" in _actions()


def test_a_wrong_client_secret_is_invalid_client_and_audited(flow):
    code = flow.code()
    response = flow.token(code, client_secret="wrong")
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    event = AuditEvent.objects.get(action="oidc.client_auth_failed")
    assert event.object_id == flow.rp.client_id


def test_a_public_client_uses_pkce_without_a_secret(signed_in):
    rp, secret = register_relying_party(name="移动端", client_type="public",
                                        redirect_uris=REDIRECT, actor=None)
    assert secret is None
    got = Flow(signed_in, rp).tokens()
    assert got["access_token"] and got["id_token"]


# --- refresh -------------------------------------------------------------------------------


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_family(flow, citizen):
    got = flow.tokens()
    response = flow.refresh(got["refresh_token"])
    assert response.status_code == 200
    second = response.json()
    assert second["refresh_token"] != got["refresh_token"]
    claims = firstparty.verify_id_token(second["id_token"], client_id=flow.rp.client_id,
                                        nonce=None)
    first_claims = firstparty.verify_id_token(got["id_token"], client_id=flow.rp.client_id,
                                              nonce=flow.nonce)
    assert claims["sid"] == first_claims["sid"]
    assert claims["auth_time"] == first_claims["auth_time"]
    assert claims["acr"] == first_claims["acr"] and "nonce" not in claims
    assert flow.userinfo(got["access_token"]).status_code == 401  # the old one is gone
    assert flow.userinfo(second["access_token"]).status_code == 200
    # The first refresh token again: someone else holds a copy. Everything is revoked.
    reused = flow.refresh(got["refresh_token"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert flow.refresh(second["refresh_token"]).json()["error"] == "invalid_grant"
    assert flow.userinfo(second["access_token"]).status_code == 401
    assert "oidc.refresh_token_reused" in _actions()
    assert "oidc.token_granted" in _actions() and _actions().count("oidc.token_granted") == 1


# --- ended sessions and revocation ---------------------------------------------------------


def test_ending_the_session_revokes_its_tokens_at_once(flow, citizen, rp, secret,
                                                      django_capture_on_commit_callbacks):
    got = flow.tokens()
    session = AccountSession.objects.get(user=citizen)
    with django_capture_on_commit_callbacks(execute=True):
        sessions.end_session(session, reason="test", actor=None)
    assert not AccessToken.objects.exists()
    assert RefreshToken.objects.get().revoked is not None
    info = flow.userinfo(got["access_token"])
    assert info.status_code == 401 and "invalid_token" in info["WWW-Authenticate"]
    assert flow.refresh(got["refresh_token"]).json()["error"] == "invalid_grant"
    assert _introspect(flow.client, got["access_token"], rp, secret).json() == {"active": False}
    assert AuditEvent.objects.filter(action="oidc.session_logout").exists()


def test_a_token_of_an_ended_session_fails_even_before_revocation(flow, citizen, rp, secret):
    got = flow.tokens()
    # The session ends in another process whose hooks have not run yet.
    AccountSession.objects.filter(user=citizen).update(ended_at=sessions.timezone.now())
    info = flow.userinfo(got["access_token"])
    assert info.status_code == 401 and "invalid_token" in info["WWW-Authenticate"]
    assert flow.refresh(got["refresh_token"]).json()["error"] == "invalid_grant"
    assert _introspect(flow.client, got["access_token"], rp, secret).json() == {"active": False}
    from yiwang.core.audit import service as audit

    refused = list(audit.search(audit.AuditFilter(action="oidc.token_refused")))
    kinds = {(e.detail.get("token_type"), e.detail.get("reason")) for e in refused}
    assert ("access_token", "session_ended") in kinds
    assert ("refresh_token", "session_ended") in kinds


def test_a_deactivated_account_loses_its_tokens(flow, citizen):
    got = flow.tokens()
    citizen.is_active = False
    citizen.save()
    assert flow.userinfo(got["access_token"]).status_code == 401
    assert flow.refresh(got["refresh_token"]).status_code == 400


def test_revoke_user_tokens(flow, citizen):
    got = flow.tokens()
    assert revoke_user_tokens(citizen, reason="离职") == 2
    assert flow.userinfo(got["access_token"]).status_code == 401
    assert flow.refresh(got["refresh_token"]).status_code == 400
    event = AuditEvent.objects.get(action="oidc.tokens_revoked")
    assert event.detail["access_tokens"] == 1 and event.detail["refresh_tokens"] == 1
    assert Authorization.objects.get().revoked_at is not None


def test_revocation_endpoint(flow, rp, secret):
    got = flow.tokens()
    response = flow.client.post("/oidc/revoke/", {"token": got["refresh_token"],
                                                  "token_type_hint": "refresh_token"},
                                HTTP_AUTHORIZATION=_basic(rp.client_id, secret))
    assert response.status_code == 200
    assert flow.refresh(got["refresh_token"]).status_code == 400
    assert flow.userinfo(got["access_token"]).status_code == 401
    assert "oidc.token_revoked" in _actions()


def test_disabling_a_relying_party_revokes_its_tokens(flow, rp):
    got = flow.tokens()
    set_relying_party_active(rp, False, actor=None)
    assert flow.userinfo(got["access_token"]).status_code == 401
    assert flow.refresh(got["refresh_token"]).status_code == 401  # the client itself is refused


# --- userinfo and introspection ------------------------------------------------------------


def test_userinfo_claims_follow_the_granted_scopes(signed_in, rp, secret, citizen):
    citizen.real_name = "张三丰"
    citizen.save()
    flow = Flow(signed_in, rp, secret, scope="openid profile identity phone")
    got = flow.tokens()
    info = flow.userinfo(got["access_token"]).json()
    assert info["sub"] == str(citizen.pk)
    assert info["name"] == "张三丰"  # verified: the real name, not the masked display name
    assert info["id_number_masked"] != citizen.id_number and info["id_number_masked"][:3] == "110"
    assert "*" in info["phone_number_masked"] and "13912345678" not in json.dumps(info)
    assert info["level"] == "L2" and info["real_name_verified"] is True
    assert flow.client.post("/oidc/userinfo/",
                            HTTP_AUTHORIZATION=f"Bearer {got['access_token']}").status_code == 200


def test_introspection(flow, rp, secret, citizen):
    got = flow.tokens()
    info = _introspect(flow.client, got["access_token"], rp, secret).json()
    session = AccountSession.objects.get(user=citizen)
    assert info["active"] is True and info["client_id"] == rp.client_id
    assert info["sub"] == str(citizen.pk) and info["sid"] == session.sid and info["acr"] == "L3"
    refresh = _introspect(flow.client, got["refresh_token"], rp, secret,
                          token_type_hint="refresh_token").json()
    assert refresh["active"] is True and refresh["token_type"] == "refresh_token"
    assert _introspect(flow.client, "nonsense", rp, secret).json() == {"active": False}
    # Another client sees nothing of this token, unless it is one of yiwang's own.
    other, other_secret = register_relying_party(
        name="别的应用", client_type="confidential", redirect_uris=REDIRECT, actor=None)
    assert _introspect(flow.client, got["access_token"], other, other_secret).json() == \
        {"active": False}
    own, own_secret = register_relying_party(
        name="网关", client_type="confidential", redirect_uris=REDIRECT, first_party=True,
        actor=None)
    assert _introspect(flow.client, got["access_token"], own, own_secret).json()["active"]
    # Clients must authenticate, and public clients cannot introspect.
    assert _introspect(flow.client, got["access_token"], rp, "wrong").status_code == 401
    public, _none = register_relying_party(name="公开", client_type="public",
                                           redirect_uris=REDIRECT, actor=None)
    response = flow.client.post("/oidc/introspect/", {"token": got["access_token"],
                                                      "client_id": public.client_id})
    assert response.status_code == 401


# --- client credentials --------------------------------------------------------------------


def test_client_credentials_for_service_accounts_only(public_client):
    service_rp, secret = register_relying_party(
        name="批处理", client_type="confidential", redirect_uris="", actor=None,
        allow_client_credentials=True, allowed_scopes="openid profile")
    response = public_client.post("/oidc/token/", {"grant_type": "client_credentials"},
                                  HTTP_AUTHORIZATION=_basic(service_rp.client_id, secret))
    assert response.status_code == 200, response.content
    token = response.json()["access_token"]
    assert "refresh_token" not in response.json()
    # A client's own token names nobody: no userinfo.
    assert public_client.get("/oidc/userinfo/",
                             HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    plain, plain_secret = register_relying_party(name="普通", client_type="confidential",
                                                 redirect_uris=REDIRECT, actor=None)
    response = public_client.post("/oidc/token/", {"grant_type": "client_credentials"},
                                  HTTP_AUTHORIZATION=_basic(plain.client_id, plain_secret))
    assert response.status_code == 400 and response.json()["error"] == "unauthorized_client"
    assert "oidc.token_refused" in _actions()


# --- pairwise subjects ---------------------------------------------------------------------


def test_pairwise_subjects_differ_per_sector_and_stay_stable(public_client, citizen,
                                                              local_server):
    sign_in_client(public_client, citizen)
    a, a_secret = register_relying_party(name="A", client_type="confidential",
                                         redirect_uris="https://a.example.org/cb",
                                         subject_type="pairwise", actor=None)
    # B's sector is the host of its sector identifier document, which lists the redirect
    # URIs of both B and B2 (one department's apps on two hosts).
    local_server.routes["/sector.json"] = (
        200, json.dumps(["https://b.example.org/cb", "https://other.example.org/cb"]).encode())
    document = local_server.url("/sector.json")
    b, b_secret = register_relying_party(name="B", client_type="confidential",
                                         redirect_uris="https://b.example.org/cb",
                                         subject_type="pairwise",
                                         sector_identifier_uri=document, actor=None)
    b2, b2_secret = register_relying_party(name="B2", client_type="confidential",
                                           redirect_uris="https://other.example.org/cb",
                                           subject_type="pairwise",
                                           sector_identifier_uri=document, actor=None)
    assert b.sector == b2.sector == "127.0.0.1" and a.sector == "a.example.org"

    def sub(rp, secret, redirect):
        got = Flow(public_client, rp, secret, redirect_uri=redirect).tokens()
        claims = firstparty.verify_id_token(got["id_token"], client_id=rp.client_id, nonce=None)
        info = Flow(public_client, rp).userinfo(got["access_token"]).json()
        assert info["sub"] == claims["sub"]
        return claims["sub"]

    sub_a = sub(a, a_secret, "https://a.example.org/cb")
    sub_b = sub(b, b_secret, "https://b.example.org/cb")
    assert sub_a != sub_b and str(citizen.pk) not in (sub_a, sub_b)
    assert sub(a, a_secret, "https://a.example.org/cb") == sub_a  # stable
    assert sub(b2, b2_secret, "https://other.example.org/cb") == sub_b  # same sector
    other = make_user()
    browser = ListenerClient(int(public_client.port))
    sign_in_client(browser, other)
    got = Flow(browser, a, a_secret, redirect_uri="https://a.example.org/cb").tokens()
    assert firstparty.verify_id_token(got["id_token"], client_id=a.client_id,
                                      nonce=None)["sub"] != sub_a


def test_client_secrets_are_stored_hashed(rp, secret):
    assert rp.client_secret != secret
    assert check_password(secret, rp.client_secret)


def test_two_refreshes_racing_with_one_token_give_one_new_pair(flow, monkeypatch):
    from yiwang.support.identity.oidc import lookups

    got = flow.tokens()
    checksum = hashlib.sha256(got["refresh_token"].encode()).hexdigest()
    stale = lookups.refresh_token(checksum)  # what a second request read a moment earlier
    assert flow.refresh(got["refresh_token"]).status_code == 200
    monkeypatch.setattr(lookups, "refresh_token", lambda _checksum: stale)
    late = flow.refresh(got["refresh_token"])
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"
    assert AccessToken.objects.count() == 1


def test_hot_path_reads_give_complete_instances(flow, citizen):
    from yiwang.support.identity.oidc import lookups

    got = flow.tokens()
    token = lookups.access_token(hashlib.sha256(got["access_token"].encode()).hexdigest())
    orm = AccessToken.objects.select_related("application", "user").get(pk=token.pk)
    assert token.expires == orm.expires and token.expires.tzinfo is not None
    assert token.application == orm.application and token.user.phone == citizen.phone
    assert token.user.id_number == citizen.id_number  # decrypted like the ORM does
    refresh = lookups.refresh_token(hashlib.sha256(got["refresh_token"].encode()).hexdigest())
    assert refresh.token_family == RefreshToken.objects.get(pk=refresh.pk).token_family
    authorization = lookups.authorization(refresh.token_family)
    assert authorization.amr == ["otp", "pwd", "mfa"] and authorization.session.ended_at is None
    assert lookups.access_token("0" * 64) is None


def test_tokens_are_long_random_strings(flow):
    got = flow.tokens()
    for name in ("access_token", "refresh_token"):
        assert len(got[name]) == 43 and set(got[name]) <= set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert got["access_token"] != got["refresh_token"]


def test_stale_bookkeeping_is_purged(flow, citizen, public_client):
    from datetime import timedelta

    from django.utils import timezone

    from yiwang.support.identity.oidc import tasks, tokens

    got = flow.tokens()
    assert tokens.purge_stale() == (0, 0)  # all in use
    later = timezone.now() + timedelta(days=2)
    assert tokens.purge_stale(now=later) == (0, 0)  # its refresh token is still live
    revoke_user_tokens(citizen, reason="test")
    assert tokens.purge_stale(now=later)[0] == 1
    session = AccountSession.objects.get(user=citizen)
    sessions.end_session(session, reason="test", actor=None)
    assert tokens.purge_stale(now=timezone.now() + timedelta(days=31))[1] == 1
    assert not SessionClient.objects.exists()
    tasks.clear_expired_tokens()  # runs (DOT's sweep and this one)
    assert flow.userinfo(got["access_token"]).status_code == 401


def test_a_client_id_with_a_nul_byte_is_just_unknown(public_client):
    response = public_client.post("/oidc/token/", {"grant_type": "client_credentials",
                                                   "client_id": "a\x00b", "client_secret": "x"})
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_token_use_reads_the_session_with_the_token_in_one_statement(flow, citizen):
    """userinfo and refresh read the token, its person and the authorization and session
    it lives under in one SELECT (lookups.py); a session ended meanwhile is still seen."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    got = flow.tokens()
    with CaptureQueriesContext(connection) as queries:
        assert flow.userinfo(got["access_token"]).status_code == 200
    selects = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert len(selects) == 1, selects
    with CaptureQueriesContext(connection) as queries:
        refreshed = flow.refresh(got["refresh_token"])
    assert refreshed.status_code == 200
    selects = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")
               and "oidc_signingkey" not in q["sql"]]  # (tests re-read the active key)
    assert len(selects) == 2, selects  # the client, then the token with its session
    sessions.end_user_sessions(citizen, reason="test", actor=None)
    assert flow.userinfo(refreshed.json()["access_token"]).status_code == 401
