"""What video inspection found (识别结果): a detection in a camera's zone, with its annotated
snapshot, waiting for review or handed over (see ``video.py``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DetectionStatus(models.TextChoices):
    REVIEW = "review", _("待人工确认")
    CONFIRMED = "confirmed", _("已确认")
    DISMISSED = "dismissed", _("误报")
    AUTOMATIC = "automatic", _("自动立案")


class Detection(models.Model):
    """What video inspection found in a camera's zone, with its annotated snapshot: confident
    ones open a case at once (automatic); the others wait for a person (review), who confirms
    (a case is opened) or dismisses them."""

    camera = models.ForeignKey("perception.Camera", verbose_name=_("视频源"),
                               on_delete=models.PROTECT, related_name="detections")
    kind = models.CharField(_("识别类型"), max_length=16)
    zone = models.CharField(_("区域"), max_length=64)
    confidence = models.FloatField(_("置信度"))
    count = models.PositiveIntegerField(_("人数"), default=0)
    dwell_seconds = models.FloatField(_("停留时长（秒）"), default=0)
    boxes = models.JSONField(_("目标框"), default=list)
    snapshot = models.CharField(_("抓拍图"), max_length=64, blank=True)  # an upload token
    category_code = models.CharField(_("立案类别"), max_length=64, blank=True)
    department_code = models.CharField(_("权属部门"), max_length=64, db_index=True)
    status = models.CharField(_("状态"), max_length=16, choices=DetectionStatus.choices)
    detected_at = models.DateTimeField(_("识别时间"), db_index=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("确认人"),
                                    null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    reviewed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    handled_ref = models.CharField(_("处置关联"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("识别结果")
        verbose_name_plural = _("识别结果")
        ordering = ["-detected_at", "-id"]

    def __str__(self) -> str:
        return f"{self.camera_id} {self.kind} {self.detected_at}"
