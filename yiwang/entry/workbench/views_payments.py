"""统一支付 in the workbench, for the collectors of a department (``payments.collect_payment``):
its orders (filters, pagination; payers masked), an order's detail with the counter payment
(cash, card, scan), refunds and the return of payments a channel settled but the platform did
not apply; and, for the finance bureau (``payments.reconcile_payments``: the reports cover
every department), the daily reconciliations with the channel's statement file and their
discrepancy reports.

An order of another department is a 404. Writes carry the version the page showed: when
someone else acted first, the action is refused with a plain message.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from yiwang.core.audit import service as audit
from yiwang.core.masking.service import mask_name
from yiwang.entry.workbench.access import permission_required
from yiwang.entry.workbench.views import expected_version, page_query, render_page
from yiwang.platform.orgs import service as orgs
from yiwang.support.payments import service as payments

PER_PAGE = 25
COLLECT = "payments.collect_payment"
STATEMENT_BYTES = 20 * 1024 * 1024
MAX_YUAN = Decimal(10**9)
RECONCILE = "payments.reconcile_payments"


def _scope(user: Any) -> list[str] | None:
    return None if user.is_superuser else orgs.unit_codes_of(user)


def _order(request: HttpRequest, order_no: str) -> Any:
    scope = _scope(request.user)
    found = payments.list_orders(department_codes=scope).filter(order_no=order_no[:32]).first()
    if found is None:
        raise Http404("no such order for this official")
    return found


@require_safe
@never_cache
@permission_required(COLLECT)
def orders(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    if state not in payments.OrderState.values:
        state = ""
    q = request.GET.get("q", "").strip()[:32]
    rows = payments.list_orders(department_codes=_scope(request.user), state=state, q=q)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render_page(request, "workbench/payments_orders.html", "payments", {
        "page": page, "state": state, "q": q, "states": payments.OrderState.choices,
        "query": page_query(request),
        "rows": [{"order": o, "payer": mask_name(o.payer_name),
                  "yuan": f"{o.amount_fen / 100:,.2f}"} for o in page.object_list]})


@require_safe
@never_cache
@permission_required(COLLECT)
def order(request: HttpRequest, order_no: str) -> HttpResponse:
    found = _order(request, order_no)
    audit.record_personal_read(found, ["payer_name"], purpose="payments.order",
                               actor=request.user)
    return render_page(request, "workbench/payments_order.html", "payments", {
        "order": found, "grouped": payments.grouped(found.notice_no),
        "yuan": f"{found.amount_fen / 100:,.2f}", "payable": payments.payable(found),
        "refundable": f"{found.refundable_fen / 100:.2f}",
        "refunds": found.refunds.order_by("-created_at"),
        "notifications": payments.Notification.objects.filter(
            order_no=found.order_no).order_by("-received_at")[:20],
        "returned": set(found.refunds.exclude(returns_txn="").values_list("returns_txn",
                                                                           flat=True)),
        "awaiting": payments.awaiting_notification(found)})


def _fen(raw: str) -> int:
    try:
        value = Decimal(raw.strip())
    except (InvalidOperation, AttributeError):
        raise ValidationError(_("金额须为数字，如 12.50")) from None
    if not value.is_finite() or not 0 < value <= MAX_YUAN:
        raise ValidationError(_("金额须大于 0 且不超过十亿元"))
    if value != value.quantize(Decimal("0.01")):
        raise ValidationError(_("金额最多两位小数"))
    return int(value * 100)


@require_POST
@permission_required(COLLECT)
def order_act(request: HttpRequest, order_no: str, action: str) -> HttpResponse:
    found = _order(request, order_no)
    try:
        if action == "counter":
            payments.pay_at_counter(found.order_no, request.user,
                                    method=request.POST.get("method", ""),
                                    expected_version=expected_version(request))
            messages.success(request, _("已收款，电子票据稍后开具。"))
        elif action == "refund":
            refund = payments.refund_order(found.order_no, request.user,
                                           amount_fen=_fen(request.POST.get("amount", "")),
                                           reason=request.POST.get("reason", "")[:200],
                                           expected_version=expected_version(request))
            messages.success(request, _("已提交退款 %(no)s。") % {"no": refund.refund_no})
        elif action == "return":
            try:
                note_id = int(request.POST.get("notification", ""))
            except ValueError:
                raise Http404("no such notification") from None
            refund = payments.return_unapplied(note_id, request.user,
                                               reason=request.POST.get("reason", "")[:200])
            if refund.order_id != found.pk:
                raise Http404("not this order's")
            messages.success(request, _("已提交退还 %(no)s。") % {"no": refund.refund_no})
        else:
            raise Http404("no such action")
    except payments.Conflict as exc:
        messages.error(request, str(exc))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("workbench:payments_order", order_no=found.order_no)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@permission_required(RECONCILE)
def reconciliations(request: HttpRequest) -> HttpResponse:
    """Run a reconciliation (a statement file uploaded, or the simulated bank's own) and
    list the past ones."""
    yesterday = timezone.localdate() - timedelta(days=1)
    if request.method == "POST":
        try:
            day = date.fromisoformat(request.POST.get("day", ""))
        except ValueError:
            messages.error(request, _("请填写对账日期"))
            return redirect("workbench:payments_reconciliations")
        channel = request.POST.get("channel", "local")
        upload = request.FILES.get("statement")
        try:
            if upload is not None:
                if upload.size and upload.size > STATEMENT_BYTES:
                    raise ValidationError(_("对账单不能超过 20 MB"))
                report = payments.reconcile(channel, day, upload.read(), actor=request.user)
            elif channel == "local":
                report = payments.reconcile_local(day, actor=request.user)
            else:
                raise ValidationError(_("请上传该渠道的对账单文件"))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("workbench:payments_reconciliations")
        return redirect("workbench:payments_reconciliation", pk=report.pk)
    rows = payments.Reconciliation.objects.order_by("-day", "-created_at")
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render_page(request, "workbench/payments_reconciliations.html", "payments", {
        "page": page, "yesterday": yesterday.isoformat(), "query": "",
        "channels": payments.online_channels()})


@require_safe
@never_cache
@permission_required(RECONCILE)
def reconciliation(request: HttpRequest, pk: int) -> HttpResponse:
    report = payments.Reconciliation.objects.filter(pk=pk).first()
    if report is None:
        raise Http404("no such reconciliation")
    return render_page(request, "workbench/payments_reconciliation.html", "payments",
                       {"report": report})
