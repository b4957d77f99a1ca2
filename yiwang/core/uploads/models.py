"""Models of the uploads app: :class:`StoredUpload` (an accepted, sanitised file)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.crypto.fields import EncryptedTextField


class StoredUpload(models.Model):
    """One accepted upload (上传文件): sanitised bytes encrypted at rest on disk.

    The file on disk is encrypted with its own random key (envelope encryption); that key is
    kept here in an :class:`EncryptedTextField`, so it is wrapped by the data keys and
    re-wrapped by ``yiwang rotate-data-keys`` without rewriting the file.
    """

    token = models.CharField(_("令牌"), max_length=64, unique=True)
    owner_key = models.CharField(_("所有者"), max_length=100, db_index=True)
    purpose = models.CharField(_("用途"), max_length=100)
    # Names of phone photos and scans often name the person ("张三身份证.jpg"): encrypted
    # like the file itself (review 2026-11-27 session 2, L14).
    filename = EncryptedTextField(_("文件名"))
    content_type = models.CharField(_("文件类型"), max_length=100)
    size = models.PositiveBigIntegerField(_("大小"))  # sanitised bytes, as stored
    original_size = models.PositiveBigIntegerField(_("原始大小"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)  # of the sanitised bytes
    personal = models.BooleanField(_("含个人信息"), default=True)
    file_key = EncryptedTextField(_("文件密钥"))
    cipher = models.CharField(max_length=20)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    claimed = models.BooleanField(_("已使用"), default=False)
    claimed_at = models.DateTimeField(_("使用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("上传文件")
        verbose_name_plural = _("上传文件")
        indexes = [models.Index(fields=["claimed", "created_at"],
                                name="uploads_unclaimed_idx")]

    def __str__(self) -> str:
        return f"upload {self.token[:8]}…"
