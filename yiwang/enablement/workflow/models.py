"""Models of the workflow app: the working calendar (工作日历).

A day is a rest day on Saturday and Sunday and a working day otherwise, unless a
``CalendarDay`` says it is a holiday (法定节假日) or a make-up working day (调休上班).
Flows themselves are not stored here: the catalogue keeps the BPMN in a service version and
the applications app keeps each run's state.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("节假日")
    WORKDAY = "workday", _("调休上班")


class CalendarDay(models.Model):  # 工作日历中的特殊日
    """A day that differs from the weekday rule in one calendar."""

    calendar = models.SlugField(_("日历"), max_length=40, default="default")
    day = models.DateField(_("日期"))
    kind = models.CharField(_("类型"), max_length=8, choices=DayKind.choices)
    name = models.CharField(_("名称"), max_length=64, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("更新人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("工作日历日")
        verbose_name_plural = _("工作日历日")
        ordering = ("calendar", "day")
        permissions = [("manage_calendar", _("管理工作日历"))]
        constraints = [
            models.UniqueConstraint(fields=("calendar", "day"), name="workflow_calendar_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.calendar} {self.day} {self.kind} {self.name}"
