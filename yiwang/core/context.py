"""Per-request context (request id, zone, client address, actor) for logs and audit events.

Set by middleware at the edge of each request and read wherever an event is recorded, so
that service functions need not pass the request around.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


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


@contextmanager
def collecting(batch: contextvars.ContextVar[list[T] | None],
               flush: Callable[[list[T]], object]) -> Iterator[None]:
    """Inside: writers that find a list in ``batch`` append their rows to it instead of
    writing each one; the block's end hands them to ``flush`` (one ``INSERT`` for all), in
    order. Open it just inside ``transaction.atomic()``, with the same extent: should the
    block raise, nothing is flushed, as the transaction is rolled back anyway. Nested blocks
    join the outer one. Two limits (review 2026-11-28 L3): a savepoint rolled back inside
    the block does not take back the rows already collected — do not catch an error and carry
    on inside it; and a collected row has no primary key until the block ends."""
    if batch.get() is not None:
        yield
        return
    rows: list[T] = []
    token = batch.set(rows)
    try:
        yield
    finally:
        batch.reset(token)
    if rows:
        flush(rows)
