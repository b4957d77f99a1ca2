"""Test helpers other apps' tests may use: a city with the market-regulation bureau (which
decides penalties and lists), the water bureau, the credit department (``fgw``), their
officials, two citizens in the registry and an enterprise the first one represents."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from yiwang.core.crypto.service import blind_index
from yiwang.core.identifiers.service import generate_credit_code, generate_synthetic_id_number
from yiwang.platform.orgs import service as orgs
from yiwang.platform.regions import testing as regions_testing
from yiwang.platform.registry import service as registry
from yiwang.support.credit import service
from yiwang.support.identity import service as identity

PASSWORD = "credit-officer-password-1"  # noqa: S105 - test accounts only
_rng = random.Random(20261129)  # noqa: S311 - synthetic test identifiers


def grant(user: Any, *perms: str) -> Any:
    for dotted in perms:
        app_label, codename = dotted.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label,
                                                         codename=codename))
    return get_user_model().objects.get(pk=user.pk)


def officer(username: str, department: str, *perms: str) -> Any:
    user = identity.create_official(username, username, password=PASSWORD)
    orgs.add_member(user, department)
    return grant(user, *perms)


def resident(username: str, name: str) -> Any:
    """A citizen whose real name and ID number are verified (and in the population registry)."""
    user = get_user_model().objects.create_user(username=username, password="x" * 20)
    number = generate_synthetic_id_number(_rng, "339901")
    user.account_type = "citizen"
    user.display_name = user.real_name = name
    user.id_number = number
    user.id_number_index = blind_index(number, "identity.id_number")
    user.level = 2
    user.verified_at = timezone.now()
    user.verified_by = "registry"
    user.save()
    registry.register_person(registry.PersonRow(name=name, id_number=number,
                                                region_code=regions_testing.COMMUNITY))
    return user


def make_credit() -> dict[str, Any]:
    regions_testing.make_chain(geometry=False)
    for code, name in (("scjg", "示例市市场监督管理局"), ("swj", "示例市水利局"),
                       ("fgw", "示例市发展和改革委员会")):
        orgs.create_department(code, name, region_code=regions_testing.CITY,
                               credit_code=generate_credit_code("339900", "1", "1", rng=_rng))
    people = {
        "officer": officer("scjg.credit", "scjg", "credit.publish_record", "credit.manage_list",
                           "credit.review_dispute", "credit.check_credit"),
        "water": officer("swj.credit", "swj", "credit.publish_record",
                         "credit.review_dispute"),
        "reviewer": officer("fgw.credit", "fgw", "credit.review_dispute",
                            "credit.manage_risk_rules", "credit.check_credit"),
        "citizen": resident("wangwu", "王五"),
        "other": resident("zhaoliu", "赵六"),
    }
    found = registry.register_enterprise(
        credit_code=generate_credit_code("339901", rng=_rng), name="示例市湖畔餐饮有限公司",
        kind="有限责任公司", legal_representative=registry.find_person(
            people["citizen"].id_number), region_code=regions_testing.STREET)
    people["enterprise"] = identity.register_enterprise_account(
        people["citizen"], found.credit_code, actor=people["citizen"])
    return people


def penalty(code: str, name: str, *, doc_no: str = "示市监罚〔2026〕1号",
            decided_on: date | None = None, severity: str = "general",
            authority: str = "scjg", fine_wan: str = "0.5", **extra: Any) -> Any:
    """Publish a penalty decision of ``authority``."""
    return service.publish_record(service.RecordInput(
        kind="penalty", code=code, name=name, doc_no=doc_no,
        decided_on=decided_on or timezone.localdate(),
        legal_basis="《中华人民共和国食品安全法》第一百二十六条", content="罚款",
        categories=["罚款"], violation_type="食品安全", facts="未按规定进行进货查验。",
        fine_wan=fine_wan, severity=severity, **extra), authority_code=authority)


def black(code: str, name: str, *, publish_from: date, expires_on: date,
          decision_no: str = "示市监信〔2026〕1号", list_type: str = "black",
          authority: str = "scjg") -> Any:
    return service.list_subject(service.ListingInput(
        list_type=list_type, list_name="严重违法失信主体名单", code=code, name=name,
        reason="因提供虚假材料取得许可被撤销",
        legal_basis="《市场监督管理严重违法失信名单管理办法》第九条",
        decision_no=decision_no, decided_on=publish_from, publish_from=publish_from,
        expires_on=expires_on, measures="限制参加政府采购"), authority_code=authority)
