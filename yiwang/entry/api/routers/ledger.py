"""JSON API of the ledger area: public_router (public listener) and internal_router
(internal listener), both on /api/v1/ledger. Thin: each endpoint calls the app's service.py."""

from __future__ import annotations

from ninja import Router

public_router = Router(tags=["ledger"])
internal_router = Router(tags=["ledger"])
