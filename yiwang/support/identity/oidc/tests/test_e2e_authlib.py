"""A standard OIDC client (Authlib) against a real ``yiwang serve`` (gunicorn and worker).

The server runs on this test's database, so the relying party and the person are made here;
signing in is not this module's business, so the browser's session comes from
``identity.testing.sign_in_client`` (a session cookie, as after any sign-in) and Authlib's
HTTP session carries that cookie. Everything after that is protocol: discovery, code + PKCE
with consent, ID-token validation against the JWKS, userinfo, refresh, RP-initiated logout,
the back-channel logout token, and the old tokens refused afterwards.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.test import Client

from yiwang.support.identity.models import AccountSession
from yiwang.support.identity.oidc.relying_parties import register_relying_party
from yiwang.support.identity.oidc.tests.conftest import make_user
from yiwang.support.identity.testing import sign_in_client

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PROJECT_DIR = Path(__file__).resolve().parents[5]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _database_url() -> str:
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(name).resolve()}"
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{name}"))


class Receiver:
    """A relying party's back-channel logout endpoint: remembers what was POSTed."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, list[str]]] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                received.append(parse_qs(self.rfile.read(length).decode()))
                self.send_response(200)
                self.send_header("Cache-Control", "no-store")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/backchannel-logout"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


@pytest.fixture
def served(transactional_db: None, tmp_path: Path) -> Iterator[str]:
    """``yiwang serve`` on free ports and this test's database; yields the issuer URL."""
    public_port, internal_port = _free_port(), _free_port()
    issuer = f"http://127.0.0.1:{public_port}"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("YIWANG_", "DATABASE_URL", "DJANGO_SETTINGS", "PYTEST_XDIST"))}
    env.update({
        "YIWANG_ENV": "test",
        "YIWANG_DATA_DIR": str(tmp_path),
        "DATABASE_URL": _database_url(),
        # The same secrets as this process: its sessions and encrypted rows must read there.
        "SECRET_KEY": settings.SECRET_KEY,
        "YIWANG_DATA_KEYS": settings.YIWANG_DATA_KEYS,
        "YIWANG_INDEX_KEY": settings.YIWANG_INDEX_KEY,
        "YIWANG_PUBLIC_PORT": str(public_port),
        "YIWANG_INTERNAL_PORT": str(internal_port),
        "YIWANG_PUBLIC_URL": issuer,
        "YIWANG_INTERNAL_URL": f"http://127.0.0.1:{internal_port}",
        "YIWANG_WEB_WORKERS": "1",
        "YIWANG_WEB_THREADS": "4",
        "YIWANG_WORKER_POLL": "0.2",
        "YIWANG_LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    })
    if not os.environ.get("REDIS_URL"):
        env["YIWANG_TASKS_BACKEND"] = "database"
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "yiwang", "serve"], cwd=PROJECT_DIR,
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail("yiwang serve exited:\n" + (tmp_path / "serve.log").read_text())
            try:
                if requests.get(issuer + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail("yiwang serve did not answer:\n" + (tmp_path / "serve.log").read_text())
            time.sleep(0.3)
        yield issuer
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log.close()


def _consent(oauth: Any, url: str) -> requests.Response:
    """Answer the consent screen as a person would: tick every scope, agree."""
    page = oauth.get(url, allow_redirects=False, withhold_token=True)
    assert page.status_code == 200, page.text[:500]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    scopes = re.findall(r'name="consent_scope" value="([^"]+)"', page.text)
    return oauth.post(url, data={"csrfmiddlewaretoken": token, "decision": "allow",
                                 "consent_scope": scopes},
                      headers={"Referer": url}, allow_redirects=False, withhold_token=True)


def test_a_standard_client_signs_in_refreshes_and_logs_out(served: str, receiver: Receiver):
    from authlib.common.security import generate_token
    from authlib.integrations.requests_client import OAuth2Session
    from authlib.jose import JsonWebKey, jwt

    issuer = served
    callback = "http://127.0.0.1:9/callback"  # never fetched: the redirect is read, not followed
    goodbye = "http://127.0.0.1:9/signed-out"
    rp, secret = register_relying_party(
        name="第三方政务系统", client_type="confidential", redirect_uris=callback,
        post_logout_redirect_uris=goodbye, backchannel_logout_uri=receiver.url,
        allowed_scopes="openid profile identity", actor=None)
    person = make_user(id_number="11010519491231002X")
    browser = Client()
    sign_in_client(browser, person)
    session = AccountSession.objects.get(user=person)

    oauth = OAuth2Session(rp.client_id, secret, scope="openid profile identity",
                          redirect_uri=callback, code_challenge_method="S256",
                          token_endpoint_auth_method="client_secret_basic")
    oauth.cookies.set("yiwang_public", browser.cookies[settings.SESSION_COOKIE_NAME].value)

    metadata = oauth.get(issuer + "/.well-known/openid-configuration",
                         withhold_token=True).json()
    assert metadata["issuer"] == issuer
    assert metadata["code_challenge_methods_supported"] == ["S256"]

    verifier, nonce = generate_token(48), generate_token(20)
    url, _state = oauth.create_authorization_url(metadata["authorization_endpoint"],
                                                code_verifier=verifier, nonce=nonce)
    answer = _consent(oauth, url)
    assert answer.status_code == 302, answer.text[:500]
    location = answer.headers["Location"]
    assert location.startswith(callback) and parse_qs(urlsplit(location).query)["iss"] == [issuer]

    token = oauth.fetch_token(metadata["token_endpoint"], authorization_response=location,
                              code_verifier=verifier)
    keyset = JsonWebKey.import_key_set(oauth.get(metadata["jwks_uri"],
                                                  withhold_token=True).json())
    options = {"iss": {"essential": True, "value": issuer},
               "aud": {"essential": True, "value": rp.client_id}}
    claims = jwt.decode(token["id_token"], keyset,
                        claims_options={**options, "nonce": {"essential": True, "value": nonce}})
    claims.validate()
    assert claims["sub"] == str(person.pk) and claims["sid"] == session.sid
    assert claims["acr"] == "L3" and "mfa" in claims["amr"]

    info = oauth.get(metadata["userinfo_endpoint"])
    assert info.status_code == 200
    assert info.json()["sub"] == claims["sub"]
    assert "*" in info.json()["id_number_masked"]

    old_access, old_refresh = token["access_token"], token["refresh_token"]
    refreshed = oauth.refresh_token(metadata["token_endpoint"])
    assert refreshed["access_token"] != old_access and refreshed["refresh_token"] != old_refresh
    renewed = jwt.decode(refreshed["id_token"], keyset, claims_options=options)
    renewed.validate()
    assert renewed["sid"] == claims["sid"] and renewed["auth_time"] == claims["auth_time"]
    assert oauth.get(metadata["userinfo_endpoint"]).status_code == 200

    logout = oauth.get(metadata["end_session_endpoint"], allow_redirects=False,
                       withhold_token=True, params={
        "id_token_hint": refreshed["id_token"], "post_logout_redirect_uri": goodbye,
        "state": "bye"})
    assert logout.status_code == 302
    assert logout.headers["Location"].startswith(goodbye)
    assert parse_qs(urlsplit(logout.headers["Location"]).query)["state"] == ["bye"]

    # Every token of the session is dead: the current ones and the old ones.
    for access in (refreshed["access_token"], old_access):
        dead = requests.get(metadata["userinfo_endpoint"],
                            headers={"Authorization": f"Bearer {access}"}, timeout=10)
        assert dead.status_code == 401 and "invalid_token" in dead.headers["WWW-Authenticate"]
    for refresh in (refreshed["refresh_token"], old_refresh):
        again = requests.post(metadata["token_endpoint"], auth=(rp.client_id, secret), timeout=10,
                              data={"grant_type": "refresh_token", "refresh_token": refresh})
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    inactive = requests.post(metadata["introspection_endpoint"], auth=(rp.client_id, secret),
                             data={"token": refreshed["access_token"]}, timeout=10)
    assert inactive.json() == {"active": False}

    # The relying party is told over the back channel (by the worker serve started).
    deadline = time.monotonic() + 30
    while not receiver.bodies and time.monotonic() < deadline:
        time.sleep(0.2)
    assert receiver.bodies, "no back-channel logout arrived"
    logout_token = receiver.bodies[0]["logout_token"][0]
    logout_claims = jwt.decode(logout_token, keyset, claims_options=options)
    logout_claims.validate()
    assert logout_claims["sid"] == claims["sid"] and logout_claims["sub"] == claims["sub"]
    assert "http://schemas.openid.net/event/backchannel-logout" in logout_claims["events"]
    assert "nonce" not in logout_claims
