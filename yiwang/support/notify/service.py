"""Public facade of the notify app (消息通知): portal notifications and text messages.

:func:`notify` writes a notification to a person's portal inbox (``/notifications/``) and,
when asked, sends a text message after the transaction commits through identity's SMS
gateway plugin. A failed text message is recorded on the notification and never loses it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.paginator import Page

from yiwang.support.notify.models import Notification

__all__ = [
    "Notification",
    "list_notifications",
    "mark_all_read",
    "mark_read",
    "notify",
    "unread_count",
]


def notify(user: Any, *, kind: str, title: str, body: str = "", link: str = "",
           sms: bool = False, phone: str | None = None) -> Notification:
    """Add a notification to ``user``'s inbox (a user, or a user's primary key: then the
    user is not read); with ``sms``, also text ``phone`` (default: the user's verified
    phone) once the current transaction commits.

    ``kind`` is a short code (``application.submitted``…); ``link`` a site-relative URL
    (anything else is dropped). The text message carries the title only, never the body.
    """
    from yiwang.support.notify import actions

    return actions.notify(user, kind=kind, title=title, body=body, link=link, sms=sms,
                          phone=phone)


def unread_count(user: Any) -> int:
    """How many unread notifications ``user`` has (0 for anonymous users)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def list_notifications(user: Any, *, page: int | str = 1, per_page: int = 20,
                       unread_only: bool = False) -> Page:
    """One page of ``user``'s notifications, newest first."""
    from yiwang.support.notify import actions

    return actions.list_for(user, page=page, per_page=per_page, unread_only=unread_only)


def mark_read(user: Any, ids: Iterable[int]) -> int:
    """Mark the notifications ``ids`` of ``user`` as read; others' ids are ignored.
    Returns how many changed."""
    from yiwang.support.notify import actions

    return actions.mark_read(user, ids)


def mark_all_read(user: Any) -> int:
    """Mark all of ``user``'s notifications as read; returns how many changed."""
    from yiwang.support.notify import actions

    return actions.mark_read(user, None)
