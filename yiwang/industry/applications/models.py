"""Models of the applications app (办件): applications, their materials, the officials'
tasks (the inbox), the timeline, the evaluation (好差评) and the follow-up of a bad one
(差评整改).

Other apps go through ``service.py``. What a person submitted (the form data, the workflow
state that carries it, OCR readings, reasons written about them) is encrypted at rest. The
inbox reads only :class:`Task`, which repeats the few things the list shows (receipt number,
matter name, the applicant's masked name, the due time) so that the list is one indexed query
with no join, whatever the number of applications (see ADR 0023).

The service version an application was made for is kept by its primary key
(``version_pk``), not a foreign key: the catalogue is another app, reached through its facade
only, and an application keeps its version for ever (a retired version is never deleted).
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yiwang.core.crypto.fields import EncryptedTextField


class State(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")
    IN_REVIEW = "in_review", _("审查中")
    CORRECTION = "correction", _("待补正")
    APPROVED = "approved", _("已办结(准予)")
    REJECTED = "rejected", _("已办结(不予)")
    WITHDRAWN = "withdrawn", _("已撤回")


ACTIVE_STATES = (State.SUBMITTED, State.IN_REVIEW)
# submitted and not decided yet: the clock running, or paused for a correction (补正)
OPEN_STATES = (*ACTIVE_STATES, State.CORRECTION)
FINAL_STATES = (State.APPROVED, State.REJECTED, State.WITHDRAWN)


class JsonText:
    """Reads and writes a JSON value kept in an encrypted text column."""

    def __init__(self, column: str, default: Any) -> None:
        self.column = column
        self.default = default

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        raw = getattr(obj, self.column)
        if not raw:
            return json.loads(json.dumps(self.default))
        return json.loads(raw)

    def __set__(self, obj: Any, value: Any) -> None:
        setattr(obj, self.column, json.dumps(value, ensure_ascii=False, sort_keys=True))


class Application(models.Model):  # 办件
    """One application for one matter, from draft to decision."""

    audit_writes = False  # each lifecycle step records its own audit event

    number = models.CharField(_("受理编号"), max_length=40, unique=True, null=True, blank=True)
    region_code = models.CharField(_("区划代码"), max_length=12, blank=True)
    matter_code = models.CharField(_("事项编码"), max_length=64)
    matter_name = models.CharField(_("事项名称"), max_length=128)
    version_pk = models.PositiveBigIntegerField(_("服务版本"))
    bundle_code = models.CharField(_("一件事编码"), max_length=64, blank=True)
    parent = models.ForeignKey("self", verbose_name=_("所属一件事"), null=True, blank=True,
                               on_delete=models.CASCADE, related_name="children")
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("申请人"),
                                  on_delete=models.PROTECT, related_name="+")
    # For an enterprise's agent: the enterprise's credit code (public data, not personal).
    acting_for = models.CharField(_("代办主体"), max_length=32, blank=True)
    applicant_masked = models.CharField(_("申请人(脱敏)"), max_length=64, blank=True)
    data_text = EncryptedTextField(_("申请数据"), blank=True, default="")
    state = models.CharField(_("状态"), max_length=16, choices=State.choices,
                             default=State.DRAFT)
    department_code = models.CharField(_("受理部门"), max_length=32, blank=True)
    # Clock (时限): working days on the working calendar.
    time_limit_days = models.PositiveSmallIntegerField(_("承诺时限(工作日)"), default=0)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    due_at = models.DateTimeField(_("办结期限"), null=True, blank=True)
    paused_at = models.DateTimeField(_("暂停计时于"), null=True, blank=True)
    pauses = models.JSONField(_("暂停计时记录"), default=list, blank=True)
    warned = models.BooleanField(_("已预警"), default=False)
    overdue = models.BooleanField(_("已超期"), default=False)
    decided_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    outcome_reason = EncryptedTextField(_("办理意见"), blank=True, default="")
    workflow_text = EncryptedTextField(_("流程状态"), blank=True, default="")
    next_timer_at = models.DateTimeField(_("下次定时"), null=True, blank=True)
    fee_fen = models.PositiveIntegerField(_("收费(分)"), default=0)
    fee_items = models.JSONField(_("收费项目"), default=list, blank=True)
    # the fee's order in unified payment (its notice number) and when it was paid
    fee_notice_no = models.CharField(_("缴款码"), max_length=20, blank=True)
    fee_paid_at = models.DateTimeField(_("缴费时间"), null=True, blank=True)
    row_version = models.PositiveIntegerField(_("版本号"), default=1)
    licence_identifier = models.CharField(_("证照标识"), max_length=128, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    data = JsonText("data_text", {})
    workflow_state = JsonText("workflow_text", {})

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("办件")
        verbose_name_plural = _("办件")
        permissions = [("handle_application", _("办理办件"))]
        indexes = [
            models.Index(fields=["applicant", "-created_at"], name="applications_mine_idx"),
            models.Index(fields=["acting_for", "-created_at"], name="applications_firm_idx",
                         condition=~Q(acting_for="")),
            # tick_clocks(): the running applications by due time.
            models.Index(fields=["state", "due_at"], name="applications_clock_idx"),
            models.Index(fields=["next_timer_at"], name="applications_timer_idx",
                         condition=Q(next_timer_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.number or f"draft {self.pk}"


class MaterialSource(models.TextChoices):
    UPLOAD = "upload", _("上传")
    LICENCE = "licence", _("电子证照(免提交)")


class Material(models.Model):  # 申请材料
    """A material of an application: an uploaded file or a licence from the wallet reused
    with the holder's consent (免提交), with what OCR read from it and what did not match."""

    audit_writes = False

    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="materials")
    key = models.CharField(_("表单字段"), max_length=64)
    code = models.CharField(_("材料编码"), max_length=64, blank=True)
    name = models.CharField(_("材料名称"), max_length=128, blank=True)
    source = models.CharField(_("来源"), max_length=16, choices=MaterialSource.choices)
    upload_token = models.CharField(_("文件标识"), max_length=128, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    content_type = models.CharField(max_length=64, blank=True)
    size = models.PositiveIntegerField(default=0)
    licence_identifier = models.CharField(_("证照标识"), max_length=128, blank=True)
    consent_at = models.DateTimeField(_("授权使用时间"), null=True, blank=True)
    ocr_text = EncryptedTextField(_("识别结果"), blank=True, default="")
    ocr_kind = models.CharField(_("识别类型"), max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    ocr = JsonText("ocr_text", {})

    class Meta:
        ordering = ["application_id", "key", "id"]

    def __str__(self) -> str:
        return f"{self.key} of application {self.application_id}"

    @property
    def mismatches(self) -> list[dict[str, str]]:
        return list(self.ocr.get("mismatches", []))


class TaskState(models.TextChoices):
    OPEN = "open", _("待办")
    WAITING = "waiting", _("等待补正")
    DONE = "done", _("已办")
    CANCELLED = "cancelled", _("已取消")


class Task(models.Model):  # 待办
    """One step of an application's approval flow for a department (and position): a row of
    the officials' inbox. It repeats what the inbox shows, so that the list needs no join."""

    audit_writes = False

    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="tasks")
    wf_task_id = models.CharField(_("流程任务"), max_length=64)
    spec = models.CharField(max_length=64, blank=True)
    name = models.CharField(_("环节"), max_length=64)
    department_code = models.CharField(_("部门"), max_length=32)
    position_code = models.CharField(_("岗位"), max_length=64, blank=True)
    countersign_group = models.CharField(_("会签组"), max_length=64, blank=True)
    state = models.CharField(_("状态"), max_length=16, choices=TaskState.choices,
                             default=TaskState.OPEN)
    claimed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    due_at = models.DateTimeField(_("期限"), null=True, blank=True)
    # Denormalised for the inbox list (no join, no decryption).
    number = models.CharField(_("受理编号"), max_length=40)
    matter_code = models.CharField(max_length=64)
    matter_name = models.CharField(_("事项名称"), max_length=128)
    applicant_masked = models.CharField(_("申请人"), max_length=64)
    outcome = models.CharField(_("结果"), max_length=16, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            # The inbox: a department's open tasks by due time (ADR 0023).
            # position_code and number last: the position filter and a receipt-number
            # search are read from the index, without visiting the table, while the rows
            # come in due order.
            models.Index(fields=["department_code", "state", "due_at", "id", "position_code",
                                 "number"], name="applications_inbox_idx"),
            models.Index(fields=["claimed_by", "state", "due_at"],
                         name="applications_claimed_idx",
                         condition=Q(claimed_by__isnull=False)),
            models.Index(fields=["number"], name="applications_task_number_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["application", "wf_task_id"],
                                    name="applications_one_task_row"),
        ]

    def __str__(self) -> str:
        return f"{self.name} of {self.number}"


class Event(models.Model):  # 办理进度
    """A line of the application's timeline."""

    audit_writes = False

    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="events")
    at = models.DateTimeField(_("时间"))
    kind = models.CharField(_("类型"), max_length=32)
    title = models.CharField(_("事项"), max_length=128)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(_("办理人"), max_length=128, blank=True)
    note = EncryptedTextField(_("说明"), blank=True, default="")
    public = models.BooleanField(_("申请人可见"), default=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} of application {self.application_id}"


class Evaluation(models.Model):  # 好差评
    """The applicant's evaluation of the service, once per application: 5 非常满意 to
    1 非常不满意 (see :mod:`.evaluations`). It repeats the application's department and
    matter, so that a department's list and the public figures read one table."""

    application = models.OneToOneField(Application, on_delete=models.CASCADE,
                                       related_name="evaluation")
    score = models.PositiveSmallIntegerField(_("评分"))
    comment = EncryptedTextField(_("评价内容"), blank=True, default="")
    # Who evaluated (the applicant, or an enterprise's representative): told of the reply.
    evaluator = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("评价人"),
                                  null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    department_code = models.CharField(_("受理部门"), max_length=32, blank=True)
    matter_code = models.CharField(_("事项编码"), max_length=64, blank=True)
    matter_name = models.CharField(_("事项名称"), max_length=128, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # A department's evaluations, newest first (the workbench list).
            models.Index(fields=["department_code", "-created_at"],
                         name="applications_eval_dept_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.score} for application {self.application_id}"


class RectificationState(models.TextChoices):
    PENDING = "pending", _("待整改")
    DONE = "done", _("已整改")


class Rectification(models.Model):  # 差评整改
    """The follow-up of a bad evaluation by the accepting department: due a number of
    working days after the evaluation; what was done and the reply to the applicant."""

    audit_writes = False  # evaluate_application and rectify_evaluation record their events

    evaluation = models.OneToOneField(Evaluation, on_delete=models.CASCADE,
                                      related_name="rectification")
    department_code = models.CharField(_("责任部门"), max_length=32)
    state = models.CharField(_("状态"), max_length=16, choices=RectificationState.choices,
                             default=RectificationState.PENDING)
    due_at = models.DateTimeField(_("整改期限"))
    action_taken = EncryptedTextField(_("整改情况"), blank=True, default="")
    reply = EncryptedTextField(_("答复内容"), blank=True, default="")
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("整改人"),
                                   null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    handled_at = models.DateTimeField(_("整改时间"), null=True, blank=True)
    row_version = models.PositiveIntegerField(_("版本号"), default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            # A department's open follow-ups by due time (the overdue ones first).
            models.Index(fields=["department_code", "state", "due_at"],
                         name="applications_rectify_idx"),
        ]

    def __str__(self) -> str:
        return f"rectification of evaluation {self.evaluation_id}"

    def overdue_at(self, now: Any) -> bool:
        """Still open after its due time."""
        return self.state == RectificationState.PENDING and self.due_at < now

    @property
    def late(self) -> bool:
        """Done after its due time."""
        return (self.state == RectificationState.DONE and self.handled_at is not None
                and self.handled_at > self.due_at)


class ReceiptSequence(models.Model):
    """The receipt-number serials of a region for a day; its row is taken under a lock (or a
    conditional update) so two submissions never get one number."""

    audit_writes = False

    region_code = models.CharField(max_length=12)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["region_code", "day"],
                                               name="applications_one_sequence")]

    def __str__(self) -> str:
        return f"{self.region_code} {self.day}: {self.last}"
