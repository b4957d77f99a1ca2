"""Fixtures of the provider's tests: people, relying parties, a PKCE client helper."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from yiwang.core.crypto.service import blind_index
from yiwang.support.identity.models import AccountType, Level, User
from yiwang.support.identity.oidc import keys
from yiwang.support.identity.oidc.relying_parties import register_relying_party
from yiwang.support.identity.testing import sign_in_client

REDIRECT = "https://rp.example.org/callback"
LOGOUT_REDIRECT = "https://rp.example.org/signed-out"


@pytest.fixture(autouse=True)
def _fresh_key_cache() -> Iterator[None]:
    keys.clear_cache()
    yield
    keys.clear_cache()


_counter = iter(range(1, 10**6))


def make_user(*, kind: str = AccountType.CITIZEN, verified: bool = True, name: str = "",
              phone: str = "", id_number: str = "") -> User:
    n = next(_counter)
    user = User.objects.create_user(username=f"person{n}", password="not used here")
    user.account_type = kind
    user.display_name = name or f"测试用户{n}"
    if phone:
        user.phone = phone
        user.phone_index = blind_index(phone, "identity.phone")
        user.phone_verified_at = timezone.now()
    if id_number:
        user.id_number = id_number
        user.id_number_index = blind_index(id_number, "identity.id_number")
    if verified:
        user.verified_at = timezone.now()
        user.verified_by = "registry"
        user.level = Level.L2
    user.save()
    return user


@pytest.fixture
def citizen(db: Any) -> User:
    return make_user(phone="13912345678", id_number="11010519491231002X")


@pytest.fixture
def rp_and_secret(db: Any) -> tuple[Any, str]:
    rp, secret = register_relying_party(
        name="示例应用", client_type="confidential", redirect_uris=REDIRECT,
        post_logout_redirect_uris=LOGOUT_REDIRECT,
        allowed_scopes="openid profile identity phone enterprise official", actor=None)
    assert secret
    return rp, secret


@pytest.fixture
def rp(rp_and_secret: tuple[Any, str]) -> Any:
    return rp_and_secret[0]


@pytest.fixture
def secret(rp_and_secret: tuple[Any, str]) -> str:
    return rp_and_secret[1]


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()) \
        .rstrip(b"=").decode()
    return verifier, challenge


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@dataclass
class Flow:
    """One authorization-code flow of a relying party through the Django test client."""

    client: Client
    rp: Any
    secret: str | None = None
    scope: str = "openid profile"
    redirect_uri: str = REDIRECT
    extra: dict[str, str] = field(default_factory=dict)
    verifier: str = ""
    state: str = ""
    nonce: str = ""

    def authorize_url(self, **overrides: str) -> str:
        self.verifier, challenge = pkce()
        self.state = secrets.token_urlsafe(8)
        self.nonce = secrets.token_urlsafe(8)
        params = {"response_type": "code", "client_id": self.rp.client_id,
                  "redirect_uri": self.redirect_uri, "scope": self.scope, "state": self.state,
                  "nonce": self.nonce, "code_challenge": challenge,
                  "code_challenge_method": "S256", **self.extra, **overrides}
        params = {k: v for k, v in params.items() if v is not None}
        return "/oidc/authorize/?" + urlencode(params)

    def authorize(self, **overrides: str) -> Any:
        return self.client.get(self.authorize_url(**overrides))

    def code(self, **overrides: str) -> str:
        """Authorize (consenting if asked, to everything) and return the code."""
        response = self.authorize(**overrides)
        if response.status_code == 200 and b"consent_scope" in response.content:
            chosen = self.scope.split()
            response = self.client.post(response.wsgi_request.get_full_path(),
                                        {"decision": "allow", "consent_scope": chosen})
        assert response.status_code == 302, response.content[:500]
        params = query_of(response["Location"])
        assert params.get("state") == self.state, params
        assert "code" in params, params
        return params["code"]

    def token(self, code: str, *, verifier: str | None = None, **extra: str) -> Any:
        data = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": self.redirect_uri, "client_id": self.rp.client_id,
                "code_verifier": self.verifier if verifier is None else verifier}
        if self.secret:
            data["client_secret"] = self.secret
        data.update(extra)
        return self.client.post("/oidc/token/", data)

    def tokens(self, **overrides: str) -> dict[str, Any]:
        response = self.token(self.code(**overrides))
        assert response.status_code == 200, response.content
        return dict(response.json())

    def refresh(self, refresh_token: str) -> Any:
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token,
                "client_id": self.rp.client_id}
        if self.secret:
            data["client_secret"] = self.secret
        return self.client.post("/oidc/token/", data)

    def userinfo(self, access_token: str) -> Any:
        return self.client.get("/oidc/userinfo/", HTTP_AUTHORIZATION=f"Bearer {access_token}")


@pytest.fixture
def signed_in(public_client: Client, citizen: User) -> Client:
    sign_in_client(public_client, citizen)
    return public_client


@pytest.fixture
def flow(signed_in: Client, rp: Any, secret: str) -> Flow:
    return Flow(signed_in, rp, secret)


# --- a relying party's web server on this machine ------------------------------------------


@dataclass
class LocalServer:
    """An HTTP server on 127.0.0.1 in a thread: ``routes`` maps a path to (status, body),
    ``received`` lists the requests it got (method, path, headers, body)."""

    base: str
    routes: dict[str, tuple[int, bytes]]
    received: list[dict[str, Any]]

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    routes: dict[str, tuple[int, bytes]] = {}
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            received.append({"method": self.command, "path": self.path,
                             "headers": dict(self.headers),
                             "body": self.rfile.read(length) if length else b""})
            status, body = routes.get(self.path, (404, b"not found"))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LocalServer(f"http://127.0.0.1:{server.server_address[1]}", routes, received)
    finally:
        server.shutdown()
        server.server_close()
