"""Test helpers of the health app: a test-client handler that dispatches like the real
WSGI application, so protocol endpoints are tested on the middleware stack that serves
them in production (see handlers.py)."""

from __future__ import annotations

from typing import Any

from django.test.client import ClientHandler

from yiwang.core.health.handlers import PathDispatch, StatelessChain


class StatelessClientHandler(StatelessChain, ClientHandler):
    """Django's test-client handler with the short middleware stack."""


class DispatchingClientHandler(PathDispatch):
    """Send a test client's request to the short or the full stack, by path, as
    :class:`yiwang.core.health.handlers.Application` does."""

    def __init__(self, enforce_csrf_checks: bool = True) -> None:
        self.enforce_csrf_checks = enforce_csrf_checks
        super().__init__(ClientHandler(enforce_csrf_checks),
                         StatelessClientHandler(enforce_csrf_checks))

    def __call__(self, environ: dict[str, Any]) -> Any:
        return self.handler_for(environ)(environ)
