"""Models of the crypto app: managed signing keys, and a probe table for self checks."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.crypto.fields import EncryptedTextField


class EncryptionProbe(models.Model):
    """A row that self checks and tests send through ``EncryptedTextField``; no real data."""

    secret = EncryptedTextField(_("密文探针"))
    note = EncryptedTextField(_("备注"), null=True, blank=True, purpose="crypto.probe.note")

    class Meta:
        verbose_name = _("加密探针")
        verbose_name_plural = _("加密探针")

    def __str__(self) -> str:
        return f"EncryptionProbe {self.pk}"


class ManagedKey(models.Model):
    """A signing key of an owner for one purpose (签名密钥): its public half and vault handle.

    The private key never leaves the vault named in ``vault``; ``vault_handle`` is how that
    vault finds it (for the software vault: the wrapped PKCS#8). At most one key is active
    per (owner, purpose); creating or rotating retires the previous one, which still verifies.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("在用")
        RETIRED = "retired", _("已停用")
        REVOKED = "revoked", _("已吊销")

    id = models.CharField(_("密钥标识"), max_length=32, primary_key=True)
    owner = models.CharField(_("持有者"), max_length=64, db_index=True,
                             help_text=_("部门代码、region 或 ledger:<日志名>"))
    purpose = models.CharField(_("用途"), max_length=64)
    algorithm = models.CharField(_("算法"), max_length=32)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices,
                              default=Status.ACTIVE)
    public_key = models.BinaryField(_("公钥"))
    vault = models.CharField(_("密钥库"), max_length=32)
    vault_handle = models.TextField(_("密钥库句柄"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    retired_at = models.DateTimeField(_("停用时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    revocation_reason = models.TextField(_("吊销原因"), blank=True)
    not_after = models.DateTimeField(_("有效期至"), null=True, blank=True)

    class Meta:
        verbose_name = _("签名密钥")
        verbose_name_plural = _("签名密钥")
        ordering = ["owner", "purpose", "-created_at"]
        indexes = [models.Index(fields=["owner", "purpose", "status"])]
        constraints = [
            models.UniqueConstraint(fields=["owner", "purpose"],
                                    condition=models.Q(status="active"),
                                    name="crypto_one_active_key_per_owner_purpose"),
            models.CheckConstraint(condition=models.Q(status__in=["active", "retired", "revoked"]),
                                   name="crypto_managed_key_status"),
        ]
        permissions = [("manage_signing_keys", _("管理签名密钥（创建、轮换、吊销）"))]

    def __str__(self) -> str:
        return f"{self.owner}/{self.purpose} {self.algorithm} {self.id} ({self.status})"
