"""The ledger's public API runs on the short middleware stack (no sessions, CSRF or signed-in
account: it is public, read-only JSON for auditors); workbench pages of the same name do not."""

from __future__ import annotations

import pytest

from yiwang.core.health.testing import DispatchingClientHandler
from yiwang.entry.api.routers import ledger as ledger_routes


def test_dispatch_by_prefix_only_for_the_ledger_api() -> None:
    handler = DispatchingClientHandler()
    for path in ("/api/v1/ledger/logs", "/api/v1/ledger/logs/main/inclusion"):
        assert handler.handler_for({"PATH_INFO": path}) is handler.stateless, path
    # The workbench's ledger pages (internal listener) and other APIs keep sessions.
    for path in ("/ledger/", "/ledger/main/", "/api/v1/ledgers", "/api/v1/licences/verify",
                 "/api/v1/ledger"):
        assert handler.handler_for({"PATH_INFO": path}) is handler.pages, path


@pytest.mark.django_db
def test_no_ledger_endpoint_needs_a_session(public_client, internal_client) -> None:  # type: ignore[no-untyped-def]
    """Requests under /api/v1/ledger/ never see a session, so nothing there may need one:
    on both listeners the reads answer an anonymous caller."""
    assert ledger_routes.internal_router.auth is None
    for client in (public_client, internal_client):
        assert client.get("/api/v1/ledger/logs").status_code == 200


@pytest.mark.django_db
def test_the_ledger_api_answers_on_the_short_stack(public_client) -> None:  # type: ignore[no-untyped-def]
    response = public_client.get("/api/v1/ledger/logs")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Set-Cookie" not in response.headers and not response.cookies
