"""Models of the notify app: :class:`Notification` (站内消息)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.crypto.fields import EncryptedTextField


class Notification(models.Model):
    """A message to one person in their portal inbox, optionally also sent as SMS."""

    class SmsState(models.TextChoices):
        NONE = "", _("不发送")
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  related_name="notifications", verbose_name=_("接收人"))
    kind = models.CharField(_("类别"), max_length=50)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    link = models.CharField(_("链接"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)
    sms_state = models.CharField(_("短信"), max_length=10, choices=SmsState.choices,
                                 blank=True, default="")
    sms_error = models.CharField(_("短信失败原因"), max_length=200, blank=True)
    # A number given by the caller instead of the recipient's own; personal data.
    sms_phone = EncryptedTextField(_("短信号码"), blank=True)

    class Meta:
        verbose_name = _("消息")
        verbose_name_plural = _("消息")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notify_inbox_idx"),
            models.Index(fields=["recipient", "read_at"], name="notify_unread_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.title}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
