"""Paying on the portal as a payer does: look the order up by its notice number, go to the
bank's cashier, confirm, wait for the bank's notification, download the receipt; and the
bank's notification endpoint as a channel calls it."""

from __future__ import annotations

import re
from typing import Any

import pytest

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


def test_a_payer_pays_on_the_portal_and_downloads_the_receipt(public_client: Any,
                                                              people: Any) -> None:
    order = order_for(people["citizen"], amount_fen=12345)
    printed = payments.grouped(order.notice_no)
    found = public_client.get("/pay/", {"notice": printed})
    assert found.status_code == 302 and found["Location"].endswith(f"/pay/{order.notice_no}/")
    page = _text(public_client.get(f"/pay/{order.notice_no}/"))
    assert "¥123.45" in page and "壹佰贰拾叁元肆角伍分" in page
    assert "张三" not in page and "张*" in page  # not signed in: masked
    going = public_client.post(f"/pay/{order.notice_no}/pay/", {"channel": "local"})
    assert going.status_code == 302 and "/pay/bank/local/" in going["Location"]
    cashier = _text(public_client.get(going["Location"]))
    assert "<svg" in cashier and "¥123.45" in cashier
    txn = re.search(r'data-testid="txn">(\w+)<', cashier).group(1)
    back = public_client.post(f"/pay/bank/local/{txn}/confirm/", follow=True)
    assert 'data-testid="waiting"' in back.content.decode()  # the bank has not told us yet
    run_jobs()
    sign_in_client(public_client, people["citizen"])
    paid = _text(public_client.get(f"/pay/{order.notice_no}/"))
    assert 'data-state="paid"' in paid and "张三" in paid
    receipt = public_client.get(f"/pay/{order.notice_no}/receipt.pdf")
    assert receipt.status_code == 200 and receipt["Content-Type"] == "application/pdf"
    body = b"".join(receipt.streaming_content) if receipt.streaming else receipt.content
    assert body.startswith(b"%PDF")


def test_only_the_payer_gets_the_receipt_and_bad_numbers_are_explained(
        public_client: Any, people: Any) -> None:
    order = order_for(people["citizen"])
    payments.pay_at_counter(order.order_no, people["collector"], method="cash")
    run_jobs()
    assert public_client.get(f"/pay/{order.notice_no}/receipt.pdf").status_code == 404
    sign_in_client(public_client, people["clerk"])
    assert public_client.get(f"/pay/{order.notice_no}/receipt.pdf").status_code == 404
    wrong = order.notice_no[:-1] + str((int(order.notice_no[-1]) + 1) % 10)
    answer = public_client.get("/pay/", {"notice": wrong})
    assert answer.status_code == 400 and "校验位不符" in answer.content.decode()
    assert public_client.get(f"/pay/{wrong}/").status_code == 404
    paid = _text(public_client.get(f"/pay/{order.notice_no}/"))
    assert 'data-testid="pay-form"' not in paid  # paid: nothing more to pay


def test_the_notification_endpoint_answers_like_a_gateway_expects(public_client: Any,
                                                                  people: Any) -> None:
    order = order_for(people["citizen"])
    url = payments.start_online_payment(order, "local")
    txn = payments.confirm_local_payment(url.strip("/").split("/")[-1], rng=lambda: 0.9)
    body, signature = payments.local_bank().notification(txn)

    def post(data: bytes, sig: str) -> Any:
        return public_client.post("/api/v1/payments/notify/local", data=data,
                                  content_type="application/json",
                                  HTTP_X_PAY_SIGNATURE=sig)

    for _n in range(3):
        answer = post(body, signature)
        assert answer.status_code == 200 and answer.content == b"success"
    order.refresh_from_db()
    assert order.state == "paid" and payments.Notification.objects.count() == 1
    forged = post(body.replace(b'"succeeded"', b'"failed"'), signature)
    assert forged.status_code == 400 and forged.content == b"fail"
    assert post(body, "").status_code == 400
    assert public_client.post("/api/v1/payments/notify/nobank", data=body,
                              content_type="application/json",
                              HTTP_X_PAY_SIGNATURE=signature).status_code == 400
    for _n in range(20):
        post(b"{}", "AAAA")
    assert post(body, signature).status_code == 429  # too many failures from this address
    looked = public_client.get(f"/api/v1/payments/orders/{order.notice_no}").json()
    assert looked["state"] == "paid" and looked["payer"] == "张*" and not looked["payable"]


def test_a_signed_in_payer_sees_their_orders(public_client: Any, people: Any) -> None:
    sign_in_client(public_client, people["citizen"])
    assert 'data-testid="no-orders"' in _text(public_client.get("/pay/"))
    paid, unpaid = order_for(people["citizen"]), order_for(people["citizen"])
    payments.pay_at_counter(paid.order_no, people["collector"], method="cash")
    order_for(people["clerk"])  # somebody else's
    page = _text(public_client.get("/pay/"))
    assert page.count('data-testid="my-order"') == 2
    assert f'/pay/{unpaid.notice_no}/' in page and 'data-state="paid"' in page
