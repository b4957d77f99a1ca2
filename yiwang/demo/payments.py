"""Demo unified payment (统一支付) of 示例市: the finance bureau (财政局, ``czj``) with its
receipt seal and a standing authorisation for ``receipt:fiscal``, the fee items of the
demo's services, the collectors (收款员: the service centre's window staff, a clerk of each
collecting bureau and the finance bureau's cashier, who also reconciles: 非税对账员), and a
few orders of the first demo citizen — one paid at the counter, one paid
through the simulated bank (its notification handled, its receipt issued), one still to pay
— so that the portal's 网上缴费 and the workbench's 统一支付 have something to show.

Idempotent: nothing is added twice (the orders are recognised by their source reference).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from contextlib import suppress
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from yiwang.core.identifiers.service import generate_credit_code
from yiwang.demo import geography, population
from yiwang.platform.orgs import service as orgs
from yiwang.support.identity import service as identity
from yiwang.support.payments import service as payments
from yiwang.support.seals import service as seals

Progress = Callable[[str, int], Callable[[int], None]]

FINANCE = ("czj", "财政局", "Finance Bureau")
COLLECTORS = "收款员"
RECONCILERS = "非税对账员"
FEE_ITEMS = [
    # code, name, department, legal basis, standard (fen)
    ("scjg.archive_copy", "企业登记档案查询复印费", "scjg",
     "《行政事业性收费项目目录》（示例）", 2000),
    ("bdc.registration", "不动产登记费", "bdc",
     "《关于不动产登记收费标准等有关问题的通知》（示例）", 8000),
    ("gaj.id_card", "居民身份证工本费", "gaj", "《居民身份证工本费收费标准》（示例）", 2000),
    ("cgj.fine", "城市管理罚没款", "cgj", "《城市市容和环境卫生管理条例》（示例）", None),
]
DEMO_ORDERS = [
    # source reference, fee item, amount (fen), how it is paid
    ("demo-1", "scjg.archive_copy", 2000, "counter"),
    ("demo-2", "bdc.registration", 8000, "bank"),
    ("demo-3", "gaj.id_card", 2000, ""),
]


def _rng() -> random.Random:
    return random.Random(f"{geography.SEED}:payments")


def _official(username: str, department: str, position: str) -> Any:
    users = get_user_model().objects
    found = users.filter(username=username).first()
    if found is not None:
        return found
    from django.contrib.auth.hashers import make_password

    from yiwang.demo.loader import demo_password, official_phone

    user = identity.create_official(username, population.person_name(_rng()),
                                    password_hash=make_password(demo_password()),
                                    phone=official_phone(4990 + len(username) % 9))
    orgs.add_member(user, department_code=department, position_code=position, primary=True)
    return users.get(pk=user.pk)


def _finance_bureau() -> tuple[Any, Any]:
    code, name, name_en = FINANCE
    if orgs.get_department(code) is None:
        orgs.create_department(code, name, name_en=name_en, region_code=geography.CITY[0],
                               credit_code=generate_credit_code(
                                   geography.CITY[0][:6], authority="1", org_type="1",
                                   rng=_rng()))
    for position, title in (("head", "局长"), ("cashier", "收款员")):
        if not orgs.positions_of(code).filter(code=position).exists():
            orgs.create_position(code, code=position, name=title)
    return _official("czj.head1", code, "head"), _official("czj.cashier1", code, "cashier")


def _receipt_seal(custodian: Any) -> None:
    if seals.standing_seal_for(FINANCE[0], ["receipt:fiscal"]) is not None:
        return
    name = "示例市财政局票据专用章"
    seal = seals.seals_of(FINANCE[0]).filter(name=name, status=seals.SealStatus.ACTIVE).first()
    if seal is None:
        seal = seals.create_seal(department_code=FINANCE[0], name=name,
                                 kind=seals.SealKind.FINANCE, custodians=[custodian],
                                 actor=None)
    until = min(timezone.now() + timedelta(days=365), seal.valid_until - timedelta(minutes=1))
    seals.grant_standing_authorisation(seal, custodian=custodian, purpose="receipt:fiscal",
                                       standing_until=until, actor=None)


def _collectors(cashier: Any) -> list[Any]:
    group, _created = Group.objects.get_or_create(name=COLLECTORS)
    group.permissions.add(Permission.objects.get(content_type__app_label="payments",
                                                 codename="collect_payment"))
    people = [cashier] + [m.user for m in orgs.members_of("zwfw")
                          if m.position is not None and m.position.code == "window"]
    for code in ("scjg", "bdc", "gaj", "cgj"):  # one collector in each collecting bureau
        for membership in orgs.members_of(code):
            if membership.position is not None and membership.position.code == "clerk":
                people.append(membership.user)
                break
    group.user_set.add(*people)
    reconcilers, _created = Group.objects.get_or_create(name=RECONCILERS)
    reconcilers.permissions.add(Permission.objects.get(content_type__app_label="payments",
                                                       codename="reconcile_payments"))
    reconcilers.user_set.add(cashier)
    return people


def load_payments(progress: Progress) -> dict[str, int]:
    """The finance bureau, its receipt seal, fee items, collectors and demo orders."""
    tick = progress("统一支付 payments", 4)
    head, cashier = _finance_bureau()
    _receipt_seal(head)
    tick(1)
    for code, name, department, basis, standard in FEE_ITEMS:
        if orgs.get_department(department) is not None:
            payments.save_fee_item(code, name, department_code=department, legal_basis=basis,
                                   standard_fen=standard)
    tick(1)
    collectors = _collectors(cashier)
    tick(1)
    made = 0
    payer = get_user_model().objects.filter(username="citizen1").first()
    if payer is not None:
        for ref, item, amount, how in DEMO_ORDERS:
            if payments.Order.objects.filter(source="demo", source_ref=ref).exists():
                continue
            fee = payments.FeeItem.objects.filter(code=item).first()
            if fee is None:
                continue
            order = payments.create_order(
                title=fee.name, amount_fen=amount, department_code=fee.department_code,
                region_code=geography.CITY[0], source="demo", source_ref=ref, payer=payer,
                item_code=item)
            if how == "counter":
                payments.pay_at_counter(order.order_no, cashier, method="cash")
            elif how == "bank":
                url = payments.start_online_payment(order, "local")
                txn = payments.confirm_local_payment(url.strip("/").split("/")[-1],
                                                     rng=lambda: 0.99)
                payments.receive_notification("local",
                                              *payments.local_bank().notification(txn))
            if how:
                # no seal yet: the receipt job issues it once one is authorised
                with suppress(payments.ReceiptNotReady):
                    payments.issue_receipt(order.order_no)
            made += 1
    tick(1)
    return {"collectors": len(collectors), "orders": made}
