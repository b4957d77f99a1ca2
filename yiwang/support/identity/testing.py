"""Helpers for other apps' tests: sign a test client in the way the sign-in pipeline does."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.test import Client
from django.utils import timezone

from yiwang.support.identity import assurance
from yiwang.support.identity.models import AccountSession
from yiwang.support.identity.sessions import SESSION_KEY, new_sid


def _account_session(user: Any, amr: Iterable[str], *, user_agent: str,
                     acting_for: str = "") -> AccountSession:
    """The provider session the sign-in pipeline would record for ``user`` after ``amr``."""
    amr_list = assurance.with_mfa_marker(amr)
    return AccountSession.objects.create(
        sid=new_sid(), user=user, auth_time=timezone.now(),
        acr=assurance.session_level(user, amr_list), amr=amr_list, acting_for=acting_for,
        user_agent=user_agent,
    )


def sign_in_client(client: Client, user: Any, *, amr: Iterable[str] = ("pwd", "otp"),
                   acting_for: str = "") -> AccountSession:
    """Sign ``user`` in on ``client`` with an identity-provider session (default: two factors).

    Officials are real-name accounts, so the default gives them L3 as the workbench needs.
    """
    session = _account_session(user, amr, acting_for=acting_for, user_agent="test client")
    client.force_login(user)
    django_session = client.session
    django_session[SESSION_KEY] = session.sid
    django_session.save()
    return session


def sign_in_request(request: Any, user: Any, *, amr: Iterable[str] = ("pwd", "otp")) -> Any:
    """Give a ``RequestFactory`` request the identity session the sign-in pipeline would."""
    session = _account_session(user, amr, user_agent="test request")
    request.user = user
    request.session = {SESSION_KEY: session.sid}
    request.__dict__.pop("_yiwang_account_session", None)
    return request


# Access tokens through the provider's own endpoints (for tests of the API's bearer tokens).
from yiwang.support.identity.oidc.testing import (  # noqa: E402
    IssuedTokens,
    api_client,
    bearer_token,
    issue_tokens,
)

__all__ = ["IssuedTokens", "api_client", "bearer_token", "issue_tokens", "sign_in_client",
           "sign_in_request"]


class OtherProcess:
    """What another server process remembers of officials' rights (their access snapshots):
    taken before a change and put back after it, since a change forgets only this process's
    own. A test then checks the change is still seen, through ``access_version``."""

    def __init__(self) -> None:
        from yiwang.support.identity import rights

        self._snapshots = rights._snapshots
        self.kept = dict(self._snapshots)

    def __enter__(self) -> OtherProcess:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._snapshots.update(self.kept)
