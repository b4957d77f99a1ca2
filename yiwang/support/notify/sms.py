"""The adapter between notify and identity's SMS gateway plugin (短信).

Notifications reuse the gateway identity configures (``YIWANG_SMS_GATEWAY``), through the
identity facade's ``send_sms(phone, template, params, *, limited)`` and its ``"notice"``
template. Until the facade offers it, :func:`send_text` raises :class:`SmsUnavailable` and
the notification records the text message as failed (the portal notification stands).
"""

from __future__ import annotations

from typing import Any

from yiwang.support.identity import service as identity

TEMPLATE = "notice"


class SmsUnavailable(Exception):
    """No SMS gateway can be reached through the identity facade."""


def send_text(phone: str, title: str) -> str:
    """Send the notice template with ``title`` to ``phone``; return the message id.

    Raises the gateway's error (identity's ``SmsError``), a ``ValidationError`` for a bad
    number, or :class:`SmsUnavailable`.
    """
    send: Any = getattr(identity, "send_sms", None)
    if send is None:
        raise SmsUnavailable("the identity facade has no send_sms")
    # Not counted against the per-phone limits of one-time codes: those protect sign-in,
    # and a notification must not use up a person's quota for their own codes.
    return str(send(phone, TEMPLATE, {"title": title}, limited=False))
