"""Public API of unified payment: /api/v1/payments on the public listener.

- ``POST /notify/{channel}``: a channel's asynchronous notification — the raw body, signed,
  the signature in ``X-Pay-Signature`` (base64). No session and no CSRF: the signature is
  the credential. Answers ``success`` (stop sending; also for a replay, which changes
  nothing) or ``fail`` with 400 (forged or malformed: refused, audited, and counted against
  the caller's address — too many → 429).
- ``GET /orders/{notice_no}``: what a payer needs before paying an order they hold the notice
  number of (the payer's name masked); rate-limited per address, as notice numbers are
  sequential.

Thin: each endpoint calls ``yiwang.support.payments.service``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext
from ninja import Field, Router, Schema, Status

from yiwang.core import ratelimit
from yiwang.core.masking.service import mask_name
from yiwang.platform.orgs import service as orgs
from yiwang.support.payments import service as payments

public_router = Router(tags=["payments"])
MAX_BODY = 16 * 1024
FAILURES_PER_MINUTE = 20
LOOKUPS_PER_MINUTE = 30


class Message(Schema):
    detail: str = Field(description="错误说明")


class OrderOut(Schema):
    notice_no: str = Field(description="缴款码（20 位）")
    title: str = Field(description="缴费事项")
    amount_fen: int = Field(description="应缴金额（分）")
    state: str = Field(description="unpaid, paid, partially_refunded, refunded, closed")
    payable: bool = Field(description="现在能否缴款")
    payer: str = Field(description="缴款人（脱敏）")
    department: str = Field(description="执收单位")
    expires_at: datetime
    paid_at: datetime | None


@public_router.post("/notify/{channel}", auth=None,
                    response={200: str, 400: str, 429: str, 503: str},
                    summary="A payment channel's signed notification (pay or refund result)",
                    openapi_extra={"requestBody": {"required": True, "content": {
                        "application/json": {"schema": {"type": "object"}}}}})
def notify(request: HttpRequest, channel: str) -> HttpResponse:
    if _over(request):
        return HttpResponse("fail", status=429, content_type="text/plain")
    body = request.body
    signature = request.headers.get("X-Pay-Signature", "")
    if len(body) > MAX_BODY or not signature:
        return _failed(request)
    try:
        answer = payments.receive_notification(channel, body, signature)
    except ValidationError:  # an unknown channel
        return _failed(request)
    if answer.outcome == "retry":  # ours, not the sender's: not counted against it
        return HttpResponse("fail", status=503, content_type="text/plain",
                            headers={"Retry-After": "30"})
    if not answer.ok:
        return _failed(request)
    return HttpResponse("success", content_type="text/plain")


def _over(request: HttpRequest) -> bool:
    """Whether the address already failed too often this minute (without counting)."""
    from django.core.cache import cache

    key = f"ratelimit:payments.notify_fail:{ratelimit.client_address(request)}"
    return int(cache.get(key) or 0) >= FAILURES_PER_MINUTE


def _failed(request: HttpRequest) -> HttpResponse:
    ratelimit.hit(f"payments.notify_fail:{ratelimit.client_address(request)}",
                  limit=FAILURES_PER_MINUTE)
    return HttpResponse("fail", status=400, content_type="text/plain")


@public_router.get("/orders/{notice_no}", auth=None,
                   response={200: OrderOut, 400: Message, 404: Message, 429: Message},
                   summary="An order by its notice number, before paying it")
def order(request: HttpRequest, notice_no: str) -> Any:
    if ratelimit.exceeded("payments.lookup", request, per_minute=LOOKUPS_PER_MINUTE):
        return Status(429, {"detail": gettext("查询过于频繁，请一分钟后再试")})
    try:
        number = payments.validate_notice_number(notice_no)
        found = payments.get_order(notice_no=number)
    except ValidationError as exc:
        return Status(400, {"detail": " ".join(exc.messages)})
    except payments.Order.DoesNotExist:
        return Status(404, {"detail": gettext("没有这个缴款码的缴款单，请核对缴款通知书")})
    department = orgs.get_department(found.department_code)
    return OrderOut(notice_no=found.notice_no, title=found.title, amount_fen=found.amount_fen,
                    state=found.state, payable=payments.payable(found),
                    payer=mask_name(found.payer_name),
                    department=department.name if department else found.department_code,
                    expires_at=found.expires_at, paid_at=found.paid_at)
