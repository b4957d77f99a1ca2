"""Relying parties, signing keys, consents and which relying parties a session reached."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import AbstractApplication

from yiwang.core.crypto.fields import EncryptedTextField


class SubjectType(models.TextChoices):
    PUBLIC = "public", _("统一标识 (public)")
    PAIRWISE = "pairwise", _("按应用区分 (pairwise)")


class RelyingParty(AbstractApplication):
    """A registered client application (接入应用): DOT's Application plus what yiwang needs."""

    description = models.CharField(_("说明"), max_length=200, blank=True)
    department_code = models.CharField(_("主管部门"), max_length=32, blank=True)
    backchannel_logout_uri = models.URLField(_("后端注销地址"), max_length=512, blank=True)
    subject_type = models.CharField(_("用户标识类型"), max_length=16, choices=SubjectType.choices,
                                    default=SubjectType.PUBLIC)
    # OpenID Connect Core 1.0, section 8.1: a pairwise ``sub`` is computed for a sector (a
    # host name), fixed when the relying party first becomes pairwise and never changed, so
    # editing redirect URIs never changes anybody's ``sub``. See ``sectors.py``.
    sector_identifier_uri = models.URLField(_("标识分区文档地址"), max_length=512, blank=True)
    sector = models.CharField(_("标识分区"), max_length=255, blank=True, editable=False)
    allowed_scopes = models.CharField(_("可申请的范围"), max_length=255,
                                      default="openid profile")
    min_level = models.PositiveSmallIntegerField(_("最低认证等级"), default=1)
    first_party = models.BooleanField(_("平台自有应用"), default=False)
    active = models.BooleanField(_("启用"), default=True)
    # A confidential client may also obtain tokens for itself (a service account, as
    # Keycloak calls it): the client-credentials grant, beside its authorization-code grant.
    allow_client_credentials = models.BooleanField(_("允许客户端凭证模式"), default=False)
    updated_at_rp = models.DateTimeField(auto_now=True)

    class Meta(AbstractApplication.Meta):
        swappable = "OAUTH2_PROVIDER_APPLICATION_MODEL"
        verbose_name = _("接入应用")
        verbose_name_plural = _("接入应用")

    def is_usable(self, request: Any) -> bool:
        return self.active and super().is_usable(request)

    def allows_grant_type(self, *grant_types: str) -> bool:
        if super().allows_grant_type(*grant_types):
            return True
        return (self.allow_client_credentials
                and self.client_type == self.CLIENT_CONFIDENTIAL
                and self.GRANT_CLIENT_CREDENTIALS in grant_types)

    def clean(self) -> None:
        # DOT insists on a static OIDC_RSA_PRIVATE_KEY for RS256; yiwang signs with the
        # rotating keys of SigningKey instead, so that one complaint does not apply.
        try:
            super().clean()
        except ValidationError as exc:
            errors = {k: v for k, v in exc.message_dict.items() if k != "algorithm"}
            if errors:
                raise ValidationError(errors) from None

    @property
    def jwk_key(self) -> Any:
        from yiwang.support.identity.oidc import keys

        return keys.active_key().jwk

    @property
    def scope_list(self) -> list[str]:
        return self.allowed_scopes.split()


class KeyState(models.TextChoices):
    NEXT = "next", _("待启用")
    ACTIVE = "active", _("使用中")
    RETIRED = "retired", _("已停用")


class SigningKey(models.Model):
    """A key that signs ID tokens. JWKS publishes next, active and recently retired keys."""

    kid = models.CharField(max_length=64, unique=True)
    algorithm = models.CharField(max_length=16, default="RS256")
    private_pem = EncryptedTextField(purpose="oidc.signingkey.private_pem")
    public_jwk = models.JSONField()
    state = models.CharField(max_length=16, choices=KeyState.choices, default=KeyState.NEXT)
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("签名密钥")
        verbose_name_plural = _("签名密钥")
        constraints = [
            # At most one key signs, and at most one waits to: two processes creating the
            # first key at once cannot both succeed.
            models.UniqueConstraint(fields=["state"], condition=Q(state="active"),
                                    name="oidc_one_active_key"),
            models.UniqueConstraint(fields=["state"], condition=Q(state="next"),
                                    name="oidc_one_next_key"),
        ]

    def __str__(self) -> str:
        return f"{self.kid} ({self.state})"


class Consent(models.Model):
    """What a person allowed a relying party to know (per scope), until revoked.

    ``asked_scopes`` are the scopes the consent screen showed, ``scopes`` those the person
    ticked: a later request for no more than was asked is answered without asking again,
    with only the ticked scopes. Its writes are recorded as ``oidc.consent_*`` events.
    """

    audit_writes = False

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="consents")
    application = models.ForeignKey(settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
                                    on_delete=models.CASCADE, related_name="consents")
    scopes = models.CharField(max_length=255)
    asked_scopes = models.CharField(max_length=255, blank=True)
    granted_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("授权同意")
        verbose_name_plural = _("授权同意")
        constraints = [models.UniqueConstraint(fields=["user", "application"],
                                               name="oidc_consent_unique")]

    def __str__(self) -> str:
        return f"consent #{self.pk}"

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()


class SessionClient(models.Model):
    """A relying party that received tokens within an identity-provider session (for logout)."""

    audit_writes = False

    sid = models.CharField(max_length=64, db_index=True)
    application = models.ForeignKey(settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
                                     on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    first_at = models.DateTimeField(auto_now_add=True)
    last_at = models.DateTimeField(auto_now=True)
    logout_sent_at = models.DateTimeField(null=True, blank=True)
    logout_error = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sid", "application"],
                                               name="oidc_session_client_unique")]

    def __str__(self) -> str:
        return f"session client #{self.pk}"


class Authorization(models.Model):
    """One authorization of a relying party within an identity-provider session.

    Created with the authorization code; its ``family`` becomes the ``token_family`` of the
    refresh tokens the code starts (kept through every rotation), so any access or refresh
    token leads back to the session it belongs to. The authentication facts of the session
    when the person authorized (``acr``, ``amr``, ``auth_time``) go into every ID token of
    the family, refreshed ones included.
    """

    audit_writes = False  # bookkeeping; the grants it stands for are audited explicitly

    family = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code_hash = models.CharField(max_length=64, unique=True)
    session = models.ForeignKey("identity.AccountSession", on_delete=models.CASCADE,
                                related_name="+")
    application = models.ForeignKey(settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
                                    on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    acr = models.PositiveSmallIntegerField()
    amr = models.JSONField(default=list)
    auth_time = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    code_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "application"], name="oidc_authz_user_app")]

    def __str__(self) -> str:
        return f"authorization #{self.pk}"

    @property
    def live(self) -> bool:
        """Neither revoked nor from an ended session."""
        return self.revoked_at is None and self.session.ended_at is None


class PairwiseSector(models.Model):
    """A sector of pairwise subjects (a host name, see ``sectors.py``) and the department it
    belongs to — for good.

    The first relying party that is pairwise in a sector claims it for its department; the
    row is never deleted or moved, so the sector stays that department's when its relying
    parties turn public, are disabled or deleted: another department can never compute the
    same pairwise ``sub`` for a person. The unique host also settles two registrations
    racing for a new sector (the second one is refused).
    """

    host = models.CharField(_("标识分区"), max_length=255, unique=True)
    department_code = models.CharField(_("主管部门"), max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("标识分区")
        verbose_name_plural = _("标识分区")

    def __str__(self) -> str:
        return f"{self.host} ({self.department_code or '-'})"
