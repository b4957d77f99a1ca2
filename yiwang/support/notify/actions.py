"""The writes and queries behind the notify facade."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.masking.service import mask_phone
from yiwang.core.tasks.service import enqueue
from yiwang.support.notify.models import Notification

logger = logging.getLogger(__name__)

MAX_PER_PAGE = 100


def _safe_link(link: str) -> str:
    # Only site-relative links: a notification must never send a person elsewhere.
    link = (link or "").strip()
    if link.startswith("/") and not link.startswith("//") and "\\" not in link:
        return link[:500]
    return ""


@transaction.atomic
def notify(user: Any, *, kind: str, title: str, body: str = "", link: str = "",
           sms: bool = False, phone: str | None = None) -> Notification:
    by_pk = isinstance(user, int) and not isinstance(user, bool)
    if user is None or (not by_pk and getattr(user, "pk", None) is None):
        raise ValidationError(_("消息的接收人不存在。"))
    title = (title or "").strip()
    if not title:
        raise ValidationError(_("消息必须有标题。"))
    if not kind or len(kind) > 50:
        raise ValidationError(_("消息类别无效。"))
    # A user's key is enough: the notification is not the place to read the user.
    recipient = {"recipient_id": user} if by_pk else {"recipient": user}
    notification = Notification.objects.create(
        **recipient, kind=kind, title=title[:200], body=body or "", link=_safe_link(link),
        sms_state=Notification.SmsState.PENDING if sms else Notification.SmsState.NONE,
        sms_phone=(phone or "") if sms else "",
    )
    if sms:
        # The job row lands with the notification, so the text goes out only after commit.
        enqueue("notify.send_sms", notification.pk)
    return notification


def deliver_sms(notification_id: int) -> str:
    """Send the text message of one notification (the ``notify.send_sms`` task).

    Idempotent: only a notification still pending is sent, and it is claimed with a
    conditional update so two runs at once do not both send it.
    """
    from yiwang.support.notify import sms as sms_adapter

    claimed = Notification.objects.filter(
        pk=notification_id, sms_state=Notification.SmsState.PENDING,
    ).update(sms_state=Notification.SmsState.SENDING)
    if not claimed:
        return "not pending"
    notification = Notification.objects.select_related("recipient").get(pk=notification_id)
    phone = notification.sms_phone or getattr(notification.recipient, "phone", "") or ""
    if not phone:
        return _fail(notification, "no phone number")
    try:
        message_id = sms_adapter.send_text(phone, notification.title)
    except sms_adapter.SmsUnavailable:
        return _fail(notification, "SMS gateway not available through the identity facade")
    except ValidationError:
        return _fail(notification, "invalid phone number")
    except Exception as error:  # the gateway's SmsError and anything a plugin raises
        logger.warning("SMS for notification %s to %s failed: %s", notification_id,
                       mask_phone(phone), error)
        return _fail(notification, str(getattr(error, "detail", "") or error)[:200])
    Notification.objects.filter(pk=notification_id).update(
        sms_state=Notification.SmsState.SENT, sms_error="")
    return message_id


def _fail(notification: Notification, reason: str) -> str:
    Notification.objects.filter(pk=notification.pk).update(
        sms_state=Notification.SmsState.FAILED, sms_error=reason[:200])
    return "failed: " + reason


def list_for(user: Any, *, page: int | str = 1, per_page: int = 20,
             unread_only: bool = False) -> Page:
    items = Notification.objects.filter(recipient=user).order_by("-created_at", "-pk")
    if unread_only:
        items = items.filter(read_at__isnull=True)
    per_page = max(1, min(int(per_page), MAX_PER_PAGE))
    return Paginator(items, per_page).get_page(page)


@transaction.atomic
def mark_read(user: Any, ids: Iterable[int] | None) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    items = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        wanted = [int(i) for i in ids]
        if not wanted:
            return 0
        items = items.filter(pk__in=wanted)
    return items.update(read_at=timezone.now())
