"""Payment channels (缴款渠道) as plugins.

A channel is how money reaches the treasury account: a bank or third-party gateway the payer
is sent to (``online``), or the counter where an official takes cash or a card (``counter``).
An online channel starts a payment (the address of its cashier page), verifies the
asynchronous notifications it sends (pay and refund results, signed), starts refunds and
reads its daily statement file.

``local`` is the simulated bank every installation has — no real bank can exist here. It
behaves like one: its own books (``LocalBankTxn``), a cashier page, notifications signed
with its own SM2 key (``YIWANG_PAY_LOCAL_ALGORITHM``) and sent asynchronously by a background
job after ``YIWANG_PAY_LOCAL_DELAY_SECONDS``, retried until the platform answers ``success``,
sometimes twice (``YIWANG_PAY_LOCAL_DUPLICATE_RATE``), payments declined at
``YIWANG_PAY_LOCAL_FAILURE_RATE``, and a statement file per day. A real bank's plugin
implements the same class with that bank's API and its published public key.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.crypto import service as crypto
from yiwang.support.payments.models import BankTxnState, LocalBankTxn, Order, Refund

VERIFIED_KEPT = 10_000
STATEMENT_HEADER = ["txn_id", "kind", "order_no", "refund_no", "amount_fen", "settled_at"]


class ForgedNotification(Exception):
    """The notification's signature does not verify: it was not sent by the channel."""


@dataclass(frozen=True)
class ChannelNotice:
    """What a verified notification says."""

    notify_id: str
    event: str  # pay | refund
    order_no: str
    txn: str
    amount_fen: int
    succeeded: bool
    at: datetime
    refund_no: str = ""
    failure: str = ""


@dataclass(frozen=True)
class StatementLine:
    txn: str
    kind: str
    order_no: str
    refund_no: str
    amount_fen: int
    settled_at: datetime


class Channel:
    """A payment channel. Subclasses set ``code``, ``name`` and ``online``."""

    code: ClassVar[str]
    name: ClassVar[Any]
    online: ClassVar[bool] = True

    def start_payment(self, order: Order) -> str:
        """Open a payment of ``order`` at the channel; the address of its cashier page."""
        raise NotImplementedError

    def start_refund(self, order: Order, refund: Refund) -> None:
        """Ask the channel to return ``refund.amount_fen`` of ``order``; the result comes
        as a notification."""
        raise NotImplementedError

    def verify(self, body: bytes, signature: str) -> ChannelNotice:
        """The notification in ``body`` if ``signature`` is the channel's; raises
        :class:`ForgedNotification` otherwise, ``ValueError`` for a malformed body."""
        raise NotImplementedError

    def parse_statement(self, content: bytes) -> tuple[list[StatementLine], list[dict[str, Any]]]:
        """The lines of a statement file, and the lines that could not be read
        (``{"line": n, "error": …}``)."""
        raise NotImplementedError


_channels: dict[str, Channel] = {}


def register(channel: Channel) -> Channel:
    _channels[channel.code] = channel
    return channel


def get(code: str) -> Channel:
    try:
        return _channels[code]
    except KeyError:
        raise ValidationError(_("没有缴款渠道 %(code)s") % {"code": code[:16]},
                              code="no_channel") from None


def all_channels() -> list[Channel]:
    return list(_channels.values())


class Counter(Channel):
    """窗口收款: an official takes cash, a bank card or a scan at the service hall's counter;
    settled at once, no notification."""

    code = "counter"
    name = gettext_lazy("窗口收款")
    online = False


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class LocalBank(Channel):
    """The simulated bank (see the module's description)."""

    code = "local"
    name = gettext_lazy("模拟银行（本地）")
    OWNER, PURPOSE = "payments.localbank", "notify"

    # --- the bank's side ------------------------------------------------------------------

    def _key(self) -> Any:
        key = crypto.active_signing_key(self.OWNER, self.PURPOSE)
        if key is None:
            key = crypto.create_signing_key(owner=self.OWNER, purpose=self.PURPOSE,
                                            algorithm=settings.YIWANG_PAY_LOCAL_ALGORITHM)
        return key

    def public_key(self) -> tuple[str, bytes]:
        """The bank's published verification key: (algorithm, SPKI DER)."""
        key = self._key()
        return key.algorithm, bytes(key.public_key)

    @transaction.atomic
    def start_payment(self, order: Order) -> str:
        txn = LocalBankTxn.objects.create(txn_id="LB" + secrets.token_hex(8).upper(),
                                          kind="pay", order_no=order.order_no,
                                          amount_fen=order.amount_fen)
        from django.urls import reverse

        return reverse("payments_portal:bank", args=[txn.txn_id])

    @transaction.atomic
    def start_refund(self, order: Order, refund: Refund) -> None:
        txn = LocalBankTxn.objects.create(txn_id="LR" + secrets.token_hex(8).upper(),
                                          kind="refund", order_no=order.order_no,
                                          refund_no=refund.refund_no,
                                          amount_fen=refund.amount_fen)
        self._settle(txn, succeeded=True)

    def cashier_txn(self, txn_id: str) -> LocalBankTxn | None:
        return LocalBankTxn.objects.filter(txn_id=txn_id[:32], kind="pay").first()

    @transaction.atomic
    def confirm(self, txn_id: str, *, rng: Callable[[], float] = random.random) -> LocalBankTxn:
        """The payer confirms on the bank's cashier page: the bank debits them (or declines,
        at the configured failure rate; or when the order can no longer be paid, as a real
        gateway's order times out) and will notify the platform."""
        txn = LocalBankTxn.objects.select_for_update().get(txn_id=txn_id, kind="pay")
        if txn.state != BankTxnState.PENDING:
            return txn
        order = Order.objects.filter(order_no=txn.order_no).only(
            "state", "expires_at").first()
        if order is None or order.state != "unpaid" or timezone.now() >= order.expires_at:
            self._settle(txn, succeeded=False, failure=_("订单已失效"))
            return txn
        declined = rng() < float(settings.YIWANG_PAY_LOCAL_FAILURE_RATE)
        self._settle(txn, succeeded=not declined,
                     failure=_("余额不足") if declined else "")
        return txn

    def _settle(self, txn: LocalBankTxn, *, succeeded: bool, failure: str = "") -> None:
        from yiwang.core.tasks.service import enqueue

        txn.state = BankTxnState.SUCCEEDED if succeeded else BankTxnState.FAILED
        txn.settled_at, txn.failure = timezone.now(), failure
        txn.save(update_fields=["state", "settled_at", "failure"])
        delay = float(settings.YIWANG_PAY_LOCAL_DELAY_SECONDS)
        enqueue("payments.local_notify", txn.txn_id, countdown=delay)

    def notification(self, txn: LocalBankTxn) -> tuple[bytes, str]:
        """The signed notification of a settled transaction: (body, signature)."""
        body = json.dumps({
            "notify_id": f"N{txn.txn_id}", "event": txn.kind, "txn_id": txn.txn_id,
            "order_no": txn.order_no, "refund_no": txn.refund_no,
            "amount_fen": txn.amount_fen,
            "status": "succeeded" if txn.state == BankTxnState.SUCCEEDED else "failed",
            "failure": txn.failure,
            "settled_at": (txn.settled_at or timezone.now()).isoformat(),
        }, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
        key = self._key()
        return body, _b64(crypto.sign_with_key(key.id, body))

    def statement(self, day: date) -> bytes:
        """The bank's statement file of ``day``: every settled transaction, CSV."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(STATEMENT_HEADER)
        rows = LocalBankTxn.objects.filter(state=BankTxnState.SUCCEEDED).order_by("settled_at")
        for txn in rows:
            assert txn.settled_at is not None
            if timezone.localtime(txn.settled_at).date() != day:
                continue
            writer.writerow([txn.txn_id, txn.kind, txn.order_no, txn.refund_no,
                             txn.amount_fen, txn.settled_at.isoformat()])
        return out.getvalue().encode()

    # --- the platform's side --------------------------------------------------------------

    _published: tuple[str, bytes] | None = None
    _verified: dict[bytes, None] = {}  # per process; the oldest dropped first

    def verify(self, body: bytes, signature: str) -> ChannelNotice:
        try:
            raw = base64.b64decode(signature, validate=True)
        except ValueError:
            raise ForgedNotification("signature is not base64") from None
        # the very bytes of a notification verified before (a replay: gateways resend until
        # answered) need not be verified again
        seen = hashlib.sha256(body + b"\0" + raw).digest()
        if seen not in self._verified:
            if not self._verifies(body, raw):
                raise ForgedNotification("signature does not verify")
            if len(self._verified) >= VERIFIED_KEPT:
                self._verified.pop(next(iter(self._verified)))
            self._verified[seen] = None
        data = json.loads(body)
        if not isinstance(data, dict) or data.get("event") not in ("pay", "refund"):
            raise ValueError("not a notification")
        amount = data.get("amount_fen")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            raise ValueError("amount_fen must be a whole number of fen")
        return ChannelNotice(
            notify_id=str(data["notify_id"])[:64], event=data["event"],
            order_no=str(data.get("order_no", ""))[:32], txn=str(data.get("txn_id", ""))[:64],
            amount_fen=amount, succeeded=data.get("status") == "succeeded",
            at=datetime.fromisoformat(str(data["settled_at"])),
            refund_no=str(data.get("refund_no") or "")[:32],
            failure=str(data.get("failure") or "")[:200])

    def _verifies(self, body: bytes, raw: bytes) -> bool:
        """Against the bank's published key, kept per process; read again once when it does
        not verify (the bank may have rotated its key)."""
        for fresh in (False, True):
            if fresh or self._published is None:
                self._published = self.public_key()
            algorithm, public = self._published
            if crypto.verify_signature(algorithm, public, body, raw):
                return True
        return False

    def parse_statement(self, content: bytes) -> tuple[list[StatementLine], list[dict[str, Any]]]:
        lines: list[StatementLine] = []
        broken: list[dict[str, Any]] = []
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            return [], [{"line": 0, "error": _("对账单不是 UTF-8 文本")}]
        rows = csv.reader(io.StringIO(text))
        header = next(rows, None)
        if header != STATEMENT_HEADER:
            return [], [{"line": 1, "error": _("表头应为 %(header)s")
                         % {"header": ",".join(STATEMENT_HEADER)}}]
        for number, row in enumerate(rows, start=2):
            if not row or not "".join(row).strip():
                continue
            try:
                if len(row) != len(STATEMENT_HEADER):
                    raise ValueError(_("应有 %(n)s 列，实有 %(m)s 列")
                                     % {"n": len(STATEMENT_HEADER), "m": len(row)})
                txn, kind, order_no, refund_no, amount, settled = row
                if kind not in ("pay", "refund") or not txn or not order_no:
                    raise ValueError(_("交易类型须为 pay 或 refund，流水号和订单号不能为空"))
                if not amount.isdigit():
                    raise ValueError(_("金额须为整数（分）"))
                lines.append(StatementLine(txn, kind, order_no, refund_no, int(amount),
                                           datetime.fromisoformat(settled)))
            except ValueError as exc:
                broken.append({"line": number, "error": str(exc)[:200]})
        return lines, broken


def awaiting_notification(order_no: str) -> bool:
    """Whether the simulated bank settled a payment of this order whose notification has
    not been applied yet."""
    from yiwang.support.payments.models import Notification

    settled = {f"N{txn}" for txn in LocalBankTxn.objects.filter(
        order_no=order_no, kind="pay", state=BankTxnState.SUCCEEDED).values_list(
        "txn_id", flat=True)}
    if not settled:
        return False
    received = set(Notification.objects.filter(channel="local", notify_id__in=settled)
                   .values_list("notify_id", flat=True))
    return bool(settled - received)


register(Counter())
register(LocalBank())
