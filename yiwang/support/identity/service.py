"""Public facade of the identity app (统一身份认证)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from yiwang.support.identity.models import AccountType, User

__all__ = ["AccountType", "create_official", "get_user"]


def get_user(user_id: int) -> User | None:
    """The account with this id, or None."""
    return get_user_model().objects.filter(pk=user_id).first()


@transaction.atomic
def create_official(username: str, display_name: str, password: str) -> User:
    """Create (or update) an official's account that may sign in to the workbench."""
    user, _ = User.objects.get_or_create(username=username)
    user.display_name = display_name
    user.account_type = AccountType.OFFICIAL
    user.is_staff = True
    user.set_password(password)
    user.save()
    return user
