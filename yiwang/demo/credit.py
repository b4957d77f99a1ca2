"""Demo social credit (社会信用) of 示例市: the development and reform commission's credit
office (``fgw``, which reviews objections and repairs of every department), the officials
who collect and review credit information (groups 信用信息归集员 and 信用审核员), and
publicity to look at — penalties and licences of the synthetic enterprises over three years,
black and red lists (one black-list entry expiring in three days, one expired yesterday that
the daily job removes), a penalty of the first demo citizen's enterprise old enough to be
repaired and a fresh one of the citizen to object to — then every subject's risk class.

Idempotent: records are recognised by their decision numbers.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.utils import timezone

from yiwang.core.identifiers.service import generate_credit_code
from yiwang.demo import geography
from yiwang.platform.orgs import service as orgs
from yiwang.platform.registry import service as registry
from yiwang.support.credit import service as credit
from yiwang.support.identity import service as identity

Progress = Callable[[str, int], Callable[[int], None]]

CREDIT_OFFICE = ("fgw", "发展和改革委员会", "Development and Reform Commission")
COLLECTORS = "信用信息归集员"
REVIEWERS = "信用审核员"
N_PENALTIES = 60
N_LICENCES = 40
PENALTY_KINDS = [
    # department, violation type, categories, legal basis, facts, fine (万元) range
    ("scjg", "食品安全", ["警告", "罚款"], "《中华人民共和国食品安全法》第一百二十六条第一款",
     "未按规定查验供货者的许可证和食品合格证明文件。", (0.5, 5)),
    ("scjg", "价格违法", ["罚款"], "《中华人民共和国价格法》第四十二条",
     "经营者不执行明码标价规定。", (0.2, 2)),
    ("scjg", "虚假广告", ["罚款", "没收违法所得"], "《中华人民共和国广告法》第五十五条第一款",
     "发布虚假广告,欺骗、误导消费者。", (10, 40)),
    ("cgj", "市容环境", ["罚款"], "《城市市容和环境卫生管理条例》第三十六条",
     "未经批准擅自占用城市道路从事经营活动。", (0.05, 0.3)),
    ("sthj", "环境污染", ["罚款"], "《中华人民共和国大气污染防治法》第一百零八条",
     "未采取有效措施收集处理挥发性有机物。", (2, 20)),
    ("swj", "税收违法", ["罚款"], "《中华人民共和国税收征收管理法》第六十四条",
     "编造虚假计税依据。", (1, 10)),
]
LICENCE_KINDS = [
    ("scjg", "食品经营许可", "食品经营许可证", "《中华人民共和国食品安全法》第三十五条"),
    ("sthj", "排污许可", "排污许可证", "《排污许可管理条例》第二条"),
    ("cgj", "城市建筑垃圾处置核准", "建筑垃圾处置核准文件", "《城市建筑垃圾管理规定》第七条"),
]


ABBREVIATIONS = {"scjg": "市监", "cgj": "城管", "sthj": "环", "swj": "税"}


def _rng() -> random.Random:
    return random.Random(f"{geography.SEED}:credit")


def _credit_office() -> Any:
    code, name, name_en = CREDIT_OFFICE
    if orgs.get_department(code) is None:
        orgs.create_department(code, name, name_en=name_en, region_code=geography.CITY[0],
                               credit_code=generate_credit_code(
                                   geography.CITY[0][:6], authority="1", org_type="1",
                                   rng=_rng()))
    if not orgs.positions_of(code).filter(code="credit").exists():
        orgs.create_position(code, code="credit", name="信用科")
    users = get_user_model().objects
    found = users.filter(username="fgw.credit1").first()
    if found is None:
        from django.contrib.auth.hashers import make_password

        from yiwang.demo.loader import demo_password, official_phone

        found = identity.create_official("fgw.credit1", "信用办",
                                         password_hash=make_password(demo_password()),
                                         phone=official_phone(4989))
        orgs.add_member(found, department_code=code, position_code="credit", primary=True)
    return users.get(pk=found.pk)


def _perms(*dotted: str) -> list[Permission]:
    return [Permission.objects.get(content_type__app_label=d.split(".")[0],
                                   codename=d.split(".")[1]) for d in dotted]


def _groups(office: Any) -> None:
    collectors, _created = Group.objects.get_or_create(name=COLLECTORS)
    collectors.permissions.add(*_perms("credit.publish_record", "credit.manage_list",
                                       "credit.check_credit"))
    reviewers, _created = Group.objects.get_or_create(name=REVIEWERS)
    reviewers.permissions.add(*_perms("credit.review_dispute", "credit.check_credit",
                                      "credit.manage_risk_rules"))
    for code in ("scjg", "cgj", "sthj", "swj"):
        for membership in orgs.members_of(code):
            position = membership.position.code if membership.position else ""
            if position in ("section_chief", "inspector", "reviewer", "clerk"):
                collectors.user_set.add(membership.user)
            if position in ("head", "section_chief"):
                reviewers.user_set.add(membership.user)
    reviewers.user_set.add(office)
    collectors.user_set.add(office)


def _publish(data: credit.RecordInput, authority: str) -> bool:
    if orgs.get_department(authority) is None or credit.Record.objects.filter(
            authority_code=authority, kind=data.kind, doc_no=data.doc_no).exists():
        return False
    try:
        credit.publish_record(data, authority_code=authority)
    except ValidationError:
        return False
    return True


def _penalty(rng: random.Random, n: int, code: str, name: str, decided: date,
             serious: bool = False) -> tuple[str, credit.RecordInput]:
    department, violation, categories, basis, facts, (low, high) = rng.choice(PENALTY_KINDS)
    fine = round(rng.uniform(low, high), 2)
    return department, credit.RecordInput(
        kind="penalty", code=code, name=name,
        doc_no=f"示{ABBREVIATIONS[department]}罚〔{decided.year}〕{n:03d}号", decided_on=decided,
        legal_basis=basis, content=f"罚款人民币 {fine} 万元", categories=categories,
        violation_type=violation, facts=facts, fine_wan=str(fine),
        severity="serious" if serious else "general")


def _listing(list_type: str, list_name: str, code: str, name: str, start: date, end: date,
             n: int, authority: str, reason: str, basis: str, measures: str) -> bool:
    number = f"示{ABBREVIATIONS[authority]}信〔{start.year}〕{n:03d}号"
    if orgs.get_department(authority) is None or credit.ListEntry.objects.filter(
            authority_code=authority, decision_no=number).exists():
        return False
    credit.list_subject(credit.ListingInput(
        list_type=list_type, list_name=list_name, code=code, name=name, reason=reason,
        legal_basis=basis, decision_no=number,
        decided_on=start, publish_from=start, expires_on=end, measures=measures),
        authority_code=authority)
    return True


def load_credit(progress: Progress) -> dict[str, int]:
    """The credit office, the groups, publicity data, the demo citizen's records and the
    risk classes."""
    tick = progress("社会信用 credit", 5)
    rng = _rng()
    today = timezone.localdate()
    office = _credit_office()
    _groups(office)
    tick(1)
    firms = list(registry.list_enterprises().order_by("id").values_list("credit_code", "name")
                 [:400])
    made = 0
    for n in range(1, N_PENALTIES + 1):
        if not firms:
            break
        code, name = rng.choice(firms)
        decided = today - timedelta(days=rng.randint(1, 3 * 365))
        department, data = _penalty(rng, n, code, name, decided, serious=n % 12 == 0)
        made += _publish(data, department)
    for n in range(1, N_LICENCES + 1):
        if not firms:
            break
        code, name = rng.choice(firms)
        department, content, licence, basis = rng.choice(LICENCE_KINDS)
        decided = today - timedelta(days=rng.randint(1, 3 * 365))
        made += _publish(credit.RecordInput(
            kind="licensing", code=code, name=name,
            doc_no=f"示{ABBREVIATIONS[department]}许〔{decided.year}〕{n:03d}号",
            decided_on=decided,
            legal_basis=basis, content=content, categories=["普通"], licence_name=licence,
            licence_no=f"{department.upper()}{decided:%Y}{n:05d}",
            valid_until=decided + timedelta(days=5 * 365)), department)
    tick(1)
    lists = [
        ("black", "严重违法失信主体名单", 400, 3, "scjg", "提交虚假材料骗取市场主体登记",
         "《市场监督管理严重违法失信名单管理办法》第十三条", "限制参与政府采购、工程招投标"),
        ("black", "重大税收违法失信主体", 200, 700, "swj", "虚开增值税专用发票",
         "《重大税收违法失信主体信息公布管理办法》第六条", "限制出境、限制融资授信"),
        ("black", "严重违法失信主体名单", 370, -1, "scjg", "食品安全严重违法",
         "《市场监督管理严重违法失信名单管理办法》第九条", "列为重点监管对象"),
        ("black", "环境违法失信企业名单", 60, 1000, "sthj", "偷排含重金属废水",
         "《企业环境信用评价办法》第十六条", "从严审批新建项目"),
        ("red", "纳税信用 A 级纳税人", 90, 275, "swj", "年度纳税信用评价为 A 级",
         "《纳税信用管理办法》第三十二条", "增值税发票按需领用、绿色通道"),
        ("red", "守合同重信用企业", 30, 700, "scjg", "连续三年守合同重信用",
         "《示例市守合同重信用企业公示办法》第五条", "优先推荐评优、容缺受理"),
        ("red", "环保诚信企业", 10, 355, "sthj", "企业环境信用评价为诚信",
         "《企业环境信用评价办法》第十五条", "优先安排环保专项资金"),
    ]
    for n, (kind, name, ago, left, authority, reason, basis, measures) in enumerate(lists, 1):
        if len(firms) < n:
            break
        code, firm = firms[-n]
        made += _listing(kind, name, code, firm, today - timedelta(days=ago),
                         today + timedelta(days=left), n, authority, reason, basis, measures)
    credit.expire_entries(today)
    tick(1)
    citizen = get_user_model().objects.filter(username="citizen1").first()
    if citizen is not None and citizen.id_number:
        made += _publish(credit.RecordInput(
            kind="penalty", code=citizen.id_number, name=citizen.real_name or "市民",
            doc_no="示城管罚〔2026〕901号", decided_on=today - timedelta(days=5),
            legal_basis="《城市市容和环境卫生管理条例》第三十六条", content="罚款人民币 200 元",
            categories=["罚款"], violation_type="市容环境",
            facts="在示例路人行道上摆摊经营,经劝阻未改正。", fine_wan="0.02",
            severity="general"), "cgj")
        for acting in identity.acting_identities(citizen)[:1]:
            made += _publish(credit.RecordInput(
                    kind="penalty", code=acting.credit_code, name=acting.name,
                    doc_no="示市监罚〔2026〕902号", decided_on=today - timedelta(days=150),
                    legal_basis="《中华人民共和国价格法》第四十二条",
                    content="警告,罚款人民币 3000 元", categories=["警告", "罚款"],
                    violation_type="价格违法", facts="经营场所未明码标价。", fine_wan="0.3",
                    severity="general"), "scjg")
    tick(1)
    counts = credit.classify_all()
    tick(1)
    return {"made": made, **counts}
