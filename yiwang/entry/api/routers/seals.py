"""JSON API of the seals area: public_router (public listener) and internal_router
(internal listener), both on /api/v1/seals. Thin: each endpoint calls the app's service.py."""

from __future__ import annotations

from ninja import Router

public_router = Router(tags=["seals"])
internal_router = Router(tags=["seals"])
