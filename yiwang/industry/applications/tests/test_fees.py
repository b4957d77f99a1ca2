"""An application with a fee: submitting it opens an order in unified payment, the
applicant pays it with its notice number, and the application records that it was paid."""

from __future__ import annotations

from typing import Any

import pytest

from yiwang.industry.applications import service as applications
from yiwang.industry.applications.tests.conftest import MATTER, publish_matter, submitted
from yiwang.industry.services import service as catalogue
from yiwang.support.payments import service as payments
from yiwang.support.payments.testing import run_jobs

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_fee(city: Any, settings: Any) -> Any:
    settings.YIWANG_PAY_LOCAL_DELAY_SECONDS = 0
    settings.YIWANG_PAY_LOCAL_DUPLICATE_RATE = 0
    publish_matter()
    draft = catalogue.create_draft(catalogue.get_matter(MATTER))
    catalogue.save_draft(draft, fee_table={"hit_policy": "FIRST", "rows": [
        {"when": True, "item": "工本费", "amount_fen": 2550}]})
    catalogue.publish_version(draft)
    return catalogue.published_version(MATTER)


def test_the_fee_is_paid_through_unified_payment(with_fee: Any, citizen: Any,
                                                public_client: Any) -> None:
    from yiwang.support.identity.testing import sign_in_client

    app = submitted(citizen)
    sign_in_client(public_client, citizen)
    page = public_client.get(f"/applications/{app.pk}/").content.decode()
    assert f'href="/pay/{app.fee_notice_no}/"' in page and "¥25.50" in page
    assert "2550" not in page  # yuan for the public, not a figure in fen
    assert app.fee_fen == 2550 and app.fee_notice_no
    order = payments.get_order(notice_no=app.fee_notice_no)
    assert (order.amount_fen, order.source, order.source_ref, order.payer) == (
        2550, "applications", app.number, citizen)
    assert payments.validate_notice_number(app.fee_notice_no) == app.fee_notice_no
    events = applications.timeline(app, public_only=True)
    assert any(e.kind == "fee_order" and order.notice_no[:4] in e.note for e in events)
    url = payments.start_online_payment(order, "local")
    payments.confirm_local_payment(url.strip("/").split("/")[-1], rng=lambda: 0.9)
    run_jobs()
    app.refresh_from_db()
    assert app.fee_paid_at is not None
    assert 'data-testid="pay-fee"' not in public_client.get(
        f"/applications/{app.pk}/").content.decode()
    assert list(app.events.filter(kind="fee_paid").values_list("kind", flat=True)) == [
        "fee_paid"]
    # told twice (a replayed notification cannot apply again; the handler is idempotent too)
    from yiwang.industry.applications import lifecycle

    lifecycle.fee_paid(payments.get_order(notice_no=app.fee_notice_no))
    assert app.events.filter(kind="fee_paid").count() == 1


def test_an_application_without_a_fee_opens_no_order(version: Any, citizen: Any) -> None:
    app = submitted(citizen)
    assert app.fee_fen == 0 and not app.fee_notice_no
    assert not payments.Order.objects.exists()


def test_a_withdrawn_application_leaves_nothing_to_pay(with_fee: Any, citizen: Any) -> None:
    app = submitted(citizen)
    applications.withdraw_application(citizen, app, reason="不办了")
    order = payments.get_order(notice_no=app.fee_notice_no)
    assert order.state == "closed" and not payments.payable(order)
