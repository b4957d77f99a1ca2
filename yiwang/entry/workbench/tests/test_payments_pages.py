"""The collectors' payment pages: a department's orders (payers masked), a counter payment,
a refund that cannot exceed the payment, a reconciliation with its report; another
department's orders are not there."""

from __future__ import annotations

import re
from typing import Any

import pytest

from yiwang.core.audit import service as audit
from yiwang.industry.city.testing import official
from yiwang.support.identity.testing import sign_in_client
from yiwang.support.payments import service as payments
from yiwang.support.payments.testing import make_payments, order_for, run_jobs

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(settings: Any) -> dict[str, Any]:
    return make_payments(settings=settings)


def _text(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_a_collector_takes_a_payment_and_refunds_part_of_it(internal_client: Any,
                                                            people: Any) -> None:
    order = order_for(people["citizen"], amount_fen=5000)
    sign_in_client(internal_client, people["collector"])
    listing = _text(internal_client.get("/payments/"))
    assert order.notice_no in listing and "张*" in listing and "张三" not in listing
    detail = _text(internal_client.get(f"/payments/{order.order_no}/"))
    assert "张三" in detail and 'data-testid="counter-form"' in detail
    assert audit.search(audit.AuditFilter(action="personal_data.read")).exists()
    stale = internal_client.post(f"/payments/{order.order_no}/counter/",
                                 {"method": "cash", "expected_version": order.row_version + 5},
                                 follow=True)
    assert "已被他人处理" in stale.content.decode()
    paid = internal_client.post(f"/payments/{order.order_no}/counter/",
                                {"method": "card", "expected_version": order.row_version},
                                follow=True)
    assert 'data-state="paid"' in paid.content.decode()
    order.refresh_from_db()
    too_much = internal_client.post(f"/payments/{order.order_no}/refund/", {
        "amount": "60.00", "reason": "多收", "expected_version": order.row_version},
        follow=True)
    assert "超过可退金额" in too_much.content.decode()
    refunded = internal_client.post(f"/payments/{order.order_no}/refund/", {
        "amount": "12.50", "reason": "多收", "expected_version": order.row_version},
        follow=True)
    page = refunded.content.decode()
    assert "已提交退款" in page and 'data-state="partially_refunded"' in page
    order.refresh_from_db()
    assert order.refunded_fen == 1250
    bad = internal_client.post(f"/payments/{order.order_no}/refund/", {
        "amount": "1.234", "reason": "x", "expected_version": order.row_version}, follow=True)
    assert "两位小数" in bad.content.decode()
    for amount in ("Infinity", "1e100", "NaN", "-1"):
        odd = internal_client.post(f"/payments/{order.order_no}/refund/", {
            "amount": amount, "reason": "x", "expected_version": order.row_version},
            follow=True)
        assert odd.status_code == 200 and "十亿元" in odd.content.decode(), amount


def test_other_departments_and_officials_without_the_right_see_nothing(
        internal_client: Any, people: Any) -> None:
    order = order_for(people["citizen"])
    sign_in_client(internal_client, people["clerk"])  # scjg, no collect_payment
    assert internal_client.get("/payments/").status_code == 403
    outsider = official("czj.cashier", "czj", "payments.collect_payment")
    sign_in_client(internal_client, outsider)
    assert order.notice_no not in _text(internal_client.get("/payments/"))
    assert internal_client.get(f"/payments/{order.order_no}/").status_code == 404
    assert internal_client.post(f"/payments/{order.order_no}/counter/",
                                {"method": "cash"}).status_code == 404
    order.refresh_from_db()
    assert order.state == "unpaid"


def test_a_reconciliation_from_the_page(internal_client: Any, people: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    orders = [order_for(people["citizen"], amount_fen=1000 + k) for k in range(2)]
    for order in orders:
        url = payments.start_online_payment(order, "local")
        payments.confirm_local_payment(url.strip("/").split("/")[-1], rng=lambda: 0.9)
    run_jobs()
    sign_in_client(internal_client, people["collector"])  # collects; does not reconcile
    assert internal_client.get("/payments/reconciliations/").status_code == 403
    finance = official("czj.accountant", "czj", "payments.reconcile_payments")
    sign_in_client(internal_client, finance)
    today = timezone.localdate().isoformat()
    counter = internal_client.post("/payments/reconciliations/", {
        "day": today, "channel": "counter", "statement": SimpleUploadedFile(
            "s.csv", b"x", content_type="text/csv")}, follow=True)
    assert counter.status_code == 200 and "没有对账单" in counter.content.decode()
    clean = internal_client.post("/payments/reconciliations/", {"day": today,
                                                                "channel": "local"})
    assert clean.status_code == 302
    report = _text(internal_client.get(clean["Location"]))
    assert 'data-testid="matched">2<' in report and "账目相符" in report
    statement = payments.local_statement(timezone.localdate()).decode().replace(
        ",1001,", ",1101,")
    upload = SimpleUploadedFile("statement.csv", (statement + "broken line\n").encode(),
                                content_type="text/csv")
    found = internal_client.post("/payments/reconciliations/", {
        "day": today, "channel": "local", "statement": upload})
    report = _text(internal_client.get(found["Location"]))
    assert 'data-kind="amount"' in report and re.search(r"第 \d+ 行", report)
    listing = _text(internal_client.get("/payments/reconciliations/"))
    assert listing.count("/payments/reconciliations/") >= 2
