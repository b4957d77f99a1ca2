"""Template context for the unread badge (add to TEMPLATES' context_processors)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def unread_notifications(request: HttpRequest) -> dict[str, Any]:
    """``unread_notifications``: the signed-in person's unread count, counted only when a
    template uses it."""
    from yiwang.support.notify import service

    user = getattr(request, "user", None)
    return {"unread_notifications": SimpleLazyObject(lambda: service.unread_count(user))}
