"""Demo licences (电子证照) of 示例市: a few of each shipped type, issued through
``licences.service.issue_licence`` by an official of the issuing department to the demo
citizens (citizen1…, see accounts.py) and to the demo enterprises. Idempotent: a licence of a
type already issued to a holder is not issued again.

Also adds 民政局 (``mzj``, the issuer of 结婚证, which the demo's department list lacks) with
one official, and the group 证照管理员 (issue and manage licences) for one official of each
issuing department. Order: ``load_licence_departments`` before ``load_trust`` and
``load_seals`` (so 民政局 gets keys and a seal), ``load_licences`` after them (issuance needs
the department's 证照专用章 and a standing authorisation, which load_seals grants).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from yiwang.core.identifiers.service import generate_credit_code, generate_synthetic_id_number
from yiwang.demo import geography, population
from yiwang.platform.orgs import service as orgs
from yiwang.platform.registry import service as registry
from yiwang.support.identity import service as identity
from yiwang.support.licences import service as licences

Progress = Callable[[str, int], Callable[[int], None]]

LICENCE_MANAGERS = "证照管理员"
MANAGER_PERMISSIONS = ("licences.issue_licence", "licences.manage_licence_status",
                       "trust.manage_department_keys")
CIVIL_AFFAIRS = ("mzj", "民政局", "Civil Affairs Bureau")
PURPOSE = "示例数据:签发示例电子证照 demo licences"


def _rng(phase: str) -> random.Random:
    return random.Random(f"{geography.SEED}:licences:{phase}")


def _ensure_civil_affairs() -> None:
    code, name, name_en = CIVIL_AFFAIRS
    if orgs.get_department(code) is None:
        orgs.create_department(code, name, name_en=name_en, region_code=geography.CITY[0],
                               credit_code=generate_credit_code(geography.CITY[0][:6],
                                                                authority="1", org_type="1",
                                                                rng=_rng("mzj")))
    if not orgs.positions_of(code).filter(code="clerk").exists():
        orgs.create_position(code, code="clerk", name="婚姻登记员")
    users = get_user_model().objects
    if not users.filter(username="mzj.clerk1").exists():
        from django.contrib.auth.hashers import make_password

        from yiwang.demo.loader import demo_password, official_phone

        user = identity.create_official("mzj.clerk1", population.person_name(_rng("mzj")),
                                        password_hash=make_password(demo_password()),
                                        phone=official_phone(4999))
        orgs.add_member(user, department_code=code, position_code="clerk", primary=True)


@transaction.atomic
def _managers() -> dict[str, Any]:
    """One official per issuing department (its first member), in 证照管理员."""
    group, _created = Group.objects.get_or_create(name=LICENCE_MANAGERS)
    for dotted in MANAGER_PERMISSIONS:
        app_label, codename = dotted.split(".")
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label,
                                                     codename=codename))
    found: dict[str, Any] = {}
    for ltype in licences.list_types():
        for code in ltype.issuing_departments or []:
            if code in found or orgs.get_department(code) is None:
                continue
            members = list(orgs.members_of(code))
            if members:
                found[code] = members[0].user
                group.user_set.add(*[m.user for m in members])
    return found


def _person(number: str) -> str:
    person = registry.find_person(number)
    return registry.reveal_person(person, ["name"], purpose=PURPOSE)["name"] if person else ""


def _plan(citizens: list[Any], enterprises: list[Any]) -> list[tuple[str, Any, dict[str, Any]]]:
    rng = _rng("plan")
    today = date(2026, 11, 27)
    plan: list[tuple[str, Any, dict[str, Any]]] = []
    for enterprise in enterprises:
        plan.append(("business_licence", enterprise.credit_code, {
            "kind": enterprise.kind or "有限责任公司",
            "legal_representative": _person(enterprise.legal_representative.id_number),
            "registered_capital": f"{enterprise.registered_capital or 100}万元人民币",
            "established_on": (enterprise.established_on or today).isoformat(),
            "address": enterprise.address or "示例市",
            "business_scope": "软件开发;信息技术咨询服务"}))
    for user in citizens[:3]:
        plan.append(("no_criminal_record", user, {
            "purpose": rng.choice(["入职", "出国留学", "申请签证"]),
            "period": f"{today.year - 10}-01-01 至 {today.isoformat()}",
            "statement": "经查询,未发现该人有犯罪记录。"}))
    for n, user in enumerate(citizens[:4]):
        plan.append(("social_security_card", user, {
            "card_number": f"C{33990000 + n * 7919:09d}", "issued_on": "2024-03-01"}))
    for user in citizens[4:6]:
        number = user.id_number
        plan.append(("birth_certificate", user, {
            "sex": "男" if int(number[16]) % 2 else "女",
            "born_on": f"{number[6:10]}-{number[10:12]}-{number[12:14]}",
            "birthplace": "示例省示例市", "hospital": "示例市妇幼保健院",
            "mother_name": population.person_name(rng),
            "mother_id_number": generate_synthetic_id_number(rng, "339901")}))
    for n, user in enumerate([citizens[0], citizens[1], citizens[6]][:len(citizens)]):
        plan.append(("property_certificate", user, {
            "co_ownership": "单独所有",
            "location": f"示例市东城区东湖街道中山路{n + 1}号1幢101室",
            "unit_number": f"339901001001GB0000{n + 1}F00010001",
            "right_type": "国有建设用地使用权/房屋所有权",
            "usage": "城镇住宅用地/住宅",
            "area": f"共有宗地面积 2000㎡/房屋建筑面积 {90 + n * 12}㎡",
            "term": "2020-01-01 起 2089-12-31 止"}))
    if len(citizens) >= 4:
        a, b = citizens[2], citizens[3]
        for holder, spouse in ((a, b), (b, a)):
            plan.append(("marriage_certificate", holder, {
                "registered_on": (today - timedelta(days=400)).isoformat(),
                "spouse_name": spouse.real_name, "spouse_id_number": spouse.id_number,
                "certificate_number": "J339900-2025-000123"}))
    return plan


def load_licence_departments(progress: Progress) -> None:
    """民政局 and its official, the licence catalogue and the issuers' authorisations: run
    before load_trust and load_seals, so that 民政局 gets its keys and seal too."""
    tick = progress("发证部门 licence issuers", 1)
    _ensure_civil_affairs()
    licences.load_catalogue()
    licences.authorise_issuers()
    tick(1)


def load_licences(progress: Progress) -> dict[str, int]:
    """Issue the demo licences that are missing; returns how many of each type exist now.
    Run after load_trust and load_seals: issuance is refused without a licence seal."""
    load_licence_departments(progress)
    managers = _managers()
    users = get_user_model().objects
    citizens = [u for u in (users.filter(username=f"citizen{n}").first() for n in range(1, 10))
                if u is not None and u.verified_at and u.id_number]
    enterprises = list(registry.list_enterprises().filter(synthetic=True).order_by("id")[:3])
    plan = _plan(citizens, enterprises)
    tick = progress("电子证照 licences", len(plan))
    counts: dict[str, int] = {}
    for type_code, holder, fields in plan:
        ltype = licences.get_type(type_code)
        code = holder if isinstance(holder, str) else holder.id_number
        department = next((c for c in (ltype.issuing_departments if ltype else [])
                           if c in managers), None)
        if ltype is not None and department is not None and not licences.has_licence(
                type_code, code):
            licences.issue_licence(type_code, holder=holder, fields=fields,
                                   department_code=department, actor=managers[department])
        counts[type_code] = counts.get(type_code, 0) + 1
        tick(1)
    return counts
