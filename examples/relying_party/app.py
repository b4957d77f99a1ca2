"""示例第三方应用 — a small government web app that signs people in through yiwang.

It is what another government system (a district's housing-subsidy site, say) would do to
use yiwang's unified identity: nothing here imports yiwang. It speaks OpenID Connect to the
provider's published endpoints with Authlib (a standard client library) and validates ID
tokens against the provider's JWKS with joserfc.

- authorization code flow with PKCE (S256), ``state`` and ``nonce``;
- ID token signature, issuer, audience, expiry and nonce checked; ``acr`` shown;
- userinfo read with the access token;
- RP-initiated logout (``end_session_endpoint`` with ``id_token_hint``);
- OIDC Back-Channel Logout: the provider POSTs a signed logout token to ``/backchannel-logout``
  and every local session with that ``sid`` ends;
- ``?acr=L3`` on the sign-in link asks for a stronger sign-in (step-up).

Configuration comes from the environment (see README.md): ``RP_ISSUER``, ``RP_CLIENT_ID``,
``RP_CLIENT_SECRET`` (or ``RP_CLIENT_SECRET_FILE``), ``RP_BASE_URL``, ``RP_PORT``.
Run: ``python examples/relying_party/app.py``.
"""

from __future__ import annotations

import html
import json
import os
import re
import secrets
import sys
import threading
import time
from http import cookies
from socketserver import ThreadingMixIn
from urllib.parse import parse_qs, urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
PLAIN = [("Content-Type", "text/plain; charset=utf-8")]


class Config:
    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = environ if environ is not None else dict(os.environ)
        self.issuer = env.get("RP_ISSUER", "http://localhost:8000").rstrip("/")
        self.client_id = env.get("RP_CLIENT_ID", "example-rp")
        secret = env.get("RP_CLIENT_SECRET", "")
        secret_file = env.get("RP_CLIENT_SECRET_FILE", "")
        if not secret and secret_file:
            with open(secret_file, encoding="utf-8") as fh:
                secret = fh.read().strip()
        self.client_secret = secret
        self.port = int(env.get("RP_PORT", "8100"))
        self.base_url = env.get("RP_BASE_URL", f"http://127.0.0.1:{self.port}").rstrip("/")
        self.title = env.get("RP_TITLE", "示例第三方应用 Example government app")
        self.scope = env.get("RP_SCOPE", "openid profile identity")


class Provider:
    """The provider's metadata and keys, fetched once and refreshed when a kid is unknown."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self._meta: dict | None = None
        self._keys: KeySet | None = None
        self._lock = threading.Lock()

    @property
    def meta(self) -> dict:
        if self._meta is None:
            response = requests.get(self.issuer + "/.well-known/openid-configuration", timeout=10)
            response.raise_for_status()
            meta = response.json()
            if meta.get("issuer") != self.issuer:
                raise RuntimeError(f"issuer mismatch: {meta.get('issuer')!r} != {self.issuer!r}")
            self._meta = meta
        return self._meta

    def keys(self, refresh: bool = False) -> KeySet:
        with self._lock:
            if self._keys is None or refresh:
                response = requests.get(self.meta["jwks_uri"], timeout=10)
                response.raise_for_status()
                self._keys = KeySet.import_key_set(response.json())
            return self._keys

    def decode(self, token: str) -> jwt.Token:
        try:
            return jwt.decode(token, self.keys(), algorithms=["RS256", "ES256"])
        except (JoseError, ValueError):
            # A key rotated since we last fetched: fetch once more, then give up.
            return jwt.decode(token, self.keys(refresh=True), algorithms=["RS256", "ES256"])


class App:
    """The WSGI application: a page, sign-in, callback, sign-out and back-channel logout."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.provider = Provider(config.issuer)
        self.sessions: dict[str, dict] = {}  # cookie value -> session data
        # Browsers share cookies between ports of a host: name ours after the client, so
        # that two apps on 127.0.0.1 do not overwrite each other's session.
        self.cookie = "rp_" + re.sub(r"[^A-Za-z0-9]", "_", config.client_id)[:40]
        self.lock = threading.Lock()

    # --- helpers -------------------------------------------------------------------------
    def client(self) -> OAuth2Session:
        return OAuth2Session(
            self.config.client_id, self.config.client_secret or None,
            scope=self.config.scope, redirect_uri=self.config.base_url + "/callback",
            code_challenge_method="S256",
            token_endpoint_auth_method=("client_secret_basic" if self.config.client_secret
                                        else "none"),
        )

    def session_of(self, environ: dict) -> tuple[str, dict]:
        jar = cookies.SimpleCookie(environ.get("HTTP_COOKIE", ""))
        key = jar[self.cookie].value if self.cookie in jar else ""
        with self.lock:
            if key and key in self.sessions:
                return key, self.sessions[key]
            key = secrets.token_urlsafe(24)
            self.sessions[key] = {}
            return key, self.sessions[key]

    def validate_id_token(self, id_token: str, nonce: str | None) -> dict:
        token = self.provider.decode(id_token)
        registry = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": self.config.issuer},
            aud={"essential": True, "value": self.config.client_id},
            sub={"essential": True}, exp={"essential": True}, iat={"essential": True},
        )
        registry.validate(token.claims)
        if nonce is not None and token.claims.get("nonce") != nonce:
            raise ValueError("nonce mismatch")
        return dict(token.claims)

    # --- WSGI ------------------------------------------------------------------------------
    def __call__(self, environ: dict, start_response):  # type: ignore[no-untyped-def]
        path = environ.get("PATH_INFO", "/")
        try:
            if path == "/":
                status, headers, body = self.home(environ)
            elif path == "/login":
                status, headers, body = self.login(environ)
            elif path == "/callback":
                status, headers, body = self.callback(environ)
            elif path == "/logout" and environ["REQUEST_METHOD"] == "POST":
                # POST only: a link or image elsewhere must not sign people out everywhere.
                status, headers, body = self.logout(environ)
            elif path == "/backchannel-logout" and environ["REQUEST_METHOD"] == "POST":
                status, headers, body = self.backchannel_logout(environ)
            elif path == "/healthz":
                status, headers, body = "200 OK", PLAIN, b"ok"
            else:
                status, headers, body = "404 Not Found", PLAIN, b"not found"
        except requests.RequestException as exc:
            status, headers, body = self.page(
                "502 Bad Gateway", environ,
                "<p>无法连接统一身份认证平台 Cannot reach the provider: "
                f"{html.escape(type(exc).__name__)}</p>")
        start_response(status, headers)
        return [body]

    def page(self, status: str, environ: dict, content: str,
             extra_headers: list | None = None) -> tuple[str, list, bytes]:
        title = html.escape(self.config.title)
        body = (f"<!doctype html><html lang='zh-Hans'><head><meta charset='utf-8'>"
                f"<title>{title}</title></head><body><header><h1>{title}</h1></header>"
                f"<main>{content}</main></body></html>").encode()
        headers = [("Content-Type", "text/html; charset=utf-8"),
                   ("Cache-Control", "no-store"), *(extra_headers or [])]
        return status, headers, body

    def cookie_header(self, key: str) -> tuple[str, str]:
        return ("Set-Cookie", f"{self.cookie}={key}; Path=/; HttpOnly; SameSite=Lax")

    def home(self, environ: dict) -> tuple[str, list, bytes]:
        key, session = self.session_of(environ)
        user = session.get("user")
        if not user:
            content = ("<p id='status'>未登录 Not signed in.</p>"
                       "<p><a id='login' href='/login'>"
                       "使用一网统一身份登录 Sign in with yiwang</a></p>")
            return self.page("200 OK", environ, content, [self.cookie_header(key)])
        claims = user["claims"]
        shown = {**claims, **user.get("userinfo", {})}
        rows = "".join(
            f"<tr><th>{html.escape(str(k))}</th>"
            f"<td>{html.escape(json.dumps(v, ensure_ascii=False))}</td></tr>"
            for k, v in sorted(shown.items()))
        name = html.escape(str(shown.get("name") or claims["sub"]))
        content = (f"<p id='status'>已登录 Signed in as <strong id='name'>{name}</strong>"
                   f" (<span id='acr'>{html.escape(str(claims.get('acr', '')))}</span>)</p>"
                   f"<table id='claims'>{rows}</table>"
                   "<form method='post' action='/logout'>"
                   "<button id='logout'>退出 Sign out</button></form>")
        return self.page("200 OK", environ, content, [self.cookie_header(key)])

    def login(self, environ: dict) -> tuple[str, list, bytes]:
        key, session = self.session_of(environ)
        params = parse_qs(environ.get("QUERY_STRING", ""))
        verifier = secrets.token_urlsafe(48)
        nonce = secrets.token_urlsafe(16)
        extra = {"nonce": nonce}
        if params.get("acr"):
            extra["acr_values"] = params["acr"][0]
        url, state = self.client().create_authorization_url(
            self.provider.meta["authorization_endpoint"], code_verifier=verifier, **extra)
        session["pending"] = {"state": state, "verifier": verifier, "nonce": nonce}
        return "302 Found", [("Location", url), self.cookie_header(key)], b""

    def callback(self, environ: dict) -> tuple[str, list, bytes]:
        key, session = self.session_of(environ)
        params = parse_qs(environ.get("QUERY_STRING", ""))
        pending = session.pop("pending", None)
        if "error" in params:
            message = html.escape(params["error"][0])
            return self.page("400 Bad Request", environ,
                             f"<p id='error'>登录未完成 Sign-in not completed: {message}</p>")
        if not pending or params.get("state", [""])[0] != pending["state"]:
            return self.page("400 Bad Request", environ,
                             "<p id='error'>登录状态无效，请重新登录 "
                             "Invalid state, sign in again.</p>")
        client = self.client()
        token = client.fetch_token(
            self.provider.meta["token_endpoint"],
            authorization_response=self.config.base_url + "/callback?" + environ["QUERY_STRING"],
            code_verifier=pending["verifier"], state=pending["state"])
        claims = self.validate_id_token(token["id_token"], pending["nonce"])
        userinfo = client.get(self.provider.meta["userinfo_endpoint"], timeout=10).json()
        if userinfo.get("sub") != claims["sub"]:
            return self.page("400 Bad Request", environ, "<p id='error'>userinfo sub mismatch</p>")
        # A new session key at sign-in: a key planted before (fixation) is worth nothing.
        with self.lock:
            self.sessions.pop(key, None)
            key = secrets.token_urlsafe(24)
            self.sessions[key] = session
        session["user"] = {"claims": claims, "userinfo": userinfo, "id_token": token["id_token"],
                           "sid": claims.get("sid"), "since": time.time()}
        return "302 Found", [("Location", "/"), self.cookie_header(key)], b""

    def logout(self, environ: dict) -> tuple[str, list, bytes]:
        _key, session = self.session_of(environ)
        user = session.pop("user", None)
        if not user:
            return "302 Found", [("Location", "/")], b""
        query = urlencode({"id_token_hint": user["id_token"],
                           "post_logout_redirect_uri": self.config.base_url + "/",
                           "client_id": self.config.client_id})
        end_session = self.provider.meta["end_session_endpoint"]
        return "302 Found", [("Location", end_session + "?" + query)], b""

    def backchannel_logout(self, environ: dict) -> tuple[str, list, bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = parse_qs(environ["wsgi.input"].read(min(length, 65536)).decode())
        plain = [("Content-Type", "text/plain"), ("Cache-Control", "no-store")]
        try:
            token = self.provider.decode(form["logout_token"][0])
            claims = token.claims
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": self.config.issuer},
                aud={"essential": True, "value": self.config.client_id},
                iat={"essential": True}, jti={"essential": True},
            ).validate(claims)
            if BACKCHANNEL_EVENT not in (claims.get("events") or {}) or "nonce" in claims:
                raise ValueError("not a logout token")
            if not claims.get("sid") and not claims.get("sub"):
                raise ValueError("logout token names neither sid nor sub")
        except (KeyError, ValueError, JoseError) as exc:
            return ("400 Bad Request", plain,
                    f"invalid logout token: {type(exc).__name__}".encode())
        ended = 0
        with self.lock:
            for data in self.sessions.values():
                user = data.get("user")
                same_sid = claims.get("sid") and user and user.get("sid") == claims["sid"]
                same_sub = (not claims.get("sid") and user
                            and user["claims"]["sub"] == claims.get("sub"))
                if same_sid or same_sub:
                    data.pop("user", None)
                    ended += 1
        return "200 OK", plain, f"ended {ended}".encode()


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        sys.stderr.write("example-rp: " + (format % args) + "\n")


def main() -> None:
    config = Config()
    server = make_server("127.0.0.1", config.port, App(config), server_class=_ThreadingServer,
                         handler_class=_QuietHandler)
    print(f"示例第三方应用 listening on {config.base_url} (issuer {config.issuer})", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
