"""The WSGI application: the whole middleware stack for pages, a short one for the
stateless protocol endpoints.

Pages need sessions, CSRF, the signed-in account, messages and static files. The OAuth/OIDC
protocol endpoints (token, userinfo, introspection, revocation, JWKS, discovery) and the
health check need none of them: callers authenticate with client credentials or bearer
tokens, never with cookies, and these are the endpoints that take the heaviest load. Their
requests run through ``YIWANG_STATELESS_MIDDLEWARE`` — the same stack minus the middleware
that only serves browsers — which keeps request ids, access logs and metrics, zone routing,
the Host check against ``ALLOWED_HOSTS``, the NUL check, the language, the audit context and
every security header.

Dispatch is by exact path (``YIWANG_STATELESS_PATHS``) or by prefix for whole subtrees of
public read-only JSON (``YIWANG_STATELESS_PREFIXES``), before Django resolves anything; any
other path, including one a slash away from a listed one, takes the whole stack.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler

_loading = threading.Lock()


class StatelessChain:
    """Mixin for a handler whose middleware chain is ``YIWANG_STATELESS_MIDDLEWARE``."""

    def load_middleware(self, is_async: bool = False) -> None:
        # BaseHandler.load_middleware reads settings.MIDDLEWARE; present the short list to it
        # while it builds the chain (once, at start-up), then put the full list back.
        with _loading:
            full = settings.MIDDLEWARE
            settings.MIDDLEWARE = list(settings.YIWANG_STATELESS_MIDDLEWARE)
            try:
                super().load_middleware(is_async)  # type: ignore[misc]
            finally:
                settings.MIDDLEWARE = full


class StatelessHandler(StatelessChain, WSGIHandler):
    """The WSGI handler of the stateless paths."""


class PathDispatch:
    """Send each request to the short stack (``stateless``) when its path is one of
    ``YIWANG_STATELESS_PATHS`` or starts with one of ``YIWANG_STATELESS_PREFIXES``, else to
    the full one (``pages``). Shared by the WSGI
    application and the test clients' handler (testing.py), so both dispatch alike."""

    def __init__(self, pages: Any, stateless: Any) -> None:
        self.pages = pages
        self.stateless = stateless
        self.stateless_paths = frozenset(settings.YIWANG_STATELESS_PATHS)
        self.stateless_prefixes = tuple(getattr(settings, "YIWANG_STATELESS_PREFIXES", ()))

    def handler_for(self, environ: dict[str, Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if path in self.stateless_paths or (self.stateless_prefixes
                                            and path.startswith(self.stateless_prefixes)):
            return self.stateless
        return self.pages


class Application(PathDispatch):
    """The WSGI application: each request to the handler its path calls for."""

    def __init__(self) -> None:
        super().__init__(WSGIHandler(), StatelessHandler())

    def __call__(self, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self.handler_for(environ)(environ, start_response)
