"""Portal pages of unified payment (网上缴费): look up an order by its notice number, pay it
through an online channel (with a QR code for paying on a phone), follow its state, and —
for the payer — download the fiscal e-receipt. Plus the simulated bank's cashier page (the
``local`` channel's; a real bank hosts its own).

Anyone holding a notice number may pay it (people pay for their relatives): the page shows
the payer's name masked unless the signed-in person is the payer. Look-ups are rate-limited
per address (notice numbers are sequential). The receipt is the payer's only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from yiwang.core import ratelimit
from yiwang.core.masking.service import mask_name
from yiwang.core.uploads import service as uploads
from yiwang.platform.orgs import service as orgs
from yiwang.support.payments import service

LOOKUPS_PER_MINUTE = 30


def _crumbs(*extra: tuple[str, str]) -> list[dict[str, str]]:
    return [{"name": _("首页"), "href": reverse("portal:home")},
            {"name": _("网上缴费"), "href": reverse("payments_portal:lookup")},
            *({"name": name, "href": href} for name, href in extra)]


@require_safe
@never_cache
def lookup(request: HttpRequest) -> HttpResponse:
    """Enter a notice number (as printed, spaces allowed)."""
    raw = request.GET.get("notice", "").strip()[:40]
    error = ""
    if raw:
        try:
            number = service.validate_notice_number(raw)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            return redirect("payments_portal:order", notice_no=number)
    mine = []
    if request.user.is_authenticated:
        mine = [{"order": o, "grouped": service.grouped(o.notice_no),
                 "yuan": f"{o.amount_fen / 100:,.2f}", "payable": service.payable(o)}
                for o in service.list_orders(payer=request.user)[:50]]
    return render(request, "payments/lookup.html", {
        "notice": raw, "error": error, "mine": mine, "crumbs": _crumbs(), "nav": "payments"},
        status=400 if error else 200)


def _order(request: HttpRequest, notice_no: str) -> Any:
    if ratelimit.exceeded("payments.lookup", request, per_minute=LOOKUPS_PER_MINUTE):
        raise Http404("too many look-ups")
    try:
        return service.get_order(notice_no=service.validate_notice_number(notice_no))
    except (ValidationError, service.Order.DoesNotExist):
        raise Http404("no such order") from None


def _is_payer(request: HttpRequest, order: Any) -> bool:
    return bool(request.user.is_authenticated and order.payer_id == request.user.pk)


@require_safe
@never_cache
def order(request: HttpRequest, notice_no: str) -> HttpResponse:
    """The order: what, how much, until when, its state; the channels to pay with."""
    found = _order(request, notice_no)
    mine = _is_payer(request, found)
    department = orgs.get_department(found.department_code)
    return render(request, "payments/order.html", {
        "order": found, "grouped": service.grouped(found.notice_no),
        "payer": found.payer_name if mine else mask_name(found.payer_name), "mine": mine,
        "yuan": f"{found.amount_fen / 100:,.2f}",
        "in_words": service.amount_in_words(found.amount_fen),
        "department": department.name if department else found.department_code,
        "payable": service.payable(found), "channels": service.online_channels(),
        "waiting": service.awaiting_notification(found),
        "crumbs": _crumbs((service.grouped(found.notice_no), "")), "nav": "payments"})


@require_POST
def start(request: HttpRequest, notice_no: str) -> HttpResponse:
    """Go to the chosen channel's cashier page."""
    found = _order(request, notice_no)
    try:
        url = service.start_online_payment(found, request.POST.get("channel", "")[:16])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("payments_portal:order", notice_no=found.notice_no)
    return redirect(url)


@require_safe
def receipt(request: HttpRequest, notice_no: str) -> HttpResponse:
    """The payer's sealed e-receipt (PDF)."""
    found = _order(request, notice_no)
    if not _is_payer(request, found) or not found.receipt_token:
        raise Http404("no receipt for this visitor")
    content = uploads.read_upload(found.receipt_token, actor=request.user,
                                  purpose="payments.receipt")
    return uploads.file_response(content, "application/pdf", f"receipt-{found.receipt_no}.pdf")


# --- the simulated bank's cashier (a real bank hosts its own) ---------------------------------

def _txn(txn_id: str) -> Any:
    txn = service.local_bank().cashier_txn(txn_id)
    if txn is None:
        raise Http404("no such bank transaction")
    return txn


def _qr_svg(text: str) -> str:
    import io

    import segno

    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", scale=4, xmldecl=False,
                                     svgns=True, title=_("手机扫码支付"))
    return buffer.getvalue().decode()


@require_safe
@never_cache
def bank(request: HttpRequest, txn_id: str) -> HttpResponse:
    txn = _txn(txn_id)
    found = service.get_order(order_no=txn.order_no)
    return render(request, "payments/bank.html", {
        "txn": txn, "order": found, "yuan": f"{txn.amount_fen / 100:,.2f}",
        "qr": _qr_svg(request.build_absolute_uri()),
        "back": reverse("payments_portal:order", args=[found.notice_no])})


@require_POST
def bank_confirm(request: HttpRequest, txn_id: str) -> HttpResponse:
    txn = _txn(txn_id)
    txn = service.confirm_local_payment(txn.txn_id)
    found = service.get_order(order_no=txn.order_no)
    if txn.state == "succeeded":
        messages.success(request, _("银行已扣款，正在通知执收单位；缴款状态稍后更新。"))
    else:
        messages.error(request, _("银行未能扣款：%(why)s") % {"why": txn.failure})
    return redirect("payments_portal:order", notice_no=found.notice_no)
