"""Fee orders and their life: open with a notice number, pay online or at the counter,
settle on the channel's signed notification (idempotently), refund, close. Reached through
``service.py``.

The state machine::

    unpaid ──pay──▶ paid ──refund (part)──▶ partially_refunded ──refund (rest)──▶ refunded
       │                 └───────────────refund (all)────────────────────────────▶ refunded
       └──close / expire──▶ closed

A notification is applied at most once: its (channel, notification id) row is written in the
same transaction as its effect, so a replay finds it and changes nothing (answered as
success, so the channel stops sending). A forged one (bad signature) is rejected and audited;
one whose amount differs from the order, or that pays an order already paid by another
transaction, is recorded as rejected with the reason — never applied — and shows in
reconciliation; a collector gives the money back with :func:`return_unapplied`. A payment
made in time whose notification arrives after the order was closed for want of payment
settles it.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import service as audit
from yiwang.enablement.ledger import service as ledger
from yiwang.support.payments import channels
from yiwang.support.payments.models import (
    FeeItem,
    Notification,
    NotificationOutcome,
    Order,
    OrderSequence,
    OrderState,
    Refund,
    RefundState,
)
from yiwang.support.payments.notice import make_notice_number

logger = logging.getLogger("yiwang.payments")
COLLECT = "payments.collect_payment"
MAX_FEN = 10**11  # a billion yuan: anything above is a typing error

PaidHandler = Callable[[Order], None]
_on_paid: dict[str, PaidHandler] = {}


class Conflict(Exception):
    """Someone else changed the order first."""


def on_paid(source: str, handler: PaidHandler) -> None:
    """Call ``handler(order)`` in the settling transaction when an order of ``source`` is
    paid (the module that opened it records that its fee is paid). Must be idempotent."""
    _on_paid[source] = handler


def _error(message: str, code: str, field: str | None = None) -> ValidationError:
    error = ValidationError(message, code=code)
    return ValidationError({field: [error]}) if field else error


def _next_notice(region_code: str, now: datetime) -> str:
    year = timezone.localtime(now).year
    key = f"{region_code[:6]}:{year % 100:02d}"
    updated = OrderSequence.objects.filter(key=key).update(last=F("last") + 1)
    if not updated:
        try:
            with transaction.atomic():
                OrderSequence.objects.create(key=key, last=1)
        except IntegrityError:
            OrderSequence.objects.filter(key=key).update(last=F("last") + 1)
    serial = OrderSequence.objects.get(key=key).last
    return make_notice_number(region_code, year, serial)


@transaction.atomic
def create_order(*, title: str, amount_fen: int, department_code: str, region_code: str,
                 source: str, source_ref: str = "", payer: Any = None, payer_name: str = "",
                 payer_id_number: str = "", item_code: str = "",
                 expires_in: timedelta | None = None) -> Order:
    """Open a fee order: a notice number (缴款码) the payer pays with at any channel, until
    ``expires_in`` (default ``YIWANG_PAY_ORDER_DAYS`` days)."""
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) \
            or not 0 < amount_fen <= MAX_FEN:
        raise _error(_("应缴金额须为正整数（分），且不超过十亿元"), "bad_amount", "amount_fen")
    item = None
    if item_code:
        item = FeeItem.objects.filter(code=item_code, active=True).first()
        if item is None:
            raise _error(_("收费项目 %(code)s 不存在或已停用") % {"code": item_code[:32]},
                         "no_item", "item_code")
    name = payer_name or (getattr(payer, "display_name", "") if payer else "")
    if not name:
        raise _error(_("须填写缴款人"), "no_payer", "payer_name")
    if not region_code[:6].isdigit():
        raise _error(_("行政区划代码不正确"), "bad_region", "region_code")
    now = timezone.now()
    order = Order.objects.create(
        order_no="PO" + timezone.localtime(now).strftime("%Y%m%d") + secrets.token_hex(6).upper(),
        notice_no=_next_notice(region_code, now), item=item, title=title[:200],
        amount_fen=amount_fen, payer=payer, payer_name=name[:64],
        payer_id_number=payer_id_number[:18], department_code=department_code,
        region_code=region_code, source=source[:32], source_ref=source_ref[:64],
        expires_at=now + (expires_in or timedelta(days=int(settings.YIWANG_PAY_ORDER_DAYS))))
    audit.record("payments.order_created", order, actor=payer,
                 detail={"order_no": order.order_no, "amount_fen": amount_fen,
                         "source": source})
    return order


def get_order(*, order_no: str = "", notice_no: str = "") -> Order:
    """The order with this number or notice number; Order.DoesNotExist otherwise."""
    rows = Order.objects.select_related("item")
    found = (rows.filter(order_no=order_no[:32]).first() if order_no
             else rows.filter(notice_no=notice_no[:20]).first() if notice_no else None)
    if found is None:
        raise Order.DoesNotExist(_("找不到该缴款单"))
    return found


def payable(order: Order, now: datetime | None = None) -> bool:
    return order.state == OrderState.UNPAID and (now or timezone.now()) < order.expires_at


def start_online_payment(order: Order, channel_code: str) -> str:
    """Send the payer to an online channel's cashier: its address."""
    channel = channels.get(channel_code)
    if not channel.online:
        raise _error(_("该渠道不支持网上缴款"), "not_online", "channel")
    if not payable(order):
        raise _error(_("该缴款单当前不能缴款（%(state)s）") % {"state": _state_text(order)},
                     "not_payable")
    return channel.start_payment(order)


def _state_text(order: Order) -> str:
    if order.state == OrderState.UNPAID and timezone.now() >= order.expires_at:
        return _("已过缴款期限")
    return str(order.get_state_display())


def _lock(order_no: str) -> Order:
    return Order.objects.select_for_update().get(order_no=order_no)


def _settle(order: Order, *, channel: str, txn: str, at: datetime, actor: Any = None) -> None:
    """Mark the order paid — only if it is still at the version read (else :class:`_Moved`)
    — put it on the ledger, audit it, tell its module and queue its receipt."""
    moved = Order.objects.filter(pk=order.pk, row_version=order.row_version).update(
        state=OrderState.PAID, channel=channel, channel_txn=txn[:64], paid_at=at,
        closed_at=None, close_reason="", row_version=order.row_version + 1)
    if not moved:
        raise _Moved
    order.state, order.channel, order.channel_txn, order.paid_at = (
        OrderState.PAID, channel, txn[:64], at)
    order.closed_at, order.close_reason = None, ""
    order.row_version += 1
    ledger.append("payment.settled", {
        "order_no": order.order_no, "notice_no": order.notice_no, "amount_fen": order.amount_fen,
        "channel": channel, "txn": txn[:64], "department": order.department_code,
        "paid_at": at.isoformat()})
    audit.record("payments.order_paid", order, actor=actor,
                 detail={"channel": channel, "txn": txn[:64], "amount_fen": order.amount_fen})
    handler = _on_paid.get(order.source)
    if handler is not None:
        handler(order)
    from yiwang.core.tasks.service import enqueue

    enqueue("payments.issue_receipt", order.order_no)


@transaction.atomic
def pay_at_counter(order_no: str, official: Any, *, method: str,
                   expected_version: int | None = None) -> Order:
    """An official took the payment at the counter (cash, card or scan): settled at once."""
    if not official.has_perm(COLLECT):
        raise PermissionDenied(_("您没有窗口收款的权限"))
    if method not in ("cash", "card", "scan"):
        raise _error(_("收款方式须为现金、银行卡或扫码"), "bad_method", "method")
    order = _lock(order_no)
    if expected_version is not None and order.row_version != expected_version:
        raise Conflict(_("缴款单 %(no)s 已被他人处理，请刷新后再操作") % {"no": order.order_no})
    if not payable(order):
        raise _error(_("该缴款单当前不能缴款（%(state)s）") % {"state": _state_text(order)},
                     "not_payable")
    if channels.awaiting_notification(order.order_no):
        raise _error(_("缴款人已在银行缴款，正在等待银行到账通知，请勿重复收款"), "awaiting")
    txn = f"CT{timezone.localtime().strftime('%Y%m%d')}{secrets.token_hex(5).upper()}:{method}"
    _settle(order, channel="counter", txn=txn, at=timezone.now(), actor=official)
    return order


@dataclass(frozen=True)
class Answer:
    """What the platform answers a channel: ``ok`` (stop sending) and why."""

    ok: bool
    outcome: str
    reason: str = ""


def receive_notification(channel_code: str, body: bytes, signature: str) -> Answer:
    """Handle a channel's asynchronous notification (see the module's description)."""
    channel = channels.get(channel_code)
    if not channel.online:
        return Answer(False, NotificationOutcome.REJECTED, "this channel sends no notifications")
    try:
        notice = channel.verify(body, signature)
    except channels.ForgedNotification as exc:
        audit.record("payments.notification_forged", None,
                     detail={"channel": channel_code, "why": str(exc), "bytes": len(body)})
        logger.warning("forged %s notification rejected: %s", channel_code, exc)
        return Answer(False, NotificationOutcome.REJECTED, "bad signature")
    except (ValueError, KeyError, TypeError) as exc:
        audit.record("payments.notification_malformed", None,
                     detail={"channel": channel_code, "why": str(exc)[:200]})
        return Answer(False, NotificationOutcome.REJECTED, "malformed")
    # a replay is answered from a plain read: no write, no lock (gateways resend a lot)
    if _seen(channel_code, notice):
        return REPLAYED
    # the order is read before the write transaction (which holds SQLite's one write lock):
    # the settling UPDATE is conditional on its version, and a row that moved meanwhile is
    # read again, locked, inside
    known = _order(notice.order_no)
    try:
        with transaction.atomic(), audit.together():  # its audit events in one INSERT
            return _apply(channel_code, notice, known)
    except IntegrityError:
        if _seen(channel_code, notice):  # the same notification applied by a concurrent delivery
            return REPLAYED
        logger.exception("%s notification %s not applied", channel_code, notice.notify_id)
        return RETRY  # not acknowledged: the channel sends it again


REPLAYED = Answer(True, NotificationOutcome.DUPLICATE, "replay")
RETRY = Answer(False, "retry", "not applied: send it again later")


def _seen(channel_code: str, notice: channels.ChannelNotice) -> bool:
    # plain SQL: asked twice per notification, and the ORM's query building was most of it
    with connection.cursor() as cursor:
        cursor.execute(_SEEN, [channel_code, notice.notify_id])
        return cursor.fetchone() is not None


_SEEN = (f"SELECT 1 FROM {Notification._meta.db_table} "  # noqa: S608 — names, not input
         "WHERE channel = %s AND notify_id = %s LIMIT 1")


def _order(order_no: str, *, lock: bool = False) -> Order | None:
    # the payer's encrypted name and number are not needed to settle: not read (nor decrypted)
    rows = Order.objects.defer("payer_name", "payer_id_number")
    return (rows.select_for_update() if lock else rows).filter(order_no=order_no).first()


class _Moved(Exception):
    """The order changed between the read and the write: decide again on the locked row."""


def _apply(channel_code: str, notice: channels.ChannelNotice, known: Order | None) -> Answer:
    if _seen(channel_code, notice):  # applied since the read above
        return REPLAYED
    outcome: str = NotificationOutcome.APPLIED
    reason = ""
    order = known if notice.event == "pay" else _order(notice.order_no, lock=True)
    if order is None:
        outcome, reason = NotificationOutcome.REJECTED, "unknown order"
    elif notice.event == "pay":
        try:
            outcome, reason = _apply_payment(order, channel_code, notice)
        except _Moved:
            order = _order(notice.order_no, lock=True)
            assert order is not None
            outcome, reason = _apply_payment(order, channel_code, notice)
    else:
        outcome, reason = _apply_refund(order, notice)
    Notification.objects.create(
        channel=channel_code, notify_id=notice.notify_id, event=notice.event,
        order_no=notice.order_no, channel_txn=notice.txn, amount_fen=notice.amount_fen,
        outcome=outcome, reason=reason)
    if outcome == NotificationOutcome.REJECTED:
        audit.record("payments.notification_rejected", order,
                     detail={"channel": channel_code, "notify_id": notice.notify_id,
                             "reason": reason, "amount_fen": notice.amount_fen})
    # a rejected notification is answered too: sending it again would not change it
    return Answer(True, outcome, reason)


def _apply_payment(order: Order, channel_code: str, notice: channels.ChannelNotice
                   ) -> tuple[str, str]:
    if not notice.succeeded:
        return NotificationOutcome.APPLIED, f"declined: {notice.failure}"[:255]
    if notice.amount_fen != order.amount_fen:
        return NotificationOutcome.REJECTED, (
            f"amount mismatch: {notice.amount_fen} paid, {order.amount_fen} due")
    if order.state != OrderState.UNPAID:
        if order.channel == channel_code and order.channel_txn == notice.txn:
            return NotificationOutcome.DUPLICATE, "already settled by this transaction"
        # closed for want of payment while the bank's notification of a payment made in
        # time was still on its way: the payer did pay, the order is settled
        late_notice = (order.state == OrderState.CLOSED and order.paid_at is None
                       and notice.at <= order.expires_at)
        if not late_notice:
            return NotificationOutcome.REJECTED, f"order is {order.state} (paid twice?)"
    _settle(order, channel=channel_code, txn=notice.txn, at=notice.at)
    return NotificationOutcome.APPLIED, ""


def _apply_refund(order: Order, notice: channels.ChannelNotice) -> tuple[str, str]:
    refund = Refund.objects.select_for_update().filter(refund_no=notice.refund_no,
                                                       order=order).first()
    if refund is None:
        return NotificationOutcome.REJECTED, "unknown refund"
    if refund.state != RefundState.PENDING:
        return NotificationOutcome.DUPLICATE, "refund already settled"
    if notice.amount_fen != refund.amount_fen:
        return NotificationOutcome.REJECTED, "refund amount mismatch"
    refund.settled_at, refund.channel_refund_id = notice.at, notice.txn[:64]
    if refund.returns_txn:  # a payment that was never applied: the order is not concerned
        refund.state = RefundState.SUCCEEDED if notice.succeeded else RefundState.FAILED
        refund.failure = "" if notice.succeeded else notice.failure[:200]
        refund.save(update_fields=["state", "failure", "settled_at", "channel_refund_id"])
        if notice.succeeded:
            ledger.append("payment.returned", {
                "order_no": order.order_no, "refund_no": refund.refund_no,
                "amount_fen": refund.amount_fen, "txn": refund.returns_txn,
                "at": notice.at.isoformat()})
        return NotificationOutcome.APPLIED, ""
    if not notice.succeeded:
        refund.state, refund.failure = RefundState.FAILED, notice.failure[:200]
        # the reserved amount is released: it may be refunded again
        order.refunded_fen -= refund.amount_fen
    else:
        refund.state = RefundState.SUCCEEDED
        ledger.append("payment.refunded", {
            "order_no": order.order_no, "refund_no": refund.refund_no,
            "amount_fen": refund.amount_fen, "txn": notice.txn[:64],
            "at": notice.at.isoformat()})
    refund.save(update_fields=["state", "failure", "settled_at", "channel_refund_id"])
    _refund_state(order)
    return NotificationOutcome.APPLIED, ""


def _refund_state(order: Order) -> None:
    settled = sum(Refund.objects.filter(order=order, state=RefundState.SUCCEEDED,
                                        returns_txn="").values_list("amount_fen", flat=True))
    if settled >= order.amount_fen:
        order.state = OrderState.REFUNDED
    elif settled > 0:
        order.state = OrderState.PARTIALLY_REFUNDED
    order.row_version += 1
    order.save(update_fields=["state", "refunded_fen", "row_version"])


@transaction.atomic
def refund_order(order_no: str, official: Any, *, amount_fen: int, reason: str,
                 expected_version: int | None = None) -> Refund:
    """Return ``amount_fen`` of a paid order to the payer through the channel it was paid
    by (a counter payment is returned at the counter: settled at once). The amount is
    reserved at once, so two refunds can never exceed the payment."""
    if not official.has_perm(COLLECT):
        raise PermissionDenied(_("您没有退款的权限"))
    order = _lock(order_no)
    if expected_version is not None and order.row_version != expected_version:
        raise Conflict(_("缴款单 %(no)s 已被他人处理，请刷新后再操作") % {"no": order.order_no})
    if order.paid_at is None:
        raise _error(_("该缴款单尚未缴款，无可退金额"), "not_paid")
    reason = (reason or "").strip()
    if not reason:
        raise _error(_("请填写退款原因"), "no_reason", "reason")
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise _error(_("退款金额须为正整数（分）"), "bad_amount", "amount_fen")
    if amount_fen > order.refundable_fen:
        raise _error(_("退款金额超过可退金额 %(left)s 分") % {"left": order.refundable_fen},
                     "too_much", "amount_fen")
    refund = Refund.objects.create(
        order=order, refund_no="RF" + timezone.localtime().strftime("%Y%m%d")
        + secrets.token_hex(6).upper(), amount_fen=amount_fen, reason=reason[:200],
        requested_by=official)
    order.refunded_fen += amount_fen
    order.row_version += 1
    order.save(update_fields=["refunded_fen", "row_version"])
    audit.record("payments.refund_requested", order, actor=official,
                 detail={"refund_no": refund.refund_no, "amount_fen": amount_fen})
    if order.channel == "counter":
        refund.state, refund.settled_at = RefundState.SUCCEEDED, timezone.now()
        refund.save(update_fields=["state", "settled_at"])
        ledger.append("payment.refunded", {
            "order_no": order.order_no, "refund_no": refund.refund_no,
            "amount_fen": amount_fen, "txn": "counter", "at": refund.settled_at.isoformat()})
        _refund_state(order)
    else:
        channels.get(order.channel).start_refund(order, refund)
    return refund


@transaction.atomic
def return_unapplied(notification_id: int, official: Any, *, reason: str) -> Refund:
    """Give back a payment a channel settled but the platform did not apply — a second
    payment of an order already paid, or one for an order closed before it was paid — through
    the channel it came by. Once per payment."""
    if not official.has_perm(COLLECT):
        raise PermissionDenied(_("您没有退款的权限"))
    note = Notification.objects.select_for_update().filter(
        pk=notification_id, event="pay", outcome=NotificationOutcome.REJECTED).first()
    if note is None or note.amount_fen is None or not note.channel_txn:
        raise _error(_("只有未入账的渠道缴款可以这样退还"), "not_unapplied")
    order = _lock(note.order_no)
    if Refund.objects.filter(order=order, returns_txn=note.channel_txn).exists():
        raise _error(_("这笔缴款已经退还"), "returned")
    reason = (reason or "").strip()
    if not reason:
        raise _error(_("请填写退款原因"), "no_reason", "reason")
    refund = Refund.objects.create(
        order=order, refund_no="RF" + timezone.localtime().strftime("%Y%m%d")
        + secrets.token_hex(6).upper(), amount_fen=note.amount_fen, reason=reason[:200],
        requested_by=official, returns_txn=note.channel_txn)
    audit.record("payments.unapplied_returned", order, actor=official,
                 detail={"refund_no": refund.refund_no, "txn": note.channel_txn,
                         "amount_fen": note.amount_fen})
    channels.get(note.channel).start_refund(order, refund)
    return refund


@transaction.atomic
def close_order(order_no: str, *, reason: str, actor: Any = None) -> Order:
    """Close an unpaid order (withdrawn by its module, or past its deadline)."""
    order = _lock(order_no)
    if order.state != OrderState.UNPAID:
        raise _error(_("只有待缴款的缴款单可以关闭"), "not_unpaid")
    order.state, order.closed_at, order.close_reason = (OrderState.CLOSED, timezone.now(),
                                                        reason[:200])
    order.row_version += 1
    order.save(update_fields=["state", "closed_at", "close_reason", "row_version"])
    audit.record("payments.order_closed", order, actor=actor, detail={"reason": reason[:200]})
    return order


def expire_orders(now: datetime | None = None) -> int:
    """Close the unpaid orders past their deadline (the periodic job)."""
    now = now or timezone.now()
    closed = 0
    for order_no in Order.objects.filter(state=OrderState.UNPAID, expires_at__lte=now
                                         ).values_list("order_no", flat=True)[:1000]:
        if channels.awaiting_notification(order_no):
            continue  # paid at a bank in time; its notification is on the way
        try:
            close_order(order_no, reason=_("逾期未缴款"))
            closed += 1
        except ValidationError:
            continue  # paid meanwhile
    return closed
