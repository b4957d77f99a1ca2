"""Public facade of unified payment (统一支付).

Any module opens a fee order (:func:`create_order`: a 20-digit non-tax notice number,
``notice.py``) and learns that it was paid through :func:`on_paid`. The payer pays online
through a channel plugin (``channels.py``: the simulated bank ``local``; a real bank's plugin
has the same shape) or at a counter (:func:`pay_at_counter`). Channels report results in
signed asynchronous notifications, handled idempotently by :func:`receive_notification`
(``orders.py`` says how replays, forgeries and mismatches are treated). Officials refund
(:func:`refund_order`, never more than was paid) and reconcile each day's statement file
(:func:`reconcile`). Every settled payment and refund is on the ledger; each paid order gets
a sealed fiscal e-receipt (``receipts.py``).

Who may do what: anyone holding an order's notice number may pay it (a relative often
does); the payer reads their own orders and receipts; officials with
``payments.collect_payment`` take counter payments, refund and reconcile for their
departments.
"""

from __future__ import annotations

import http.client
import logging
from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import QuerySet

from yiwang.support.payments import channels, receipts
from yiwang.support.payments.channels import ForgedNotification
from yiwang.support.payments.models import (
    BankTxnState,
    FeeItem,
    LocalBankTxn,
    Notification,
    NotificationOutcome,
    Order,
    OrderState,
    Reconciliation,
    Refund,
    RefundState,
)
from yiwang.support.payments.notice import grouped, validate_notice_number
from yiwang.support.payments.orders import (
    COLLECT,
    Answer,
    Conflict,
    close_order,
    create_order,
    expire_orders,
    get_order,
    on_paid,
    pay_at_counter,
    payable,
    receive_notification,
    refund_order,
    return_unapplied,
    start_online_payment,
)
from yiwang.support.payments.receipts import ReceiptNotReady, amount_in_words
from yiwang.support.payments.reconcile import reconcile

__all__ = [
    "COLLECT",
    "Answer",
    "BankTxnState",
    "Conflict",
    "FeeItem",
    "ForgedNotification",
    "LocalBankTxn",
    "Notification",
    "NotificationOutcome",
    "Order",
    "OrderState",
    "ReceiptNotReady",
    "Reconciliation",
    "Refund",
    "RefundState",
    "amount_in_words",
    "awaiting_notification",
    "close_order",
    "confirm_local_payment",
    "create_order",
    "deliver_local_notification",
    "expire_orders",
    "get_order",
    "grouped",
    "issue_receipt",
    "list_orders",
    "local_bank",
    "local_statement",
    "on_paid",
    "online_channels",
    "pay_at_counter",
    "payable",
    "receive_notification",
    "reconcile",
    "reconcile_local",
    "refund_order",
    "return_unapplied",
    "save_fee_item",
    "start_online_payment",
    "validate_notice_number",
]

logger = logging.getLogger("yiwang.payments")


def local_bank() -> channels.LocalBank:
    found = channels.get("local")
    assert isinstance(found, channels.LocalBank)
    return found


def online_channels() -> list[channels.Channel]:
    """The channels a payer can pay through on line."""
    return [c for c in channels.all_channels() if c.online]


def save_fee_item(code: str, name: str, *, department_code: str, legal_basis: str,
                  standard_fen: int | None = None) -> FeeItem:
    """Create or change a fee item (收费项目); a legal basis is required."""
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    if not legal_basis.strip():
        raise ValidationError({"legal_basis": [_("须写明收费依据")]})
    item, _created = FeeItem.objects.update_or_create(code=code, defaults={
        "name": name, "department_code": department_code, "legal_basis": legal_basis,
        "standard_fen": standard_fen, "active": True})
    return item


def list_orders(*, payer: Any = None, department_codes: list[str] | None = None,
                state: str = "", q: str = "") -> QuerySet[Order]:
    """Orders of a payer, or of departments (None: all), newest first."""
    rows = Order.objects.select_related("item")
    if payer is not None:
        rows = rows.filter(payer=payer)
    if department_codes is not None:
        rows = rows.filter(department_code__in=department_codes)
    if state:
        rows = rows.filter(state=state)
    if q:
        rows = rows.filter(order_no__icontains=q) | rows.filter(notice_no__startswith=q)
    return rows.order_by("-created_at", "-id")


def confirm_local_payment(txn_id: str, *, rng: Callable[[], float] | None = None
                          ) -> LocalBankTxn:
    """The payer confirms on the simulated bank's cashier page."""
    bank = local_bank()
    return bank.confirm(txn_id, **({"rng": rng} if rng else {}))


def deliver_local_notification(txn_id: str, *, rng: Callable[[], float]) -> str:
    """The simulated bank delivers its notification of ``txn_id`` — over HTTP to
    ``YIWANG_PAY_LOCAL_NOTIFY_URL`` when set, else in process — sometimes twice; raises so
    that the job is retried when the platform does not answer success."""
    bank = local_bank()
    txn = LocalBankTxn.objects.get(txn_id=txn_id)
    body, signature = bank.notification(txn)
    times = 2 if rng() < float(settings.YIWANG_PAY_LOCAL_DUPLICATE_RATE) else 1
    answers = [_post(body, signature) for _n in range(times)]
    LocalBankTxn.objects.filter(pk=txn.pk).update(notify_attempts=txn.notify_attempts + times)
    if not all(answers):
        raise RuntimeError(f"the platform did not acknowledge notification of {txn_id}")
    LocalBankTxn.objects.filter(pk=txn.pk).update(notified=txn.notified + times)
    return "success"


def _post(body: bytes, signature: str) -> bool:
    url = settings.YIWANG_PAY_LOCAL_NOTIFY_URL
    if not url:
        return receive_notification("local", body, signature).ok
    parts = urlsplit(url)
    connection_class = (http.client.HTTPSConnection if parts.scheme == "https"
                        else http.client.HTTPConnection)
    connection = connection_class(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        connection.request("POST", parts.path or "/", body=body, headers={
            "Content-Type": "application/json", "X-Pay-Signature": signature})
        response = connection.getresponse()
        return response.status == 200 and response.read().strip() == b"success"
    except OSError:
        logger.warning("the simulated bank could not reach %s", url)
        return False
    finally:
        connection.close()


def awaiting_notification(order: Order) -> bool:
    """Whether a bank has settled a payment of this unpaid order whose notification has not
    reached the platform yet (the payer's page says so and refreshes; the counter refuses
    a second payment meanwhile)."""
    return order.state == OrderState.UNPAID and channels.awaiting_notification(order.order_no)


def local_statement(day: date) -> bytes:
    """The simulated bank's statement file of ``day`` (CSV)."""
    return local_bank().statement(day)


def reconcile_local(day: date, actor: Any = None) -> Reconciliation:
    """Reconcile the simulated bank's statement of ``day``."""
    return reconcile("local", day, local_statement(day), actor=actor)


def issue_receipt(order_no: str) -> str:
    """The fiscal e-receipt of a paid order (issued once); its number."""
    return receipts.issue_receipt(order_no)

