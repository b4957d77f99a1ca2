"""The protocol endpoints through the real WSGI application (``yiwang.wsgi``), whose short
middleware stack serves them (yiwang.core.health.handlers), beside pages on the full one."""

from __future__ import annotations

import base64
import io
import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings

from yiwang.core.health.service import Application
from yiwang.support.identity.oidc.relying_parties import register_relying_party
from yiwang.support.identity.oidc.tests.conftest import REDIRECT

pytestmark = pytest.mark.django_db(transaction=True)


class Response:
    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status_code = int(status.split()[0])
        self.headers = headers
        self.body = body

    def header(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self) -> Any:
        return json.loads(self.body)


def call(app: Application, method: str, path: str, *, body: bytes = b"",
         headers: dict[str, str] | None = None, query: str = "") -> Response:
    """One request through the WSGI application, as gunicorn would make it."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": str(settings.YIWANG_PUBLIC_PORT),
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1",
        "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http", "wsgi.errors": io.StringIO(),
        "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
        "CONTENT_LENGTH": str(len(body)),
    }
    for name, value in (headers or {}).items():
        key = name.upper().replace("-", "_")
        environ[key if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value
    captured: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]],
                       exc_info: Any = None) -> None:
        captured.update(status=status, headers=response_headers)

    result = app(environ, start_response)
    try:
        data = b"".join(result)
    finally:
        getattr(result, "close", lambda: None)()
    return Response(captured["status"], captured["headers"], data)


@pytest.fixture
def app() -> Application:
    return Application()


def test_building_the_application_leaves_the_full_middleware_list_alone(app):
    assert "django.contrib.sessions.middleware.SessionMiddleware" in settings.MIDDLEWARE
    assert "django.contrib.sessions.middleware.SessionMiddleware" \
        not in settings.YIWANG_STATELESS_MIDDLEWARE
    assert "/oidc/token/" in app.stateless_paths and "/oidc/authorize/" not in app.stateless_paths


def test_client_credentials_and_token_use_on_the_short_stack(app):
    service, secret = register_relying_party(
        name="批处理", client_type="confidential", redirect_uris="", actor=None,
        allow_client_credentials=True, allowed_scopes="openid profile")
    basic = base64.b64encode(f"{service.client_id}:{secret}".encode()).decode()
    response = call(app, "POST", "/oidc/token/",
                    body=urlencode({"grant_type": "client_credentials",
                                    "scope": "profile"}).encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded",
                             "Authorization": f"Basic {basic}"})
    assert response.status_code == 200, response.body
    token = response.json()["access_token"]
    # What the short stack keeps: request ids, security headers; what it drops: cookies.
    assert response.header("X-Request-ID")
    assert response.header("Content-Security-Policy")
    assert response.header("X-Content-Type-Options") == ["nosniff"]
    assert response.header("Cache-Control") == ["no-store"]
    assert not response.header("Set-Cookie")
    introspected = call(app, "POST", "/oidc/introspect/",
                        body=urlencode({"token": token}).encode(),
                        headers={"Content-Type": "application/x-www-form-urlencoded",
                                 "Authorization": f"Basic {basic}"})
    assert introspected.status_code == 200 and introspected.json()["active"] is True
    # Wrong secret: the standard error, still on the short stack.
    bad = base64.b64encode(f"{service.client_id}:wrong".encode()).decode()
    refused = call(app, "POST", "/oidc/token/",
                   body=b"grant_type=client_credentials",
                   headers={"Content-Type": "application/x-www-form-urlencoded",
                            "Authorization": f"Basic {bad}"})
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"


def test_the_short_stack_keeps_the_nul_check_and_the_bearer_rule(app):
    nul = call(app, "POST", "/oidc/token/", body=b"grant_type=client_credentials%00",
               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert nul.status_code == 400 and "NUL" in nul.body.decode()
    # A browser's session cookie is no credential here.
    anonymous = call(app, "GET", "/oidc/userinfo/", headers={"Cookie": "yiwang_public=abc"})
    assert anonymous.status_code == 401
    assert anonymous.header("WWW-Authenticate")


@pytest.mark.parametrize("path", sorted(settings.YIWANG_STATELESS_PATHS))
def test_a_forged_host_is_refused_on_every_stateless_path(app, path):
    forged = call(app, "GET", path, headers={"Host": "evil.attacker.example"})
    assert forged.status_code == 400
    assert call(app, "GET", path).status_code != 400  # the same request from a real host


def test_discovery_and_jwks_on_the_short_stack(app):
    discovery = call(app, "GET", "/.well-known/openid-configuration")
    assert discovery.status_code == 200
    assert discovery.json()["token_endpoint"].endswith("/oidc/token/")
    jwks = call(app, "GET", "/oidc/jwks/")
    assert jwks.status_code == 200 and jwks.json()["keys"]


def test_pages_keep_the_full_stack(app):
    register_relying_party(name="示例", client_type="confidential", redirect_uris=REDIRECT,
                           actor=None)
    page = call(app, "GET", "/account/login/")
    assert page.status_code == 200
    # CSRF and the zone's own session cookie come from the browser-only middleware.
    cookies = " ".join(page.header("Set-Cookie"))
    assert "csrftoken=" in cookies
    # One slash away from a stateless path is not that path: the full stack answers.
    near = call(app, "GET", "/oidc/jwks")
    assert near.status_code in (301, 404)
    # The workbench is not on the public listener, whichever stack would serve it.
    assert call(app, "GET", "/workbench/").status_code == 404


def test_the_test_client_dispatches_like_production(public_client):
    # The provider's other tests use this client: they exercise the same stacks.
    protocol = public_client.get("/oidc/jwks/")
    assert protocol.status_code == 200
    assert not hasattr(protocol.wsgi_request, "session")
    page = public_client.get("/account/login/")
    assert page.status_code == 200 and hasattr(page.wsgi_request, "session")
