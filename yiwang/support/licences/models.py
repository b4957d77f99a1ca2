"""Models of the licences app (电子证照): licence types, licences, status lists, shares and
the record of every use (用证记录).

Other apps go through ``service.py``. Personal data (the holder's name and number, the
licence's fields, the VC, the QR text and the PDF, which all repeat them) is encrypted at
rest; the holder is found by a blind index of the ID number or credit code.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.crypto.fields import EncryptedTextField


class HolderKind(models.TextChoices):
    """持证主体类型 (GB/T 36903): a natural person or a legal person."""

    PERSON = "person", _("自然人")
    ENTERPRISE = "enterprise", _("法人和其他组织")


class LicenceType(models.Model):  # 证照类型
    """A kind of licence, as data: its fields, its layout, its validity and who issues it.

    ``schema`` is ``{"fields": [{"key", "label", "label_en", "type", "required", "format",
    "personal"}]}`` (a JSON Schema subset checked by :mod:`.schema`); ``layout`` describes
    the face of the licence for both the PDF and the HTML view (:mod:`.rendering`);
    ``metadata`` holds the GB/T 36903 catalogue items (证照类型代码, 颁发机构, …).
    """

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    catalogue_code = models.CharField(_("证照类型代码"), max_length=40)
    name = models.CharField(_("证照名称"), max_length=64)
    name_en = models.CharField(_("英文名称"), max_length=128, blank=True)
    holder_kind = models.CharField(_("持证主体类型"), max_length=16, choices=HolderKind.choices)
    schema = models.JSONField(_("字段定义"), default=dict)
    layout = models.JSONField(_("版式"), default=dict)
    validity_years = models.PositiveSmallIntegerField(
        _("有效期(年)"), null=True, blank=True, help_text=_("留空表示长期有效。"))
    issuing_departments = models.JSONField(_("发证部门"), default=list)
    metadata = models.JSONField(_("元数据"), default=dict)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("证照类型")
        verbose_name_plural = _("证照类型")

    def __str__(self) -> str:
        return self.name


class LicenceStatus(models.TextChoices):
    ACTIVE = "active", _("有效")
    SUSPENDED = "suspended", _("已暂停")
    REVOKED = "revoked", _("已注销")
    EXPIRED = "expired", _("已过期")


class StatusPurpose(models.TextChoices):
    REVOCATION = "revocation", _("注销")
    SUSPENSION = "suspension", _("暂停")


class StatusList(models.Model):
    """One W3C Bitstring Status List of a department, for one purpose; its signed
    credential is kept beside the bits, and signed again whenever a bit changes and before
    its ``validUntil`` passes (``credential_expires_at``).

    Licences get random free indexes (the specification's privacy advice: sequential ones
    would tell issuance order); ``allocated`` counts the indexes given out."""

    audit_writes = False  # bookkeeping: each status change is audited as licence.revoked/…

    list_id = models.SlugField(max_length=80, unique=True)
    department_code = models.CharField(max_length=32, db_index=True)
    purpose = models.CharField(max_length=16, choices=StatusPurpose.choices)
    size = models.PositiveIntegerField()
    bits = models.BinaryField()
    allocated = models.PositiveIntegerField(default=0)
    credential = models.TextField(blank=True)  # the signed status list VC (JSON)
    credential_expires_at = models.DateTimeField(null=True, blank=True)  # its validUntil
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["department_code", "purpose", "id"]

    def __str__(self) -> str:
        return self.list_id


class DepartmentSequence(models.Model):
    """A department's licence serial numbers (the serial in the identifier and the number).

    Its row is also the department's issuance lock: issuance locks it first (``SELECT …
    FOR UPDATE``), so serials never repeat and a department's status lists are created and
    filled by one issuance at a time."""

    audit_writes = False  # bookkeeping: the serial is in the licence.issued event

    department_code = models.CharField(max_length=32, unique=True)
    last_serial = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.department_code}: {self.last_serial}"


class Licence(models.Model):  # 电子证照
    identifier = models.CharField(_("证照标识"), max_length=120, unique=True)
    number = models.CharField(_("证照编号"), max_length=40, db_index=True)
    type = models.ForeignKey(LicenceType, on_delete=models.PROTECT, related_name="licences")
    holder_kind = models.CharField(max_length=16, choices=HolderKind.choices)
    holder_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="licences")
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True,
                                   db_index=True)  # enterprises' codes are public
    holder_index = models.CharField(max_length=64, db_index=True)  # blind index of the code
    holder_name = EncryptedTextField(_("持证主体"))
    holder_code = EncryptedTextField(_("持证主体代码"))
    data = EncryptedTextField(_("照面信息"))  # JSON of the type's fields
    department_code = models.CharField(_("发证部门"), max_length=32, db_index=True)
    department_name = models.CharField(max_length=128)
    status = models.CharField(_("状态"), max_length=16, choices=LicenceStatus.choices,
                              default=LicenceStatus.ACTIVE, db_index=True)
    status_reason = models.CharField(_("原因"), max_length=200, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    revocation_list = models.ForeignKey(StatusList, on_delete=models.PROTECT,
                                        related_name="+")
    revocation_index = models.PositiveIntegerField()
    suspension_list = models.ForeignKey(StatusList, on_delete=models.PROTECT,
                                        related_name="+")
    suspension_index = models.PositiveIntegerField()
    issued_at = models.DateTimeField(_("颁证时间"))
    valid_from = models.DateField(_("有效期起始"))
    valid_until = models.DateField(_("有效期截止"), null=True, blank=True)
    vc = EncryptedTextField()  # the Verifiable Credential (JSON)
    vc_sha256 = models.CharField(max_length=64)
    qr = EncryptedTextField()  # the compact QR text (HC1-like prefix, Base45)
    pdf = EncryptedTextField()  # base64 of the sealed PDF
    pdf_sha256 = models.CharField(max_length=64, db_index=True)
    sealed = models.BooleanField(default=False)
    ledger_log = models.CharField(max_length=40, blank=True)
    ledger_index = models.BigIntegerField(null=True, blank=True)
    ledger_record_hash = models.CharField(max_length=64, blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                  null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("电子证照")
        verbose_name_plural = _("电子证照")
        permissions = [
            ("issue_licence", _("签发电子证照")),
            ("manage_licence_status", _("暂停、注销和恢复电子证照")),
        ]
        indexes = [models.Index(fields=["department_code", "status"],
                                name="licences_dept_status_idx")]
        constraints = [
            models.UniqueConstraint(fields=["revocation_list", "revocation_index"],
                                    name="licences_one_revocation_entry"),
            models.UniqueConstraint(fields=["suspension_list", "suspension_index"],
                                    name="licences_one_suspension_entry"),
        ]

    def __str__(self) -> str:
        return self.identifier

    @property
    def fields(self) -> dict[str, Any]:
        """The licence's field values (decrypted)."""
        return dict(json.loads(self.data or "{}"))


class Share(models.Model):  # 分享核验链接
    """A time-limited verification link a holder gave out; only its token's hash is kept."""

    licence = models.ForeignKey(Licence, on_delete=models.CASCADE, related_name="shares")
    token_hash = models.CharField(max_length=64, unique=True)
    disclosed = models.JSONField(default=list)  # field keys the holder chose to show
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    uses = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"share {self.pk} of licence {self.licence_id}"


class UseKind(models.TextChoices):
    VERIFY_LINK = "verify_link", _("通过分享链接核验")
    VERIFY_PAGE = "verify_page", _("在核验页面核验")
    VERIFY_API = "verify_api", _("通过接口核验")
    SHARE = "share", _("生成分享链接")
    SHARE_REVOKED = "share_revoked", _("撤销分享链接")
    DOWNLOAD = "download", _("下载")
    REVEAL = "reveal", _("查看完整信息")
    APPLICATION = "application", _("办事免提交")


class LicenceUse(models.Model):  # 用证记录
    licence = models.ForeignKey(Licence, on_delete=models.CASCADE, related_name="uses")
    kind = models.CharField(max_length=16, choices=UseKind.choices)
    detail = models.JSONField(default=dict)  # what was downloaded, the result… never personal
    share = models.ForeignKey(Share, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+")
    occurred_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} of licence {self.licence_id}"
