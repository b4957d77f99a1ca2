"""Test helpers for the zones: a client whose requests arrive on a given listener."""

from __future__ import annotations

from typing import Any

from django.test import Client

from yiwang.core.health.testing import DispatchingClientHandler


class ListenerClient(Client):
    """A test client whose requests arrive on one listener port (Django's client would
    otherwise reset SERVER_PORT to 80 on every request), through the middleware stack
    production uses for their path (the short one for the stateless protocol endpoints)."""

    def __init__(self, port: int, **defaults: Any) -> None:
        super().__init__(**defaults)
        self.port = str(port)
        self.handler = DispatchingClientHandler(self.handler.enforce_csrf_checks)

    def _base_environ(self, **request: Any) -> dict[str, Any]:
        environ = super()._base_environ(**request)
        environ["SERVER_PORT"] = self.port
        return environ
