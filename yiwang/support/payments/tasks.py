"""Background work of unified payment: the simulated bank's notifications, receipts, the
expiry of unpaid orders and the local channel's daily reconciliation."""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from yiwang.core.tasks.service import periodic, task
from yiwang.support.payments import service


@task(name="payments.local_notify", max_retries=8)
def local_notify(txn_id: str) -> str:
    """The simulated bank notifies the platform of a settled transaction; retried (with
    back-off) until the platform answers success."""
    return service.deliver_local_notification(txn_id, rng=random.random)


@task(name="payments.issue_receipt", max_retries=10)
def issue_receipt(order_no: str) -> str:
    """Issue the fiscal e-receipt of a paid order."""
    return service.issue_receipt(order_no)


@periodic(name="payments.expire_orders", every=timedelta(minutes=10))
def expire_orders() -> int:
    """Close unpaid orders past their deadline."""
    return service.expire_orders()


@periodic(name="payments.reconcile_local", at="03:10")
def reconcile_local() -> dict[str, int]:
    """Reconcile yesterday's statement of the simulated bank."""
    day = timezone.localdate() - timedelta(days=1)
    report = service.reconcile_local(day)
    return {"matched": report.matched, "discrepancies": len(report.discrepancies)}
