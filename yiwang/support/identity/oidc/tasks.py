"""Background work of the OpenID Connect provider (discovered by the tasks app)."""

from __future__ import annotations

from datetime import timedelta

from oauth2_provider.models import clear_expired

from yiwang.core.tasks.service import periodic, task
from yiwang.support.identity.oidc import keys, tokens


@task(name="oidc.send_backchannel_logout", max_retries=6, time_limit=60)
def send_backchannel_logout(session_client_id: int) -> str:
    """Tell one relying party that a session ended (Back-Channel Logout 1.0)."""
    return tokens.deliver_backchannel_logout(session_client_id)


@periodic(name="oidc.rotate_signing_keys", every=timedelta(hours=1))
def rotate_signing_keys() -> bool:
    """Rotate the ID-token signing key once it has signed for YIWANG_OIDC_KEY_ROTATION_DAYS."""
    return keys.rotate_if_due()


@periodic(name="oidc.clear_expired_tokens", at="03:30")
def clear_expired_tokens() -> None:
    """Delete expired codes, access tokens and refresh tokens past their lifetime, and the
    authorizations and session records nothing refers to any more."""
    clear_expired()
    tokens.purge_stale()
