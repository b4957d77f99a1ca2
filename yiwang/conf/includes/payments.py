"""Unified payment (统一支付): orders, the simulated bank and e-receipts."""

from __future__ import annotations

from yiwang.conf.env import env

_GROUP = "Payments"

YIWANG_PAY_ORDER_DAYS = env(
    "YIWANG_PAY_ORDER_DAYS", 15, group=_GROUP,
    doc="Days a fee order may be paid before it is closed as overdue.",
)
YIWANG_PAY_RECEIPT_DEPARTMENT = env(
    "YIWANG_PAY_RECEIPT_DEPARTMENT", "czj", group=_GROUP,
    doc="The department (the finance bureau) whose seal, under a standing authorisation "
        "for receipt:fiscal, seals fiscal e-receipts.",
)
YIWANG_PAY_LOCAL_ALGORITHM = env(
    "YIWANG_PAY_LOCAL_ALGORITHM", "sm2", group=_GROUP, choices=("sm2", "ecdsa-p256", "ed25519"),
    doc="The signature algorithm of the simulated bank's notifications.",
)
YIWANG_PAY_LOCAL_DELAY_SECONDS = env(
    "YIWANG_PAY_LOCAL_DELAY_SECONDS", 2.0, group=_GROUP,
    doc="Seconds the simulated bank waits before notifying the platform of a settled "
        "payment or refund.",
)
YIWANG_PAY_LOCAL_FAILURE_RATE = env(
    "YIWANG_PAY_LOCAL_FAILURE_RATE", 0.0, group=_GROUP,
    doc="Share (0–1) of payments the simulated bank declines (as for a short balance).",
)
YIWANG_PAY_LOCAL_DUPLICATE_RATE = env(
    "YIWANG_PAY_LOCAL_DUPLICATE_RATE", 0.1, group=_GROUP,
    doc="Share (0–1) of notifications the simulated bank sends twice, as real gateways do.",
)
YIWANG_PAY_LOCAL_NOTIFY_URL = env(
    "YIWANG_PAY_LOCAL_NOTIFY_URL", "", group=_GROUP,
    doc="Where the simulated bank posts its notifications (the platform's "
        "/api/v1/payments/notify/local on the public listener); empty: handed to the "
        "platform in process, signed and verified all the same.",
)
