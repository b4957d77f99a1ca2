"""Electronic seals (电子印章): the registry, custodians' authorisations and the use log.

Other apps use :mod:`yiwang.support.seals.service`, never these models directly.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SealKind(models.TextChoices):
    OFFICIAL = "official", _("公章")
    BUSINESS = "business", _("业务专用章")
    APPROVAL = "approval", _("行政审批专用章")
    LICENCE = "licence", _("证照专用章")
    CONTRACT = "contract", _("合同专用章")
    FINANCE = "finance", _("财务专用章")


class SealStatus(models.TextChoices):
    ACTIVE = "active", _("在用")
    SUSPENDED = "suspended", _("暂停使用")
    REVOKED = "revoked", _("已注销")


class Seal(models.Model):
    """A department's electronic seal (电子印章): its picture, its signing key (in the vault,
    purpose ``seal:<code>``), the X.509 certificate the region's root CA issued for that key,
    its status and its custodians (保管人, officials of the department)."""

    code = models.CharField(_("印章编码"), max_length=32, unique=True)
    department = models.ForeignKey("orgs.Department", verbose_name=_("所属部门"),
                                   on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("印章名称"), max_length=128)
    kind = models.CharField(_("印章类型"), max_length=16, choices=SealKind.choices)
    stamp_png = models.BinaryField(_("印模"), editable=False)
    key_id = models.CharField(_("签名密钥"), max_length=32, unique=True)
    certificate_serial = models.CharField(_("证书序列号"), max_length=64, blank=True,
                                          db_index=True)
    certificate_sha256 = models.CharField(_("证书指纹"), max_length=64, blank=True,
                                          db_index=True)
    status = models.CharField(_("状态"), max_length=16, choices=SealStatus.choices,
                              default=SealStatus.ACTIVE)
    status_reason = models.TextField(_("状态变更原因"), blank=True)
    valid_from = models.DateTimeField(_("启用时间"))
    valid_until = models.DateTimeField(_("有效期至"))
    custodians = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("保管人"),
                                        related_name="+", blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("电子印章")
        verbose_name_plural = _("电子印章")
        ordering = ["department_id", "name"]
        permissions = [
            ("manage_seals", _("管理本部门的电子印章")),
            ("view_seal_uses", _("查看本部门的用印记录")),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=["active", "suspended",
                                                                  "revoked"]),
                                   name="seals_seal_status"),
        ]

    def __str__(self) -> str:
        return self.name


class SealAuthorisation(models.Model):
    """A custodian's authorisation to use a seal (用印授权): single use, bound to one
    document's SHA-256, or standing (长期授权) for one purpose — e.g. automatic sealing of
    one licence type's PDFs — until a date."""

    seal = models.ForeignKey(Seal, verbose_name=_("印章"), on_delete=models.PROTECT,
                             related_name="authorisations")
    custodian = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("授权人"),
                                  on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField(_("用途"), max_length=200)
    document_sha256 = models.CharField(_("文件摘要"), max_length=64, blank=True)
    standing_until = models.DateTimeField(_("长期授权有效期至"), null=True, blank=True)
    auth_level = models.PositiveSmallIntegerField(_("认证等级"))
    auth_methods = models.JSONField(_("认证方式"), default=list)
    auth_time = models.DateTimeField(_("身份认证时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("授权时间"), auto_now_add=True)
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("用印授权")
        verbose_name_plural = _("用印授权")
        ordering = ["-created_at"]
        constraints = [
            # Exactly one of: bound to a document, or standing until a date.
            models.CheckConstraint(
                condition=(models.Q(document_sha256="") & models.Q(standing_until__isnull=False))
                | (~models.Q(document_sha256="") & models.Q(standing_until__isnull=True)),
                name="seals_authorisation_single_or_standing"),
        ]

    def __str__(self) -> str:
        return f"{self.seal_id}/{self.pk}"

    @property
    def standing(self) -> bool:
        return self.standing_until is not None


class SealUse(models.Model):
    """One application of a seal to a document (用印记录); also on the ledger as ``seal.used``."""

    audit_writes = False  # its event is seals.seal_used, recorded with the use

    seal = models.ForeignKey(Seal, verbose_name=_("印章"), on_delete=models.PROTECT,
                             related_name="uses")
    authorisation = models.ForeignKey(SealAuthorisation, verbose_name=_("授权"),
                                      on_delete=models.PROTECT, related_name="uses")
    document_sha256 = models.CharField(_("原文件摘要"), max_length=64)
    sealed_sha256 = models.CharField(_("盖章后文件摘要"), max_length=64)
    level = models.CharField(_("签章级别"), max_length=8)
    field_name = models.CharField(_("签名域"), max_length=64)
    reason = models.CharField(_("用印事由"), max_length=200, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("经办人"), null=True,
                              blank=True, on_delete=models.PROTECT, related_name="+")
    ledger_log = models.CharField(_("账本"), max_length=64, blank=True)
    ledger_index = models.BigIntegerField(_("账本序号"), null=True, blank=True)
    created_at = models.DateTimeField(_("用印时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("用印记录")
        verbose_name_plural = _("用印记录")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.seal_id}/{self.pk}"
