"""Fiscal e-receipts (财政电子票据) of settled payments: a one-page PDF — receipt code and
number, payer, item, amount in figures and in words (大写), collecting unit, channel and
transaction, date, and a check code — sealed by the finance bureau's seal
(``YIWANG_PAY_RECEIPT_DEPARTMENT``) under a standing authorisation for ``receipt:fiscal``,
stored encrypted for the payer and noted on the ledger with the PDF's hash.
"""

from __future__ import annotations

import hashlib
import io
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import service as audit
from yiwang.core.uploads import service as uploads
from yiwang.enablement.ledger import service as ledger
from yiwang.platform.orgs import service as orgs
from yiwang.support.payments.models import Order, OrderSequence
from yiwang.support.seals import service as seals

PURPOSE = "receipt:fiscal"
RECEIPT_CODE = "35010125"  # 票据代码: region, kind (非税收入统一票据), year — see docs
FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
DIGITS = "零壹贰叁肆伍陆柒捌玖"
UNITS = ["", "拾", "佰", "仟"]
GROUPS = ["", "万", "亿", "万亿"]


class ReceiptNotReady(Exception):
    """The finance bureau has no seal with a standing authorisation for receipts yet."""


def amount_in_words(fen: int) -> str:
    """人民币大写 as written on receipts: 12345 fen → 壹佰贰拾叁元肆角伍分, 10000 → 壹佰元整,
    10005 → 壹佰元零伍分, 100001000 → 壹佰万零壹拾元整."""
    if fen < 0:
        raise ValueError("negative amount")
    yuan, rest = divmod(fen, 100)
    jiao, cents = divmod(rest, 10)
    words = ""
    if yuan:
        digits = str(yuan)
        zero = False
        for index, char in enumerate(digits):
            position = len(digits) - 1 - index  # from the right: 0 is the units
            if char == "0":
                zero = True
            else:
                if zero:
                    words += "零"
                    zero = False
                words += DIGITS[int(char)] + UNITS[position % 4]
            if position % 4 == 0 and position and int(digits[max(0, index - 3):index + 1]):
                words += GROUPS[position // 4]  # 万, 亿 after a group that is not all zeros
        words += "元"
    if jiao:
        words += DIGITS[jiao] + "角"
    elif cents and words:
        words += "零"
    if cents:
        words += DIGITS[cents] + "分"
    else:
        words = (words or "零元") + "整"
    return words


def _next_receipt_no(now: datetime) -> str:
    key = f"receipt:{timezone.localtime(now).year % 100:02d}"
    if not OrderSequence.objects.filter(key=key).update(last=F("last") + 1):
        OrderSequence.objects.get_or_create(key=key, defaults={"last": 0})
        OrderSequence.objects.filter(key=key).update(last=F("last") + 1)
    return f"{OrderSequence.objects.get(key=key).last:010d}"


def check_code(order: Order, receipt_no: str) -> str:
    """校验码: six characters only the platform can compute (a keyed hash of the receipt's
    code, number, notice number and amount), so a printed receipt can be checked with it."""
    import hmac

    key = hashlib.sha256(f"yiwang/receipt-check/{settings.SECRET_KEY}".encode()).digest()
    text = f"{RECEIPT_CODE}|{receipt_no}|{order.notice_no}|{order.amount_fen}"
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:6].upper()


def render_receipt(order: Order, receipt_no: str, issued: datetime) -> bytes:
    """The receipt as an A5 landscape PDF (unsealed)."""
    from reportlab.lib.colors import HexColor
    from reportlab.lib.pagesizes import A5, landscape
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen.canvas import Canvas

    if "WQY" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("WQY", FONT_PATH, subfontIndex=0))
    width, height = landscape(A5)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(width, height), invariant=True, pageCompression=1)
    canvas.setTitle(_("非税收入统一票据"))
    red = HexColor("#9b1c1c")
    canvas.setFillColor(red)
    canvas.setFont("WQY", 18)
    canvas.drawCentredString(width / 2, height - 48, "非税收入统一票据（电子）")
    canvas.setFont("WQY", 9)
    canvas.setFillColor(HexColor("#000000"))
    department = orgs.get_department(order.department_code)
    local = timezone.localtime(issued)
    rows = [
        ("票据代码", RECEIPT_CODE), ("票据号码", receipt_no),
        ("交款人", order.payer_name), ("缴款码", order.notice_no),
        ("开票日期", local.strftime("%Y-%m-%d")), ("校验码", check_code(order, receipt_no)),
    ]
    y = height - 78
    for index, (label, value) in enumerate(rows):
        x = 40 if index % 2 == 0 else width / 2 + 10
        canvas.drawString(x, y, f"{label}：{value}")
        if index % 2:
            y -= 16
    y -= 6
    canvas.setStrokeColor(red)
    canvas.rect(36, y - 92, width - 72, 100)
    canvas.setFont("WQY", 10)
    canvas.drawString(44, y - 12, "项目名称")
    canvas.drawString(width - 160, y - 12, "金额（元）")
    canvas.drawString(44, y - 32, order.title[:40])
    canvas.drawRightString(width - 50, y - 32, f"{order.amount_fen / 100:,.2f}")
    canvas.drawString(44, y - 60, f"金额合计（大写）：{amount_in_words(order.amount_fen)}")
    canvas.drawRightString(width - 50, y - 60, f"（小写）¥{order.amount_fen / 100:,.2f}")
    canvas.setFont("WQY", 9)
    canvas.drawString(44, y - 82, f"缴款方式：{order.channel}  交易流水：{order.channel_txn}")
    unit = department.name if department else order.department_code
    canvas.drawString(40, 40, f"执收单位：{unit}")
    canvas.drawString(40, 26, "本票据由财政部门监制，可凭票据代码、号码和校验码查验真伪。")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def issue_receipt(order_no: str) -> str:
    """Issue the receipt of a paid order (idempotent: an order has one); its number."""
    order = Order.objects.get(order_no=order_no)
    if order.receipt_no:
        return order.receipt_no
    if order.paid_at is None:
        raise ValidationError(_("未缴款的缴款单不能开具票据"), code="not_paid")
    found = seals.standing_seal_for(settings.YIWANG_PAY_RECEIPT_DEPARTMENT, [PURPOSE])
    if found is None:
        raise ReceiptNotReady(_("财政部门尚无可用于电子票据的印章授权（用途 %(p)s）")
                              % {"p": PURPOSE})
    seal, authorisation = found
    with transaction.atomic():
        order = Order.objects.select_for_update().get(order_no=order_no)
        if order.receipt_no:
            return order.receipt_no
        now = timezone.now()
        receipt_no = _next_receipt_no(now)
        pdf = seals.seal_pdf(render_receipt(order, receipt_no, now), seal=seal,
                             authorisation=authorisation, level="B-T", purpose=PURPOSE,
                             reason=_("非税收入统一票据"))
        owner = f"user:{order.payer_id}" if order.payer_id else f"order:{order.order_no}"
        stored = uploads.accept_upload(pdf, filename=f"receipt-{receipt_no}.pdf",
                                       owner_key=owner, purpose="payments.receipt",
                                       accept=("application/pdf",), personal=True)
        uploads.claim_upload(stored, owner)
        order.receipt_no, order.receipt_token, order.receipt_at = (receipt_no, stored.token,
                                                                    now)
        order.save(update_fields=["receipt_no", "receipt_token", "receipt_at"])
        ledger.append("payment.receipt", {
            "order_no": order.order_no, "receipt_code": RECEIPT_CODE,
            "receipt_no": receipt_no, "pdf_sha256": hashlib.sha256(pdf).hexdigest()})
        audit.record("payments.receipt_issued", order, detail={"receipt_no": receipt_no})
    return receipt_no
