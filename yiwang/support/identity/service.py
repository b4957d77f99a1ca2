"""Public facade of the identity app (统一身份认证)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from yiwang.support.identity.models import AccountType, User

__all__ = ["AccountType", "count_officials", "create_official", "get_user"]


def get_user(user_id: int) -> User | None:
    """The account with this id, or None."""
    return get_user_model().objects.filter(pk=user_id).first()


@transaction.atomic
def create_official(username: str, display_name: str, *, password: str | None = None,
                    password_hash: str | None = None, superuser: bool = False) -> User:
    """Create (or update) an official's account that may sign in to the workbench.

    Give ``password`` (hashed here) or an already computed ``password_hash`` (bulk loads
    hash once: a strong hash takes a noticeable fraction of a second).
    """
    if (password is None) == (password_hash is None):
        raise ValueError("give exactly one of password and password_hash")
    user, _ = User.objects.get_or_create(username=username)
    user.display_name = display_name
    user.account_type = AccountType.OFFICIAL
    user.is_staff = True
    user.is_superuser = superuser
    if password is not None:
        user.set_password(password)
    else:
        user.password = password_hash or ""
    user.save()
    return user


def count_officials() -> int:
    """How many active official accounts exist."""
    return User.objects.filter(account_type=AccountType.OFFICIAL, is_active=True).count()
