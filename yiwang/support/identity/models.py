"""Accounts (统一身份). Issue 3 builds the full identity service on this model."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class AccountType(models.TextChoices):
    CITIZEN = "citizen", _("个人")
    ENTERPRISE = "enterprise", _("法人")
    OFFICIAL = "official", _("公职人员")


class User(AbstractUser):
    """One account for a citizen, an enterprise's representative or an official."""

    account_type = models.CharField(
        _("账户类型"), max_length=16, choices=AccountType.choices, default=AccountType.CITIZEN
    )
    display_name = models.CharField(_("姓名"), max_length=64, blank=True)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        verbose_name = _("账户")  # type: ignore[assignment]
        verbose_name_plural = _("账户")  # type: ignore[assignment]

    def __str__(self) -> str:
        return self.display_name or self.username
