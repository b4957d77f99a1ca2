"""Background work of the identity app (discovered by the tasks app)."""

from __future__ import annotations

from datetime import timedelta

from yiwang.core.tasks.service import periodic, task

# --- sign-in ---------------------------------------------------------------------------------


@periodic(name="identity.purge_sign_in_counters", at="03:40")
def purge_sign_in_counters() -> int:
    """Delete guessing counters quiet for two days and SMS codes ended a day ago."""
    from yiwang.support.identity import otp, throttle

    return throttle.purge() + otp.purge()


# --- factors ---------------------------------------------------------------------------------


@periodic(name="identity.purge_qr_tickets", at="03:45")
def purge_qr_tickets() -> int:
    """Delete QR sign-in tickets that ended (expired or used) more than a day ago."""
    from yiwang.support.identity import qrlogin

    return qrlogin.purge_expired()


# --- sessions --------------------------------------------------------------------------------


@periodic(name="identity.expire_sessions", every=timedelta(minutes=5))
def expire_sessions() -> int:
    """End sign-ins older than YIWANG_SESSION_AGE, revoking their tokens (see sessions)."""
    from yiwang.support.identity import sessions

    return sessions.expire_sessions()


# --- SMS -------------------------------------------------------------------------------------


@task(name="identity.deliver_sms", max_retries=3)
def deliver_sms(sealed: str) -> str:
    """Send a queued one-time code through a real gateway (see otp.queue_delivery)."""
    from yiwang.support.identity import otp

    return otp.deliver_queued(sealed)
