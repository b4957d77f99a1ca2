"""Public facade of the identity app (统一身份认证).

Other apps import this module only. Writes go through the verb-named functions re-exported
here from the identity app's modules; each is one transaction and raises
``ValidationError`` with a message a person can act on.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from yiwang.support.identity.assurance import (
    ACR_VALUES,
    acr_name,
    account_level,
    parse_acr,
    required_level,
)
from yiwang.support.identity.models import AccountSession, AccountType, Level, User
from yiwang.support.identity.sessions import (
    current as current_session,
)
from yiwang.support.identity.sessions import (
    end_session,
    end_user_sessions,
    level_of,
    list_sessions,
    on_session_end,
    sign_in,
    sign_out,
    step_up,
)

__all__ = [
    "ACR_VALUES",
    "AccountSession",
    "AccountType",
    "Level",
    "account_level",
    "acr_name",
    "count_officials",
    "create_official",
    "current_session",
    "end_session",
    "end_user_sessions",
    "get_user",
    "level_of",
    "list_sessions",
    "on_session_end",
    "parse_acr",
    "required_level",
    "sign_in",
    "sign_out",
    "step_up",
]


def get_user(user_id: int) -> User | None:
    """The account with this id, or None."""
    return get_user_model().objects.filter(pk=user_id).first()


@transaction.atomic
def create_official(username: str, display_name: str, *, password: str | None = None,
                    password_hash: str | None = None, superuser: bool = False,
                    phone: str = "") -> User:
    """Create (or update) an official's account that may sign in to the workbench.

    Give ``password`` (hashed here) or an already computed ``password_hash`` (bulk loads
    hash once: a strong hash takes a noticeable fraction of a second). Officials are
    appointed, so their identity counts as verified (L2) by the personnel department.
    """
    if (password is None) == (password_hash is None):
        raise ValueError("give exactly one of password and password_hash")
    user, _ = User.objects.get_or_create(username=username)
    user.display_name = display_name
    user.account_type = AccountType.OFFICIAL
    user.is_staff = True
    user.is_superuser = superuser
    user.verified_at = user.verified_at or timezone.now()
    user.verified_by = user.verified_by or "hr"
    user.level = Level.L2
    if phone:
        from yiwang.core.crypto.service import blind_index

        user.phone = phone
        user.phone_index = blind_index(phone, "identity.phone")
        user.phone_verified_at = user.phone_verified_at or timezone.now()
    if password is not None:
        user.set_password(password)
    else:
        user.password = password_hash or ""
    user.save()
    return user


def count_officials() -> int:
    """How many active official accounts exist."""
    return User.objects.filter(account_type=AccountType.OFFICIAL, is_active=True).count()
