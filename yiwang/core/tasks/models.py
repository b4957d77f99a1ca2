"""Jobs (the queue and its history), periodic schedules and worker heartbeats.

Private to the tasks app: other apps use ``yiwang.core.tasks.service``.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Job(models.Model):
    """One run request of a task (任务), from enqueue to its outcome.

    Rows are written in the caller's transaction (an outbox): a rolled-back business write
    leaves no job behind. The database worker claims rows from this table; with Celery the
    row is the record the generic Celery task claims and updates, so both backends keep
    results and history in one place.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("运行中")
        SUCCEEDED = "succeeded", _("已成功")
        FAILED = "failed", _("已失败")  # a permanent failure: not retried
        DEAD = "dead", _("已放弃")  # retries exhausted or the worker was lost too often

    class Backend(models.TextChoices):
        DATABASE = "database", _("内置工作进程")
        CELERY = "celery", _("Celery")

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.DEAD)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("任务"), max_length=200)
    args = models.JSONField(_("位置参数"), default=list)
    kwargs = models.JSONField(_("关键字参数"), default=dict)
    queue = models.CharField(_("队列"), max_length=50, default="default")
    backend = models.CharField(_("执行方式"), max_length=20, choices=Backend.choices,
                               default=Backend.DATABASE)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices,
                              default=Status.QUEUED)
    attempts = models.PositiveIntegerField(_("已尝试次数"), default=0)
    max_attempts = models.PositiveIntegerField(_("最多尝试次数"), default=1)
    run_at = models.DateTimeField(_("计划运行时间"), default=timezone.now)
    locked_by = models.CharField(_("执行者"), max_length=200, blank=True)
    locked_until = models.DateTimeField(_("租约到期"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("投递时间"), null=True, blank=True)
    result = models.JSONField(_("结果"), null=True, blank=True)
    error = models.TextField(_("错误"), blank=True)
    request_id = models.CharField(_("来源请求编号"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("后台任务")
        verbose_name_plural = _("后台任务")
        indexes = [
            models.Index(fields=["status", "run_at"], name="tasks_job_due"),
            models.Index(fields=["status", "finished_at"], name="tasks_job_finished"),
            models.Index(fields=["-created_at"], name="tasks_job_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.id} ({self.status})"


class PeriodicSchedule(models.Model):
    """When a periodic job (定时任务) is next due. Workers claim a period by a conditional
    UPDATE of ``next_run_at``, so each period fires once however many workers run."""

    name = models.CharField(_("任务"), max_length=200, unique=True)
    schedule = models.CharField(_("周期"), max_length=100)
    next_run_at = models.DateTimeField(_("下次运行时间"))
    last_run_at = models.DateTimeField(_("上次运行时间"), null=True, blank=True)
    last_job_id = models.UUIDField(_("上次任务编号"), null=True, blank=True)

    class Meta:
        verbose_name = _("定时任务")
        verbose_name_plural = _("定时任务")

    def __str__(self) -> str:
        return f"{self.name} ({self.schedule})"


class WorkerHeartbeat(models.Model):
    """The last sign of life of one worker process (工作进程), for /readyz and operations."""

    worker_id = models.CharField(_("工作进程"), max_length=200, unique=True)
    hostname = models.CharField(_("主机"), max_length=200)
    pid = models.PositiveIntegerField(_("进程号"))
    backend = models.CharField(_("执行方式"), max_length=20, choices=Job.Backend.choices)
    started_at = models.DateTimeField(_("启动时间"), default=timezone.now)
    last_seen = models.DateTimeField(_("最近心跳"), default=timezone.now, db_index=True)
    stopped_at = models.DateTimeField(_("停止时间"), null=True, blank=True)
    jobs_done = models.PositiveIntegerField(_("已完成任务数"), default=0)

    class Meta:
        verbose_name = _("工作进程心跳")
        verbose_name_plural = _("工作进程心跳")

    def __str__(self) -> str:
        return self.worker_id
