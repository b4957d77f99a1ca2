"""Background tasks of the notify app."""

from __future__ import annotations

from yiwang.core.tasks.service import task


@task(name="notify.send_sms", max_retries=0)
def send_sms(notification_id: int) -> str:
    """Send the text message of one notification (queued by ``notify``)."""
    from yiwang.support.notify import actions

    return actions.deliver_sms(notification_id)
