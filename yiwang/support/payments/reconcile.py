"""Daily reconciliation (对账) of a channel's statement file against the orders.

Each statement line is a settled transaction at the channel. Discrepancies:

- ``missing_here`` (长款): the channel settled a payment the platform has no record of
  (its notification never arrived or was rejected) — the order is paid at the bank;
- ``missing_there`` (短款): an order the platform settled on that day through the channel
  that is not on the statement;
- ``amount``: the amounts differ;
- ``duplicate``: a second payment of an order already paid by another transaction (the
  payer paid twice: one is to be refunded);
- ``refund_missing_here`` / ``refund_missing_there``: the same for refunds.

Lines that cannot be read are listed with their line numbers; the rest is still compared.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from yiwang.core.audit import service as audit
from yiwang.support.payments import channels
from yiwang.support.payments.models import Order, Reconciliation, Refund, RefundState


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


@transaction.atomic
def reconcile(channel_code: str, day: date, statement: bytes, *, actor: Any = None
              ) -> Reconciliation:
    """Compare ``statement`` (the channel's file of ``day``) with the orders; the report."""
    channel = channels.get(channel_code)
    if not channel.online:
        from django.core.exceptions import ValidationError
        from django.utils.translation import gettext as _

        raise ValidationError(_("该渠道没有对账单"), code="no_statement")
    lines, broken = channel.parse_statement(statement)
    start, end = _day_bounds(day)
    discrepancies: list[dict[str, Any]] = []
    matched = 0
    pays = [line for line in lines if line.kind == "pay"]
    refunds = [line for line in lines if line.kind == "refund"]
    orders = {o.order_no: o for o in Order.objects.filter(
        order_no__in=[line.order_no for line in pays])}
    seen_txns: set[str] = set()
    for line in pays:
        order = orders.get(line.order_no)
        seen_txns.add(line.txn)
        if order is None or order.paid_at is None:
            discrepancies.append({"kind": "missing_here", "txn": line.txn,
                                  "order_no": line.order_no, "ours_fen": None,
                                  "theirs_fen": line.amount_fen})
        elif order.channel != channel_code or order.channel_txn != line.txn:
            discrepancies.append({"kind": "duplicate", "txn": line.txn,
                                  "order_no": line.order_no, "ours_fen": order.amount_fen,
                                  "theirs_fen": line.amount_fen,
                                  "detail": f"paid by {order.channel} {order.channel_txn}"})
        elif order.amount_fen != line.amount_fen:
            discrepancies.append({"kind": "amount", "txn": line.txn, "order_no": line.order_no,
                                  "ours_fen": order.amount_fen, "theirs_fen": line.amount_fen})
        else:
            matched += 1
    for order in Order.objects.filter(channel=channel_code, paid_at__gte=start,
                                      paid_at__lt=end).exclude(channel_txn__in=seen_txns):
        discrepancies.append({"kind": "missing_there", "txn": order.channel_txn,
                              "order_no": order.order_no, "ours_fen": order.amount_fen,
                              "theirs_fen": None})
    ours = {r.refund_no: r for r in Refund.objects.filter(
        order__channel=channel_code, state=RefundState.SUCCEEDED, settled_at__gte=start,
        settled_at__lt=end)}
    for line in refunds:
        refund = ours.pop(line.refund_no, None)
        if refund is None:
            discrepancies.append({"kind": "refund_missing_here", "txn": line.txn,
                                  "order_no": line.order_no, "ours_fen": None,
                                  "theirs_fen": line.amount_fen})
        elif refund.amount_fen != line.amount_fen:
            discrepancies.append({"kind": "amount", "txn": line.txn, "order_no": line.order_no,
                                  "ours_fen": refund.amount_fen, "theirs_fen": line.amount_fen})
        else:
            matched += 1
    for refund in ours.values():
        discrepancies.append({"kind": "refund_missing_there", "txn": refund.channel_refund_id,
                              "order_no": refund.order.order_no, "ours_fen": refund.amount_fen,
                              "theirs_fen": None})
    report = Reconciliation.objects.create(
        channel=channel_code, day=day, statement_sha256=hashlib.sha256(statement).hexdigest(),
        lines=len(lines) + len(broken), matched=matched, discrepancies=discrepancies,
        broken_lines=broken, created_by=actor)
    audit.record("payments.reconciled", report, actor=actor,
                 detail={"channel": channel_code, "day": day.isoformat(), "matched": matched,
                         "discrepancies": len(discrepancies), "broken": len(broken)})
    return report
