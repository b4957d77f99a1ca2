"""Models of unified payment (统一支付): fee items, orders with their non-tax notice
numbers, every notification a channel sent, refunds, reconciliations, and the simulated
bank's own books (the local channel).

Amounts are integers in fen (分). Other apps go through ``service.py``. The payer's name and
ID number are encrypted at rest.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.crypto.fields import EncryptedTextField


class FeeItem(models.Model):
    """收费项目: what may be charged, by whom and on what legal basis."""

    code = models.CharField(_("项目编码"), max_length=32, unique=True)
    name = models.CharField(_("项目名称"), max_length=100)
    department_code = models.CharField(_("执收单位"), max_length=64)
    legal_basis = models.CharField(_("收费依据"), max_length=255)
    standard_fen = models.PositiveBigIntegerField(_("收费标准（分）"), null=True, blank=True)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("收费项目")
        verbose_name_plural = _("收费项目")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class OrderState(models.TextChoices):
    UNPAID = "unpaid", _("待缴款")
    PAID = "paid", _("已缴款")
    PARTIALLY_REFUNDED = "partially_refunded", _("部分退款")
    REFUNDED = "refunded", _("已全额退款")
    CLOSED = "closed", _("已关闭")


class Order(models.Model):
    """A fee order (缴款单) of any module: an application fee, a fine, a public-service fee.
    The payer pays it with its notice number at any channel; the first settled payment
    wins, a later one is refunded by reconciliation."""

    order_no = models.CharField(_("订单号"), max_length=32, unique=True)
    notice_no = models.CharField(_("缴款码"), max_length=20, unique=True)
    item = models.ForeignKey(FeeItem, verbose_name=_("收费项目"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="orders")
    title = models.CharField(_("缴费事项"), max_length=200)
    amount_fen = models.PositiveBigIntegerField(_("应缴金额（分）"))
    refunded_fen = models.PositiveBigIntegerField(_("已退金额（分）"), default=0)
    payer = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("缴款人账号"), null=True,
                              blank=True, on_delete=models.PROTECT, related_name="+")
    payer_name = EncryptedTextField(_("缴款人"), purpose="payments.payer_name")
    payer_id_number = EncryptedTextField(_("缴款人证件号码"), blank=True,
                                         purpose="payments.payer_id_number")
    department_code = models.CharField(_("执收单位"), max_length=64, db_index=True)
    region_code = models.CharField(_("行政区划"), max_length=12)
    source = models.CharField(_("来源业务"), max_length=32)
    source_ref = models.CharField(_("业务关联"), max_length=64, blank=True, db_index=True)
    state = models.CharField(_("状态"), max_length=20, choices=OrderState.choices,
                             default=OrderState.UNPAID, db_index=True)
    channel = models.CharField(_("缴款渠道"), max_length=16, blank=True)
    channel_txn = models.CharField(_("渠道流水号"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("开单时间"), auto_now_add=True, db_index=True)
    expires_at = models.DateTimeField(_("缴款期限"))
    paid_at = models.DateTimeField(_("缴款时间"), null=True, blank=True, db_index=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    close_reason = models.CharField(_("关闭原因"), max_length=200, blank=True)
    receipt_no = models.CharField(_("票据号码"), max_length=32, blank=True)
    receipt_token = models.CharField(_("电子票据"), max_length=64, blank=True)
    receipt_at = models.DateTimeField(_("开票时间"), null=True, blank=True)
    row_version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("缴款单")
        verbose_name_plural = _("缴款单")
        ordering = ["-created_at", "-id"]
        permissions = [("collect_payment", _("窗口收款与退款（统一支付）")),
                       ("reconcile_payments", _("对账（统一支付）"))]

    def __str__(self) -> str:
        return self.order_no

    @property
    def refundable_fen(self) -> int:
        return self.amount_fen - self.refunded_fen if self.paid_at else 0


class OrderSequence(models.Model):
    """The last serial of notice numbers per region and year (a row locked to take one)."""

    key = models.CharField(max_length=16, primary_key=True)  # "<region6>:<yy>"
    last = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}={self.last}"


class NotificationOutcome(models.TextChoices):
    APPLIED = "applied", _("已入账")
    DUPLICATE = "duplicate", _("重复通知（已忽略）")
    REJECTED = "rejected", _("已拒绝")


class Notification(models.Model):
    """Every asynchronous notification a channel sent, whatever became of it: the record
    that makes handling idempotent (one row per channel and notification id) and the trail
    of forged, replayed or mismatched ones."""

    channel = models.CharField(_("渠道"), max_length=16)
    notify_id = models.CharField(_("通知编号"), max_length=64)
    event = models.CharField(_("类型"), max_length=16)  # pay | refund
    order_no = models.CharField(_("订单号"), max_length=32, blank=True, db_index=True)
    channel_txn = models.CharField(_("渠道流水号"), max_length=64, blank=True)
    amount_fen = models.BigIntegerField(_("金额（分）"), null=True)
    outcome = models.CharField(_("处理结果"), max_length=16,
                               choices=NotificationOutcome.choices)
    reason = models.CharField(_("原因"), max_length=255, blank=True)
    received_at = models.DateTimeField(_("收到时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("渠道通知")
        verbose_name_plural = _("渠道通知")
        constraints = [models.UniqueConstraint(fields=["channel", "notify_id"],
                                               name="payments_notification_once")]

    def __str__(self) -> str:
        return f"{self.channel}:{self.notify_id}"


class RefundState(models.TextChoices):
    PENDING = "pending", _("退款中")
    SUCCEEDED = "succeeded", _("已退款")
    FAILED = "failed", _("退款失败")


class Refund(models.Model):
    """A refund of part or all of a paid order, through the channel it was paid by."""

    order = models.ForeignKey(Order, verbose_name=_("缴款单"), on_delete=models.PROTECT,
                              related_name="refunds")
    refund_no = models.CharField(_("退款单号"), max_length=32, unique=True)
    amount_fen = models.PositiveBigIntegerField(_("退款金额（分）"))
    reason = models.CharField(_("退款原因"), max_length=200)
    state = models.CharField(_("状态"), max_length=16, choices=RefundState.choices,
                             default=RefundState.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("经办人"),
                                     null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    settled_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    channel_refund_id = models.CharField(_("渠道退款流水"), max_length=64, blank=True)
    failure = models.CharField(_("失败原因"), max_length=200, blank=True)
    # set when the refund gives back a channel payment that was never applied to the order
    returns_txn = models.CharField(_("退还的渠道流水"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("退款")
        verbose_name_plural = _("退款")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.refund_no


class Reconciliation(models.Model):
    """对账: one channel's statement of one day compared with the orders."""

    channel = models.CharField(_("渠道"), max_length=16)
    day = models.DateField(_("对账日期"))
    statement_sha256 = models.CharField(max_length=64)
    lines = models.PositiveIntegerField(_("对账单笔数"), default=0)
    matched = models.PositiveIntegerField(_("相符笔数"), default=0)
    # [{"kind", "txn", "order_no", "ours_fen", "theirs_fen", "detail"}]
    discrepancies = models.JSONField(_("差错"), default=list)
    broken_lines = models.JSONField(_("无法解析的行"), default=list)  # [{"line", "error"}]
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("对账")
        verbose_name_plural = _("对账")
        ordering = ["-day", "-created_at"]

    def __str__(self) -> str:
        return f"{self.channel} {self.day}"


class BankTxnState(models.TextChoices):
    PENDING = "pending", _("待支付")
    SUCCEEDED = "succeeded", _("成功")
    FAILED = "failed", _("失败")


class LocalBankTxn(models.Model):
    """The simulated bank's own books (the ``local`` channel only): what a real bank keeps on
    its side and reports in its notifications and statement files. Nothing of the platform
    reads these rows except that simulation."""

    txn_id = models.CharField(max_length=32, unique=True)
    kind = models.CharField(max_length=8)  # pay | refund
    order_no = models.CharField(max_length=32, db_index=True)
    refund_no = models.CharField(max_length=32, blank=True)
    amount_fen = models.BigIntegerField()
    state = models.CharField(max_length=16, choices=BankTxnState.choices,
                             default=BankTxnState.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True, db_index=True)
    failure = models.CharField(max_length=200, blank=True)
    notified = models.PositiveIntegerField(default=0)  # notifications delivered and answered
    notify_attempts = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.txn_id
