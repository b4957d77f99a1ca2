"""Per-request context (request id, zone, client address, actor) for logs and audit events.

Set by middleware at the edge of each request and read wherever an event is recorded, so
that service functions need not pass the request around.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from typing import Any


@dataclass
class RequestContext:
    request_id: str = "-"
    zone: str = "-"
    address: str = ""
    user: Any = None  # the signed-in account (lazy object) or None


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "yiwang_request_context", default=None
)


def current() -> RequestContext:
    """The context of the request being served, or an empty one outside requests."""
    return _current.get() or RequestContext()


def begin(request_id: str, address: str) -> contextvars.Token[RequestContext | None]:
    return _current.set(RequestContext(request_id=request_id, address=address))


def end(token: contextvars.Token[RequestContext | None]) -> None:
    _current.reset(token)


def bind_zone(zone: str) -> None:
    ctx = _current.get()
    if ctx is not None:
        ctx.zone = zone


def bind_user(user: Any) -> None:
    ctx = _current.get()
    if ctx is not None:
        ctx.user = user
