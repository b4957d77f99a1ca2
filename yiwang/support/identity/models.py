"""Accounts and how they prove who they are (统一身份).

Natural persons hold accounts: citizens and officials. Enterprises (法人) are not accounts
of their own: a legal person acts through its legal representative and the agents they
authorise (:class:`Mandate`, 授权委托). Personal data (phone, real name, ID number) is
encrypted at rest and looked up through blind indexes.

Bookkeeping models that change on every request or attempt (sessions' last-seen time,
throttle counters, one-time codes) set ``audit_writes = False``; the security events they
stand for are recorded explicitly through the audit service instead.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yiwang.core.crypto.fields import EncryptedTextField


class AccountType(models.TextChoices):
    CITIZEN = "citizen", _("个人")
    ENTERPRISE = "enterprise", _("法人")
    OFFICIAL = "official", _("公职人员")


class Level(models.IntegerChoices):
    """Assurance levels. An account holds L1 or L2; a session reaches L3 with multi-factor."""

    L1 = 1, _("L1 已验证手机")
    L2 = 2, _("L2 实名认证")
    L3 = 3, _("L3 多因素强认证")


def new_access_version() -> int:
    """A fresh random :attr:`User.access_version` (random, not a counter: a number is never
    handed out twice, even to a new account that reuses a deleted one's primary key)."""
    return secrets.randbits(62)


class User(AbstractUser):  # type: ignore[django-manager-missing]
    """One account for a natural person: a citizen (who may act for enterprises) or an official."""

    account_type = models.CharField(
        _("账户类型"), max_length=16, choices=AccountType.choices, default=AccountType.CITIZEN
    )
    display_name = models.CharField(_("姓名"), max_length=64, blank=True)
    phone = EncryptedTextField(_("手机号码"), blank=True)
    phone_index = models.CharField(max_length=64, blank=True, editable=False)
    phone_verified_at = models.DateTimeField(_("手机验证时间"), null=True, blank=True)
    real_name = EncryptedTextField(_("真实姓名"), blank=True)
    id_number = EncryptedTextField(_("公民身份号码"), blank=True)
    id_number_index = models.CharField(max_length=64, blank=True, editable=False)
    verified_at = models.DateTimeField(_("实名认证时间"), null=True, blank=True)
    verified_by = models.CharField(_("实名认证方式"), max_length=32, blank=True)
    level = models.PositiveSmallIntegerField(_("认证等级"), choices=Level.choices, default=Level.L1)
    # Changes whenever what the account may do changes: its groups, its own or its groups'
    # permissions, its memberships (任职), the positions and units of its departments (see
    # ``access.py``). Read with the account on every request, it keys the per-process
    # snapshot of those rights, so no other process can answer from an older one.
    access_version = models.BigIntegerField(default=new_access_version, editable=False)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        verbose_name = _("账户")  # type: ignore[assignment]
        verbose_name_plural = _("账户")  # type: ignore[assignment]
        constraints = [
            models.UniqueConstraint(fields=["phone_index"], condition=~Q(phone_index=""),
                                    name="identity_user_unique_phone"),
            models.UniqueConstraint(fields=["id_number_index"], condition=~Q(id_number_index=""),
                                    name="identity_user_unique_id_number"),
        ]
        indexes = [
            # Plain indexes as well as the partial unique ones: a lookup by blind index then
            # uses an index without having to repeat the partial condition (SQLite needs it).
            models.Index(fields=["phone_index"], name="identity_user_phone_idx"),
            models.Index(fields=["id_number_index"], name="identity_user_idnum_idx"),
            models.Index(fields=["account_type", "id"], name="identity_user_type_id"),
            models.Index(fields=["level", "id"], name="identity_user_level_id"),
            models.Index(fields=["is_active", "id"], name="identity_user_active_id"),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    def decrypt_later(self, pending: dict[str, Callable[[], Any]]) -> None:
        """Leave the deferred columns ``pending`` (attname: the function decrypting the
        token read with the row) to be decrypted when first read, without a query."""
        self.__dict__["_decrypt_later"] = pending

    def _decrypt_now(self, names: Any = None) -> list[str]:
        pending = self.__dict__.get("_decrypt_later")
        done = []
        for name in list(pending or ()):
            if names is None or name in names:
                value = pending.pop(name)()  # type: ignore[union-attr]
                self.__dict__.setdefault(name, value)  # unless assigned meanwhile
                done.append(name)
        return done

    def refresh_from_db(self, using: Any = None, fields: Any = None,
                        from_queryset: Any = None) -> None:
        if self.__dict__.get("_decrypt_later"):
            if fields is None:
                self.__dict__["_decrypt_later"] = {}  # the row is read again: asked anew
            else:
                done = self._decrypt_now(set(fields))
                fields = [name for name in fields if name not in done]
                if not fields:
                    return
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)

    def save(self, *args: Any, **kwargs: Any) -> None:
        self._decrypt_now()  # saved as a fully loaded account is, every column
        super().save(*args, **kwargs)

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_decrypt_later", None)  # a copy reads them from the database if asked
        return state

    def _do_update(self, base_qs: Any, using: Any, pk_val: Any, values: Any, *args: Any,
                   **kwargs: Any) -> Any:
        # Saving an account loaded before its rights changed must not write back the old
        # access_version (a snapshot of the old rights would count again): saves of an
        # existing row write every column but that one, which only ``access.bump`` changes.
        values = [value for value in values if value[0].attname != "access_version"]
        return super()._do_update(base_qs, using, pk_val, values, *args, **kwargs)


class AccountSession(models.Model):
    """A signed-in session at the identity provider (and the single sign-on it carries).

    ``sid`` is the OpenID Connect session id given to relying parties. Ending the row ends
    the session everywhere: every request of a Django session bound to it checks it.
    """

    audit_writes = False

    sid = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="account_sessions")
    zone = models.CharField(max_length=16, default="public")
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now_add=True)
    auth_time = models.DateTimeField()
    acr = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.L1)
    amr = models.JSONField(default=list)
    # The highest level the factors already proved may give (a QR sign-in: at most L2);
    # only a factor proved later lifts it.
    level_cap = models.PositiveSmallIntegerField(null=True, blank=True)
    ip_masked = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=256, blank=True)
    acting_for = models.CharField(max_length=18, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, blank=True)

    class Meta:
        verbose_name = _("登录会话")
        verbose_name_plural = _("登录会话")
        indexes = [models.Index(fields=["user", "ended_at"], name="identity_sess_user_live")]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.sid[:8]}"


class TotpDevice(models.Model):
    """A time-based one-time password authenticator (RFC 6238) in an app on a phone."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="totp_devices")
    name = models.CharField(_("名称"), max_length=64)
    secret = EncryptedTextField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_step = models.BigIntegerField(default=0)  # replay protection: a code works once
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("动态口令")
        verbose_name_plural = _("动态口令")

    def __str__(self) -> str:
        return self.name


class WebAuthnCredential(models.Model):
    """A passkey or security key (WebAuthn)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="passkeys")
    name = models.CharField(_("名称"), max_length=64)
    credential_id = models.CharField(max_length=1400, unique=True)  # base64url
    public_key = models.TextField()  # base64url COSE key
    sign_count = models.BigIntegerField(default=0)
    transports = models.JSONField(default=list)
    aaguid = models.CharField(max_length=64, blank=True)
    user_verified = models.BooleanField(default=False)
    backed_up = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("通行密钥")
        verbose_name_plural = _("通行密钥")

    def __str__(self) -> str:
        return self.name


class RecoveryCode(models.Model):
    """A single-use recovery code (only its keyed hash is stored)."""

    audit_writes = False

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "code_hash"], name="identity_recovery_lookup")]

    def __str__(self) -> str:
        return f"recovery code {self.pk}"


class CodePurpose(models.TextChoices):
    SIGN_IN = "sign_in", _("登录")
    REGISTER = "register", _("注册")
    VERIFY_PHONE = "verify_phone", _("验证手机")
    STEP_UP = "step_up", _("身份确认")


class OneTimeCode(models.Model):
    """A code sent by SMS: short-lived, single-use, a few attempts."""

    audit_writes = False

    purpose = models.CharField(max_length=16, choices=CodePurpose.choices)
    target_index = models.CharField(max_length=64)  # blind index of the phone number
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True,
                             blank=True, related_name="+")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["target_index", "purpose", "created_at"],
                                name="identity_otc_lookup")]

    def __str__(self) -> str:
        return f"{self.purpose} code {self.pk}"


class QrState(models.TextChoices):
    PENDING = "pending", _("待扫码")
    SCANNED = "scanned", _("已扫码")
    APPROVED = "approved", _("已确认")
    DENIED = "denied", _("已拒绝")
    CONSUMED = "consumed", _("已使用")


class QrLoginTicket(models.Model):
    """扫码登录：a desktop browser shows the ticket; a signed-in phone approves it once."""

    audit_writes = False

    token_hash = models.CharField(max_length=64, unique=True)
    browser_hash = models.CharField(max_length=64)  # binds the ticket to the showing browser
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    state = models.CharField(max_length=16, choices=QrState.choices, default=QrState.PENDING)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                    null=True, blank=True, related_name="+")
    approver_sid = models.CharField(max_length=64, blank=True)
    desktop_ip_masked = models.CharField(max_length=64, blank=True)
    desktop_user_agent = models.CharField(max_length=256, blank=True)
    consumed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"QR ticket {self.pk} ({self.state})"


class AuthThrottle(models.Model):
    """Failure counters per account and per address (shared by every process)."""

    audit_writes = False

    key = models.CharField(max_length=96, unique=True)
    failures = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.key


class EnterpriseStatus(models.TextChoices):
    ACTIVE = "active", _("正常")
    SUSPENDED = "suspended", _("已停用")


class EnterpriseAccount(models.Model):
    """A legal person's account (法人账户), opened by its legal representative."""

    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    name = models.CharField(_("名称"), max_length=128)
    representative = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                       related_name="represented_enterprises",
                                       verbose_name=_("法定代表人"))
    status = models.CharField(_("状态"), max_length=16, choices=EnterpriseStatus.choices,
                              default=EnterpriseStatus.ACTIVE)
    registered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("法人账户")
        verbose_name_plural = _("法人账户")
        # The workbench's permissions over accounts and relying parties live here (the user
        # model belongs to the sign-in work; the oidc app to the provider's).
        permissions = [
            ("manage_accounts", _("账户管理：查询账户、停用启用、结束会话、重置多因素认证")),
            ("reveal_accounts", _("查看账户的完整个人信息")),
            ("manage_relying_parties", _("接入应用管理")),
        ]

    def __str__(self) -> str:
        return self.name


class MandateRole(models.TextChoices):
    REPRESENTATIVE = "representative", _("法定代表人")
    AGENT = "agent", _("经办人")


class Mandate(models.Model):
    """授权委托：a person may act for an enterprise within scopes, until expiry or revocation."""

    enterprise = models.ForeignKey(EnterpriseAccount, on_delete=models.CASCADE,
                                   related_name="mandates")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="mandates")
    role = models.CharField(_("身份"), max_length=16, choices=MandateRole.choices)
    scopes = models.JSONField(_("授权范围"), default=list)
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    valid_from = models.DateTimeField(_("生效时间"))
    expires_at = models.DateTimeField(_("到期时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("授权委托")
        verbose_name_plural = _("授权委托")
        indexes = [models.Index(fields=["agent", "revoked_at"], name="identity_mandate_agent")]

    def __str__(self) -> str:
        return f"{self.get_role_display()} #{self.agent_id} @ {self.enterprise_id}"
