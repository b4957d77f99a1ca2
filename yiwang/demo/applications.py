"""Demo applications (办件) of 示例市: the inbox of a working city.

About forty applications by the demo citizens (``citizen1`` … ``citizen9``) to the demo's
online matters and the 出生一件事, in every state an official meets: drafts, submitted and
waiting, claimed and in review, waiting for a correction (补正), approved with the licence in
the applicant's wallet (营业执照 of a newly registered 个体工商户, 无犯罪记录证明, the
newborn's 出生医学证明 and 社保卡), rejected, withdrawn, one overdue and one warned, some
evaluated (好差评). Everything goes through the applications and services facades, as the
portal and the workbench do; the officials are the demo's (``gaj.officer1``,
``scjg.reviewer1``, ``rsj.reviewer1``, ``wjw.clerk1``, ``bdc.clerk1``).

Idempotent: one transaction, skipped when the demo citizens already have applications.
Licences are sealed PDFs: seven are issued, so the phase takes a few seconds.

The overdue and warned applications are made first and the clock (``tick_clocks``) is run
for them at the moment the first one's time limit ends — one working day ahead — so their
"已超过办理时限" / "办理时限预警" events carry that moment's time. The applications made after
it are not affected; the periodic ``applications.tick_clocks`` warns them at their own time.

Run after the citizens' accounts, the trust core (seals) and the service catalogue.
"""

from __future__ import annotations

import io
import logging
import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from yiwang.core.uploads import service as uploads
from yiwang.industry.applications import service as applications
from yiwang.platform.registry import service as registry
from yiwang.support.identity import service as identity

Progress = Callable[[str, int], Callable[[int], None]]

NCR = "339900-GAJ-GG-001"  # 无犯罪记录证明 (licence)
BUSINESS = "339900-SCJG-XK-001"  # 个体工商户设立登记 (licence to the new 个体工商户)
FLEXIBLE = "339900-RSJ-GG-003"  # 灵活就业人员参保登记
INSURANCE = "339900-RSJ-GG-002"  # 城乡居民医保参保登记
BIRTH_CERTIFICATE = "339900-WJW-GG-001"  # 出生医学证明 (licence to the newborn)
HOUSEHOLD = "339900-GAJ-QR-001"  # 出生登记(户口)
PROPERTY = "339900-BDC-QR-001"  # 不动产转移登记 (two-stage flow, fees)
BIRTH_BUNDLE = "birth"
OFFICIALS = {"gaj": "gaj.officer1", "scjg": "scjg.reviewer1", "rsj": "rsj.reviewer1",
             "wjw": "wjw.clerk1", "bdc": "bdc.clerk1"}
N_CITIZENS = 9  # citizen1..citizen9 are real-name verified
SEED = "yiwang-demo-applications"

SHOPS = ["湖畔面馆", "东湖便利店", "老街裁缝铺", "青禾花店", "晨光早餐店", "小城修车行"]
SCOPES = ["餐饮服务(小型)", "日用百货零售", "服装加工", "鲜花零售", "早餐供应", "汽车修理"]
CHILDREN = [("林小禾", "女"), ("周安然", "男")]
REJECTIONS = ["经核查,申请材料与登记信息不一致,不予办理。",
              "经营场所位于禁止经营区域,不予登记。",
              "申请人不属于本地灵活就业参保范围。"]


class _Demo:
    """The demo's people and a few helpers, for one load."""

    def __init__(self, citizens: list[Any], officials: dict[str, Any]) -> None:
        self.citizens = citizens
        self.officials = officials
        self.rng = random.Random(SEED)
        self.counts: dict[str, int] = {}

    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    # --- data ------------------------------------------------------------------------------

    def region(self, user: Any) -> str:
        person = registry.find_person(user.id_number)
        return str(person.region_code) if person is not None and person.region_code \
            else "339900000000"

    def pdf(self, user: Any) -> list[str]:
        """A one-page PDF scan as the material (PDFs are not read by OCR: fast)."""
        from PIL import Image

        buffer = io.BytesIO()
        Image.new("RGB", (60, 40), (235, 235, 228)).save(buffer, format="PDF")
        stored = uploads.accept_upload(buffer.getvalue(), filename="扫描件.pdf",
                                       owner_key=applications.owner_key(user),
                                       purpose="application.material", actor=user)
        return [stored.token]

    def profile(self, user: Any) -> dict[str, Any]:
        return {"name": user.real_name, "id_number": user.id_number,
                "phone": user.phone or "13900000000"}

    def ncr(self, user: Any, purpose: str = "就业") -> dict[str, Any]:
        data = {**self.profile(user), "purpose": purpose,
                "period_from": (timezone.localdate() - timedelta(days=5 * 365)).isoformat(),
                "id_doc": self.pdf(user)}
        if purpose == "其他":
            data["purpose_other"] = "办理签证"
        return data

    def business(self, user: Any, n: int) -> dict[str, Any]:
        return {**self.profile(user), "kind": "person", "shop_name": SHOPS[n % len(SHOPS)],
                "capital": 3 + n, "staff": 1 + n % 4,
                "premises": {"region": self.region(user), "detail": f"东湖路{20 + n}号"},
                "business_scope": SCOPES[n % len(SCOPES)], "id_card": self.pdf(user),
                "premises_proof": self.pdf(user)}

    def flexible(self, user: Any) -> dict[str, Any]:
        return {**self.profile(user), "hukou": "local",
                "home": {"region": self.region(user), "detail": "湖滨路8号"},
                "insurances": "pension", "base": self.rng.choice(["60", "100", "150"]),
                "start_month": timezone.localdate().replace(day=1).isoformat()}

    def insurance(self, user: Any) -> dict[str, Any]:
        return {"insured_name": user.real_name, "insured_birth": "2019-05-01",
                "category": "minor", "payer": "bank"}

    def birth(self, user: Any, child: tuple[str, str], days_ago: int) -> dict[str, Any]:
        return {"child_name": child[0], "child_sex": child[1],
                "born_on": (timezone.localdate() - timedelta(days=days_ago)).isoformat(),
                "birthplace": "示例市", "hospital": "示例市妇幼保健院",
                "mother_name": user.real_name, "mother_id_number": user.id_number,
                "household_address": {"region": self.region(user), "detail": "湖滨路8号"},
                "mother_id_card": self.pdf(user)}

    def household(self, user: Any) -> dict[str, Any]:
        return {"child_name": "陈一鸣", "child_sex": "男",
                "born_on": (timezone.localdate() - timedelta(days=20)).isoformat(),
                "follow": "mother", "householder_name": user.real_name,
                "household_address": {"region": self.region(user), "detail": "湖滨路8号"},
                "household_book": self.pdf(user)}

    def property(self, buyer: Any, seller: Any) -> dict[str, Any]:
        return {**self.profile(buyer), "seller_name": seller.real_name,
                "seller_id_number": seller.id_number, "reason": "sale",
                "unit_number": f"示例市东城区湖滨花园{self.rng.randrange(1, 20)}幢"
                               f"{self.rng.randrange(101, 2001)}室",
                "location": {"region": self.region(buyer), "detail": "湖滨花园"},
                "usage": "residential", "area": 89, "co_ownership": "单独所有",
                "parties_id": self.pdf(buyer), "contract": self.pdf(buyer)}

    def bundle(self, user: Any, child: tuple[str, str], days_ago: int) -> dict[str, Any]:
        data = self.birth(user, child, days_ago)
        data.update({"follow": "mother", "householder_name": user.real_name,
                     "mailing": "window", "payer": "bank",
                     "household_book": self.pdf(user), "photo": self.pdf(user)})
        return data

    # --- acts ------------------------------------------------------------------------------

    def draft(self, user: Any, matter: str, data: dict[str, Any]) -> Any:
        self.count("draft")
        return applications.save_draft(user, matter, data)

    def submit(self, user: Any, matter: str, data: dict[str, Any]) -> Any:
        app = applications.save_draft(user, matter, data)
        self.count("submitted")
        return applications.submit_application(user, app)

    def _task(self, app: Any) -> tuple[Any, Any]:
        app.refresh_from_db()
        task = applications.open_tasks(app)[0]
        official = self.officials[task.department_code]
        if task.claimed_by_id is None:
            applications.claim_task(official, task.pk, app.row_version)
            app.refresh_from_db()
        return app, task

    def claim(self, app: Any) -> Any:
        app, _task = self._task(app)
        self.count("claimed")
        return app

    def approve(self, app: Any) -> Any:
        for _step in range(8):
            app.refresh_from_db()
            if not applications.open_tasks(app):
                break
            app, task = self._task(app)
            app = applications.decide_task(self.officials[task.department_code], task.pk,
                                           "approve", "材料齐全,符合规定,准予办理。",
                                           app.row_version)
        self.count("approved")
        return app

    def reject(self, app: Any, reason: str) -> Any:
        app, task = self._task(app)
        self.count("rejected")
        return applications.decide_task(self.officials[task.department_code], task.pk,
                                        "reject", reason, app.row_version)

    def correction(self, app: Any, reason: str, fields: list[str]) -> Any:
        app, task = self._task(app)
        self.count("correction")
        return applications.request_correction(self.officials[task.department_code], task.pk,
                                               reason, app.row_version, fields=fields)

    def withdraw(self, user: Any, app: Any) -> Any:
        app.refresh_from_db()
        self.count("withdrawn")
        return applications.withdraw_application(user, app, reason="信息填写有误,重新申请。")

    def evaluate(self, user: Any, app: Any, score: int, comment: str = "") -> None:
        app.refresh_from_db()
        applications.evaluate_application(user, app, score=score, comment=comment)
        self.count("evaluated")


def _people() -> tuple[list[Any], dict[str, Any]] | None:
    citizens = [identity.find_account_by_login(f"citizen{n}") for n in range(1, N_CITIZENS + 1)]
    officials = {dept: identity.find_account_by_login(name) for dept, name in OFFICIALS.items()}
    if any(c is None or not c.id_number for c in citizens) or None in officials.values():
        return None
    return citizens, officials


def load_applications(progress: Progress) -> dict[str, int]:
    """Put the demo city's inbox in a realistic state (see the module's docstring); returns
    counts by state. Skipped (``{"skipped": 1}``) when the demo citizens or officials are
    missing or the citizens already have applications."""
    people = _people()
    if people is None:
        return {"skipped": 1}
    citizens, officials = people
    if applications.applications_of(citizens[0]).exists():
        return {"skipped": 1}
    tick = progress("办件 applications", 40)
    # The workflow engine (SpiffWorkflow) logs every task's state change at INFO: hundreds of
    # lines in the middle of the loader's progress. Not news here.
    spiff = logging.getLogger("spiff")
    level = spiff.level
    spiff.setLevel(logging.WARNING)
    try:
        with transaction.atomic():
            demo = _Demo(citizens, officials)
            _load(demo, tick)
    finally:
        spiff.setLevel(level)
    return demo.counts


def _load(demo: _Demo, tick: Callable[[int], None]) -> None:
    c = demo.citizens
    # The overdue one and the warned one first, then the clock at the end of the first's
    # time limit (one working day): only these two are running then.
    overdue = demo.submit(c[2], NCR, demo.ncr(c[2], "入学"))
    demo.submit(c[3], BIRTH_CERTIFICATE, demo.birth(c[3], ("郑可心", "女"), 6))
    applications.tick_clocks(overdue.due_at + timedelta(minutes=1))
    demo.counts.update(overdue=1, warned=1)
    tick(2)

    # Drafts (草稿), kept on the server.
    demo.draft(c[3], NCR, {"name": c[3].real_name, "purpose": "出国(境)"})
    demo.draft(c[4], BUSINESS, {"name": c[4].real_name, "kind": "family",
                                "shop_name": "家和小吃"})
    demo.draft(c[5], PROPERTY, {"name": c[5].real_name, "reason": "inherit"})
    demo.draft(c[6], FLEXIBLE, {"name": c[6].real_name, "hukou": "other"})
    tick(4)

    # Submitted, waiting to be claimed.
    for i, user in enumerate(c[:3]):
        demo.submit(user, NCR, demo.ncr(user, ["就业", "其他", "入学"][i]))
    for user in c[3:6]:
        demo.submit(user, FLEXIBLE, demo.flexible(user))
    demo.submit(c[6], BUSINESS, demo.business(c[6], 1))
    demo.submit(c[7], BUSINESS, demo.business(c[7], 2))
    demo.submit(c[0], PROPERTY, demo.property(c[0], c[8]))
    demo.submit(c[1], PROPERTY, demo.property(c[1], c[7]))
    demo.submit(c[4], HOUSEHOLD, demo.household(c[4]))
    demo.submit(c[5], INSURANCE, demo.insurance(c[5]))
    tick(12)

    # Claimed, in review.
    demo.claim(demo.submit(c[3], NCR, demo.ncr(c[3])))
    demo.claim(demo.submit(c[4], NCR, demo.ncr(c[4], "其他")))
    demo.claim(demo.submit(c[7], FLEXIBLE, demo.flexible(c[7])))
    demo.claim(demo.submit(c[8], BUSINESS, demo.business(c[8], 3)))
    demo.claim(demo.submit(c[2], PROPERTY, demo.property(c[2], c[6])))
    demo.claim(demo.submit(c[0], INSURANCE, demo.insurance(c[0])))
    tick(6)

    # Waiting for a correction (补正).
    demo.correction(demo.submit(c[5], NCR, demo.ncr(c[5])),
                    "身份证明材料不清晰,请重新上传清晰的扫描件。", ["id_doc"])
    demo.correction(demo.submit(c[0], BUSINESS, demo.business(c[0], 4)),
                    "经营场所使用证明缺少出租方签字,请补充。", ["premises_proof"])
    demo.correction(demo.submit(c[1], FLEXIBLE, demo.flexible(c[1])),
                    "缴费基数与申报不符,请核对后重新选择。", ["base"])
    tick(3)

    # Approved: licences in the wallets (营业执照 to the new 个体工商户, whose operator
    # represents it), evaluated by most.
    done = [(c[1], demo.approve(demo.submit(c[1], NCR, demo.ncr(c[1])))),
            (c[2], demo.approve(demo.submit(c[2], BUSINESS, demo.business(c[2], 0)))),
            (c[5], demo.approve(demo.submit(c[5], BUSINESS, demo.business(c[5], 5)))),
            (c[6], demo.approve(demo.submit(c[6], NCR, demo.ncr(c[6], "入学")))),
            (c[8], demo.approve(demo.submit(c[8], FLEXIBLE, demo.flexible(c[8])))),
            (c[0], demo.approve(demo.submit(c[0], FLEXIBLE, demo.flexible(c[0])))),
            (c[7], demo.approve(demo.submit(c[7], INSURANCE, demo.insurance(c[7]))))]
    for (user, app), (score, comment) in zip(done, [
            (5, "全程网办,当天就拿到了电子证照。"), (5, "营业执照直接进了证照夹,很方便。"),
            (4, ""), (5, "不用跑腿。"), (3, "审核有点慢。")], strict=False):
        demo.evaluate(user, app, score, comment)
    tick(7)

    # Rejected (one evaluated badly), withdrawn.
    rejected = demo.reject(demo.submit(c[8], NCR, demo.ncr(c[8])), REJECTIONS[0])
    demo.reject(demo.submit(c[3], BUSINESS, demo.business(c[3], 2)), REJECTIONS[1])
    demo.reject(demo.submit(c[4], FLEXIBLE, demo.flexible(c[4])), REJECTIONS[2])
    demo.evaluate(c[8], rejected, 2, "希望说明具体不一致之处。")
    demo.withdraw(c[6], demo.submit(c[6], FLEXIBLE, demo.flexible(c[6])))
    demo.withdraw(c[2], demo.submit(c[2], INSURANCE, demo.insurance(c[2])))
    tick(5)

    # 出生一件事: one decided in full (the newborn holds the 出生医学证明 and the 社保卡), one
    # in progress (the 出生医学证明 claimed, the others waiting).
    parent = applications.submit_bundle(c[3], BIRTH_BUNDLE, demo.bundle(c[3], CHILDREN[0], 9))
    for member in parent.children.all().order_by("id"):
        demo.approve(member)
    demo.count("bundle")
    running = applications.submit_bundle(c[7], BIRTH_BUNDLE, demo.bundle(c[7], CHILDREN[1], 4))
    demo.claim(running.children.get(matter_code=BIRTH_CERTIFICATE))
    demo.count("bundle")
    tick(2)
