"""Models of the trust app: certificates (证书), CRLs (证书撤销列表), issuer authorisations,
published and imported trust lists (信任列表).

Private to the app: other apps use ``service.py``. Private keys are not here: they sit in the
key vault of ``yiwang.core.crypto``, referenced by their key id.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CertificateUsage(models.TextChoices):
    ROOT = "root", _("根证书")
    SEAL = "seal", _("印章签名")
    LICENCE = "licence", _("证照签发")
    TSA = "tsa", _("时间戳")
    TRUST_LIST = "trust-list", _("信任列表签名")


class CertificateStatus(models.TextChoices):
    VALID = "valid", _("有效")
    REVOKED = "revoked", _("已撤销")


class Certificate(models.Model):
    """An X.509 certificate this instance's root CA issued (the root's own included)."""

    serial = models.CharField(_("序列号"), max_length=40, unique=True)  # lower-case hex
    key_id = models.CharField(_("密钥编号"), max_length=64, db_index=True)
    owner = models.CharField(_("持有者"), max_length=64, db_index=True)  # department or "region"
    usage = models.CharField(_("用途"), max_length=16, choices=CertificateUsage.choices)
    subject = models.CharField(_("主体"), max_length=255)
    algorithm = models.CharField(_("算法"), max_length=16)
    der = models.BinaryField(_("证书"))
    fingerprint = models.CharField(_("SHA-256 指纹"), max_length=64, unique=True)
    kid = models.CharField(_("COSE 密钥标识"), max_length=16, db_index=True)  # hex, 8 bytes
    # The EU DCC form of the kid: SHA-256 of the certificate, 8 bytes, hex.
    certificate_kid = models.CharField(_("证书密钥标识"), max_length=16, db_index=True,
                                       blank=True)
    issuer_serial = models.CharField(_("签发者序列号"), max_length=40, blank=True)
    not_before = models.DateTimeField(_("生效时间"))
    not_after = models.DateTimeField(_("失效时间"))
    status = models.CharField(_("状态"), max_length=8, choices=CertificateStatus.choices,
                              default=CertificateStatus.VALID)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revocation_reason = models.CharField(_("撤销原因"), max_length=32, blank=True)
    issued_at = models.DateTimeField(_("签发时间"), auto_now_add=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("签发人"), null=True,
                                  blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("证书")
        verbose_name_plural = _("证书")
        ordering = ["-issued_at", "-id"]
        permissions = [
            ("manage_all_keys", _("管理所有部门的密钥与证书")),
            ("manage_department_keys", _("管理本部门的密钥与证书")),
            ("manage_trust_lists", _("发布和导入信任列表")),
        ]

    def __str__(self) -> str:
        return f"{self.subject} ({self.serial})"


class RevocationList(models.Model):
    """A CRL the root CA issued; the newest per CA is served."""

    ca_serial = models.CharField(_("CA 序列号"), max_length=40)
    number = models.PositiveBigIntegerField(_("CRL 编号"))
    der = models.BinaryField(_("CRL"))
    this_update = models.DateTimeField(_("本次更新"))
    next_update = models.DateTimeField(_("下次更新"))

    class Meta:
        verbose_name = _("证书撤销列表")
        verbose_name_plural = _("证书撤销列表")
        constraints = [models.UniqueConstraint(fields=["ca_serial", "number"],
                                               name="trust_crl_number_unique")]

    def __str__(self) -> str:
        return f"CRL {self.number}"


class IssuerAuthorisation(models.Model):
    """A department's authority to issue a licence type (发证授权), published in the list."""

    department_code = models.CharField(_("部门代码"), max_length=64)
    licence_type_code = models.CharField(_("证照类型代码"), max_length=64)
    authorised_at = models.DateTimeField(_("授权时间"), auto_now_add=True)
    authorised_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("授权人"),
                                      null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("发证授权")
        verbose_name_plural = _("发证授权")
        constraints = [models.UniqueConstraint(fields=["department_code", "licence_type_code"],
                                               name="trust_issuer_authorisation_unique")]

    def __str__(self) -> str:
        return f"{self.department_code}: {self.licence_type_code}"


class TrustListVersion(models.Model):
    """A trust list this instance published; ``document`` holds the exact bytes served."""

    sequence = models.PositiveIntegerField(_("序号"), unique=True)
    document = models.BinaryField(_("文档"))
    sha256 = models.CharField(_("文档 SHA-256"), max_length=64)
    root_fingerprint = models.CharField(_("根证书指纹"), max_length=64)
    issued_at = models.DateTimeField(_("发布时间"))
    next_update = models.DateTimeField(_("下次更新"))
    issuers = models.PositiveIntegerField(_("发证机构数"), default=0)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("发布人"),
                                     null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    ledger_index = models.BigIntegerField(_("账本序号"), null=True, blank=True)

    class Meta:
        verbose_name = _("信任列表版本")
        verbose_name_plural = _("信任列表版本")
        ordering = ["-sequence"]

    def __str__(self) -> str:
        return f"#{self.sequence}"


class ImportedTrustList(models.Model):
    """Another region's trust list, imported after its root fingerprint was checked."""

    region_code = models.CharField(_("地区代码"), max_length=32, db_index=True)
    region_name = models.CharField(_("地区名称"), max_length=128)
    sequence = models.PositiveIntegerField(_("序号"))
    document = models.BinaryField(_("文档"))
    sha256 = models.CharField(_("文档 SHA-256"), max_length=64)
    root_fingerprint = models.CharField(_("根证书指纹"), max_length=64)
    issued_at = models.DateTimeField(_("发布时间"))
    next_update = models.DateTimeField(_("下次更新"))
    imported_at = models.DateTimeField(_("导入时间"), auto_now_add=True)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("导入人"),
                                    null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    superseded_at = models.DateTimeField(_("被取代时间"), null=True, blank=True)
    ledger_index = models.BigIntegerField(_("账本序号"), null=True, blank=True)
    # Where the region publishes its list (its <origin>/trust/list.json): the hourly
    # refresh fetches it there and imports it under the same pinned root ("" = by hand only).
    source_url = models.CharField(_("来源网址"), max_length=500, blank=True)
    last_refresh_at = models.DateTimeField(_("最近自动更新时间"), null=True, blank=True)
    last_refresh_outcome = models.CharField(_("最近自动更新结果"), max_length=16, blank=True)
    last_refresh_message = models.CharField(_("最近自动更新说明"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("导入的信任列表")
        verbose_name_plural = _("导入的信任列表")
        ordering = ["region_code", "-sequence"]
        constraints = [models.UniqueConstraint(fields=["region_code", "sequence"],
                                               name="trust_imported_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.region_name} #{self.sequence}"


class ImportedKey(models.Model):
    """A licence-signing key listed in an imported trust list, indexed for resolve_key."""

    trust_list = models.ForeignKey(ImportedTrustList, on_delete=models.CASCADE,
                                   related_name="keys")
    ref = models.CharField(_("验证方法标识"), max_length=255, db_index=True)
    kid = models.CharField(_("COSE 密钥标识"), max_length=16, db_index=True, blank=True)
    algorithm = models.CharField(_("算法"), max_length=16)
    public_key = models.BinaryField(_("公钥"))
    issuer_id = models.CharField(_("发证机构标识"), max_length=128)
    issuer_name = models.CharField(_("发证机构名称"), max_length=128)
    licence_types = models.JSONField(_("可签发证照类型"), default=list)
    valid_from = models.DateTimeField(_("生效时间"), null=True)
    valid_until = models.DateTimeField(_("失效时间"), null=True)
    status = models.CharField(_("状态"), max_length=16)
    certificate = models.BinaryField(_("证书"), null=True)

    class Meta:
        verbose_name = _("导入的签名公钥")
        verbose_name_plural = _("导入的签名公钥")

    def __str__(self) -> str:
        return self.ref
