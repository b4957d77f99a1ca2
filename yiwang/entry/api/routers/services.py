"""API routes of the services area."""

from ninja import Router

public_router = Router(tags=["services"])
internal_router = Router(tags=["services"])
