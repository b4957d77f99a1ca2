"""Test helpers other apps' tests may use: a city with a collecting department (the
market-regulation bureau ``scjg``) and the finance bureau (``czj``) whose receipt seal has a
standing authorisation, a collector, a citizen, and an order."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from yiwang.platform.orgs import service as orgs
from yiwang.platform.regions.testing import CITY, make_chain
from yiwang.support.identity import service as identity
from yiwang.support.payments import service

COLLECTOR_PASSWORD = "collector-password-1"  # noqa: S105 - test accounts only


def make_payments(*, with_seal: bool = True, settings: Any = None) -> dict[str, Any]:
    """The city, departments, people and fee item above; with pytest-django's ``settings``,
    also a simulated bank that notifies at once and once, and empty rate-limit budgets."""
    if settings is not None:
        from django.core.cache import cache

        cache.clear()
        settings.YIWANG_PAY_LOCAL_DELAY_SECONDS = 0
        settings.YIWANG_PAY_LOCAL_DUPLICATE_RATE = 0
    make_chain(geometry=False)
    orgs.create_department("scjg", "示例市市场监督管理局", region_code=CITY)
    orgs.create_department("czj", "示例市财政局", region_code=CITY)
    collector = identity.create_official("scjg.cashier", "收款员", password=COLLECTOR_PASSWORD)
    orgs.add_member(collector, "scjg")
    collector.user_permissions.add(Permission.objects.get(content_type__app_label="payments",
                                                          codename="collect_payment"))
    clerk = identity.create_official("scjg.clerk", "办事员", password=COLLECTOR_PASSWORD)
    orgs.add_member(clerk, "scjg")
    citizen = get_user_model().objects.create_user(username="payer", password="p" * 20)
    citizen.display_name = "张三"
    citizen.save()
    if with_seal:
        give_receipt_seal()
    service.save_fee_item("scjg.copy", "企业档案查询复印费", department_code="scjg",
                          legal_basis="《行政事业性收费项目目录》", standard_fen=2000)
    return {"collector": get_user_model().objects.get(pk=collector.pk),
            "clerk": get_user_model().objects.get(pk=clerk.pk), "citizen": citizen}


def give_receipt_seal() -> None:
    from yiwang.support.seals import service as seals

    custodian = identity.create_official("czj.custodian", "财政印章保管员",
                                         password=COLLECTOR_PASSWORD)
    orgs.add_member(custodian, "czj")
    seal = seals.create_seal(department_code="czj", name="示例市财政局票据专用章",
                             kind="finance", custodians=[custodian], actor=custodian)
    seals.grant_standing_authorisation(seal, custodian=custodian, purpose="receipt:fiscal",
                                       standing_until=timezone.now() + timedelta(days=30))


def order_for(payer: Any, amount_fen: int = 2000, **extra: Any) -> Any:
    extra.setdefault("item_code", "scjg.copy")
    return service.create_order(title="企业档案查询复印费", amount_fen=amount_fen,
                                department_code="scjg", region_code=CITY, source="test",
                                payer=payer, **extra)


def run_jobs() -> int:
    """Run the due background jobs here (the simulated bank's notifications, receipts)."""
    from yiwang.core.tasks.service import run_pending

    total = 0
    while True:
        ran = run_pending(isolated=False)
        total += ran
        if not ran:
            return total
