"""API routes of the applications area."""

from ninja import Router

public_router = Router(tags=["applications"])
internal_router = Router(tags=["applications"])
