"""RP-initiated logout and back-channel logout to the relying parties of a session."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pytest
import requests
from jwcrypto import jwk, jwt

from yiwang.core.audit.service import AuditEvent
from yiwang.core.tasks.service import PermanentFailure, list_recent, run_pending
from yiwang.support.identity import sessions
from yiwang.support.identity.models import AccountSession
from yiwang.support.identity.oidc import keys, outbound, tokens
from yiwang.support.identity.oidc.models import SessionClient
from yiwang.support.identity.oidc.relying_parties import (
    register_relying_party,
    update_relying_party,
)
from yiwang.support.identity.oidc.tests.conftest import LOGOUT_REDIRECT, REDIRECT, Flow, query_of

pytestmark = pytest.mark.django_db

BACKCHANNEL = "https://rp.example.org/backchannel-logout"


def _logout(client, **params: str):
    return client.get("/oidc/logout/", params)


def test_logout_with_a_hint_for_this_session_ends_it_and_returns(
        flow, citizen, django_capture_on_commit_callbacks):
    got = flow.tokens()
    with django_capture_on_commit_callbacks(execute=True):
        response = _logout(flow.client, id_token_hint=got["id_token"],
                           post_logout_redirect_uri=LOGOUT_REDIRECT, state="abc")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGOUT_REDIRECT)
    assert query_of(response["Location"])["state"] == "abc"
    session = AccountSession.objects.get(user=citizen)
    assert session.ended_at is not None and session.end_reason == "rp_logout"
    assert flow.userinfo(got["access_token"]).status_code == 401
    assert flow.refresh(got["refresh_token"]).status_code == 400
    assert AuditEvent.objects.get(action="oidc.logout").detail["client_id"] == flow.rp.client_id
    # The browser is signed out too.
    assert "_auth_user_id" not in flow.client.session


def test_an_unregistered_post_logout_redirect_is_refused(flow, citizen):
    got = flow.tokens()
    response = _logout(flow.client, id_token_hint=got["id_token"],
                       post_logout_redirect_uri="https://evil.example.net/")
    assert response.status_code == 400 and "Location" not in response
    assert AccountSession.objects.get(user=citizen).ended_at is None
    assert AuditEvent.objects.get(action="oidc.logout_refused").detail["reason"] == \
        "unregistered_post_logout_redirect_uri"


def test_without_a_matching_hint_the_person_confirms(flow, citizen):
    response = _logout(flow.client, client_id=flow.rp.client_id,
                       post_logout_redirect_uri=LOGOUT_REDIRECT, state="s")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="confirm"' in page
    assert "form-action 'self' https://rp.example.org" in response["Content-Security-Policy"]
    assert AccountSession.objects.get(user=citizen).ended_at is None
    # A forged confirmation does nothing.
    forged = flow.client.post(response.wsgi_request.get_full_path(), {"confirm": "x"})
    assert forged.status_code == 200
    assert AccountSession.objects.get(user=citizen).ended_at is None
    confirm = page.split('name="confirm" value="', 1)[1].split('"', 1)[0]
    done = flow.client.post(response.wsgi_request.get_full_path(), {"confirm": confirm})
    assert done.status_code == 302 and query_of(done["Location"])["state"] == "s"
    assert AccountSession.objects.get(user=citizen).ended_at is not None


def test_a_hint_of_another_session_needs_confirmation(flow, citizen, public_client):
    got = flow.tokens()
    session = AccountSession.objects.get(user=citizen)
    sessions.end_session(session, reason="test", actor=None)
    from yiwang.support.identity.testing import sign_in_client

    sign_in_client(flow.client, citizen)
    response = _logout(flow.client, id_token_hint=got["id_token"])
    assert response.status_code == 200 and 'name="confirm"' in response.content.decode()


def test_an_invalid_hint_is_refused(flow):
    response = _logout(flow.client, id_token_hint="abc.def.ghi")
    assert response.status_code == 400
    foreign = keys.sign({"iss": "https://elsewhere.example", "aud": flow.rp.client_id})
    assert _logout(flow.client, id_token_hint=foreign).status_code == 400


def test_logout_without_a_session_just_returns(public_client, rp):
    response = _logout(public_client, client_id=rp.client_id,
                       post_logout_redirect_uri=LOGOUT_REDIRECT)
    assert response.status_code == 302
    assert _logout(public_client).status_code == 200  # "you have signed out"


# --- back-channel logout -------------------------------------------------------------------


class FakeResponse:
    def __init__(self, status: int) -> None:
        self.status_code = status

    def close(self) -> None:
        pass


class Posted(list):
    """The requests a fake transport received; ``answers`` are its next statuses
    (0: the connection fails)."""

    answers: list[int]


RP_ADDRESS = "203.0.113.7"  # what the relying party's name resolves to in these tests


@pytest.fixture
def posted(monkeypatch) -> Posted:
    sent = Posted()
    sent.answers = []

    def request(session: Any, method: str, url: str, **kwargs: Any) -> FakeResponse:
        sent.append({"method": method, "url": url, **kwargs})
        status = sent.answers.pop(0) if sent.answers else 200
        if status == 0:
            raise requests.ConnectionError("refused")
        return FakeResponse(status)

    monkeypatch.setattr(outbound, "resolve",
                        lambda host, port: [ipaddress.ip_address(RP_ADDRESS)])
    monkeypatch.setattr(requests.Session, "request", request)
    return sent


def test_session_end_sends_logout_tokens_to_relying_parties_that_ask(
        flow, citizen, rp, posted, django_capture_on_commit_callbacks, settings):
    update_relying_party(rp, actor=None, backchannel_logout_uri=BACKCHANNEL)
    other, other_secret = register_relying_party(name="不要通知", client_type="confidential",
                                                 redirect_uris=REDIRECT, actor=None)
    flow.tokens()
    Flow(flow.client, other, other_secret).tokens()
    session = AccountSession.objects.get(user=citizen)
    with django_capture_on_commit_callbacks(execute=True):
        sessions.end_session(session, reason="test", actor=None)
    assert len(list_recent(name="oidc.send_backchannel_logout")) == 1
    assert run_pending(isolated=False) >= 1
    # Sent to the address that was checked, with the relying party's name as Host (and
    # for TLS); never following redirects.
    assert len(posted) == 1 and posted[0]["method"] == "POST"
    assert posted[0]["url"] == f"https://{RP_ADDRESS}:443/backchannel-logout"
    assert posted[0]["headers"]["Host"] == "rp.example.org"
    assert posted[0]["allow_redirects"] is False and posted[0]["timeout"]
    token = posted[0]["data"]["logout_token"]
    keyset = jwk.JWKSet.from_json(json.dumps(keys.jwks()))
    parsed = jwt.JWT(jwt=token, key=keyset, algs=["RS256"],
                     check_claims={"iss": settings.YIWANG_OIDC_ISSUER.rstrip("/"),
                                   "aud": rp.client_id, "exp": None})
    claims = json.loads(parsed.claims)
    assert json.loads(parsed.header)["typ"] == "logout+jwt"
    assert claims["sub"] == str(citizen.pk) and claims["sid"] == session.sid
    assert claims["events"] == {tokens.BACKCHANNEL_EVENT: {}}
    assert claims["jti"] and claims["iat"] and "nonce" not in claims
    client = SessionClient.objects.get(sid=session.sid, application=rp)
    assert client.logout_sent_at is not None and client.logout_error == ""
    # Delivered once: running the task again sends nothing.
    assert tokens.deliver_backchannel_logout(client.pk) == "nothing to do"
    assert len(posted) == 1


def test_back_channel_failures_are_recorded_and_retried_or_given_up(flow, citizen, rp, posted):
    update_relying_party(rp, actor=None, backchannel_logout_uri=BACKCHANNEL)
    flow.tokens()
    client = SessionClient.objects.get(application=rp)
    posted.answers.extend([0, 503, 400])
    with pytest.raises(requests.ConnectionError):
        tokens.deliver_backchannel_logout(client.pk)
    assert "could not reach" in SessionClient.objects.get(pk=client.pk).logout_error
    with pytest.raises(RuntimeError):
        tokens.deliver_backchannel_logout(client.pk)
    assert SessionClient.objects.get(pk=client.pk).logout_error == "HTTP 503"
    with pytest.raises(PermanentFailure):
        tokens.deliver_backchannel_logout(client.pk)
    client.refresh_from_db()
    assert client.logout_sent_at is None and client.logout_error == "HTTP 400"
