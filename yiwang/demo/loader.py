"""Load the demo city 示例市 through the apps' service functions.

Each phase is an idempotent upsert keyed by natural codes and computed from a fixed seed,
so loading twice changes nothing and a load killed at any point (even SIGKILL) is completed
by the next run. Phases commit in batches; nothing half-written survives a crash because
every batch is one transaction.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from yiwang.conf.env import kept_in_file
from yiwang.core.audit.service import record
from yiwang.core.identifiers.service import generate_credit_code, generate_synthetic_id_number
from yiwang.demo import accounts as demo_accounts
from yiwang.demo import applications as demo_applications
from yiwang.demo import articles as demo_articles
from yiwang.demo import city as demo_city
from yiwang.demo import credit as demo_credit
from yiwang.demo import geography, population
from yiwang.demo import ledger as demo_ledger
from yiwang.demo import licences as demo_licences
from yiwang.demo import payments as demo_payments
from yiwang.demo import seals as demo_seals
from yiwang.demo import search as demo_search
from yiwang.demo import services as demo_services
from yiwang.demo import trust as demo_trust
from yiwang.demo import workflow as demo_workflow
from yiwang.platform.orgs import service as orgs
from yiwang.platform.regions import service as regions
from yiwang.platform.registry import service as registry
from yiwang.support.identity import service as identity

Progress = Callable[[str, int], Callable[[int], None]]

N_CITIZENS = 1000
N_ENTERPRISES = 200
OFFICIALS_PER_POSITION = {
    "head": 1,
    "deputy": 1,
    "section_chief": 1,
    "clerk": 1,
    "reviewer": 2,
    "window": 2,
    "dispatcher": 2,
    "grid_inspector": 4,
    "inspector": 2,
}


# Demo groups (用户组) and the Django permissions they grant: 审计员 may search and export
# the audit log; 人口库查询 may look people and enterprises up in the base registries and
# show a person's full data (``change_person`` is the workbench's reveal permission, see
# yiwang/entry/workbench/views_registry.py), and record and end guardianships (监护关系).
AUDITORS = "审计员"
REGISTRY_READERS = "人口库查询"
CASE_HANDLERS = "办件审批"  # every official: the inbox shows only their own departments' tasks
CALENDAR_KEEPERS = "工作日历管理"  # 政务服务中心's officials keep the statutory clock's calendar
CALENDAR_DEPARTMENT = "zwfw"
GROUP_PERMISSIONS = {
    CASE_HANDLERS: ["applications.handle_application"],
    CALENDAR_KEEPERS: ["workflow.manage_calendar"],
    AUDITORS: ["audit.view_auditevent"],
    REGISTRY_READERS: [
        "registry.view_person",
        "registry.view_enterprise",
        "registry.change_person",
        "registry.add_guardianship",
        "registry.change_guardianship",
    ],
}
REGISTRY_DEPARTMENTS = ("gaj", "zwfw")  # 公安局, 政务服务中心
AUDITOR = "audit.auditor1"
AUDITOR_DEPARTMENT, AUDITOR_POSITION = "zwfw", "clerk"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    name: str
    role: str


def demo_password() -> str:
    """The demo accounts' password: generated once per instance and kept beside its secrets."""
    return kept_in_file(Path(settings.DATA_DIR) / "secrets" / "demo_password",
                        "demo-" + secrets.token_urlsafe(9))


def official_phone(n: int) -> str:
    """Officials' phones come after the citizens' in the demo's synthetic block."""
    return population.synthetic_phone(5000 + n)


def _rng(phase: str) -> random.Random:
    # One stream per phase: a phase's data does not depend on whether earlier phases ran.
    return random.Random(f"{geography.SEED}:{phase}")


def load_geography(progress: Progress) -> geography.City:
    city = geography.build_city()
    regions.load_regions(
        (
            {
                "code": r.code,
                "name": r.name,
                "name_en": r.name_en,
                "level": r.level,
                "parent_code": r.parent_code,
                "geometry": r.geometry,
            }
            for r in city.regions
        ),
        progress=progress("行政区划 regions", len(city.regions)),
    )
    regions.load_grids(
        (
            {
                "code": g.code,
                "name": g.name,
                "community_code": g.parent_code,
                "geometry": g.geometry,
            }
            for g in city.grids
        ),
        progress=progress("网格 grids", len(city.grids)),
    )
    return city


def load_departments(progress: Progress) -> None:
    rng = _rng("departments")
    city_code = geography.CITY[0]
    tick = progress("部门 departments", len(population.DEPARTMENTS))
    for spec in population.DEPARTMENTS:
        department = orgs.get_department(spec.code)
        # Draw the same random numbers whether or not the department exists, so that
        # every department gets the same code and phone on every run.
        credit_code = generate_credit_code(city_code[:6], authority="1", org_type="1", rng=rng)
        phone = f"0579-8{rng.randrange(1000000, 9999999)}"
        address = f"示例市市民中心{rng.randrange(1, 9)}号楼"
        if department is None:
            department = orgs.create_department(
                code=spec.code,
                name=spec.name,
                name_en=spec.name_en,
                credit_code=credit_code,
                region_code=city_code,
                phone=phone,
                address=address,
            )
        have = set(orgs.positions_of(department).values_list("code", flat=True))
        for number, (code, name) in enumerate(spec.positions, start=1):
            if code not in have:
                orgs.create_position(department, code=code, name=name, sort_order=number)
        # The spec's order, head first; also for the positions of an earlier load.
        orgs.order_positions(department, [code for code, _name in spec.positions])
        tick(1)
    for code, name, parent, kind in population.CATEGORIES:
        if orgs.get_category(code) is None:
            orgs.create_category(code=code, name=name, parent_code=parent, kind=kind)
    for dept_code, position, category in population.RESPONSIBILITIES:
        assigned = {
            (r.department.code, r.position.code if r.position else "")
            for r in orgs.responsible_for(city_code, category)
            if r.category and r.category.code == category
        }
        if (dept_code, position) not in assigned:
            orgs.assign_responsibility(
                department_code=dept_code,
                position_code=position or None,
                region_code=city_code,
                category_code=category,
            )


def load_officials(progress: Progress) -> list[DemoAccount]:
    rng = _rng("officials")
    password_hash = make_password(demo_password())
    accounts = [DemoAccount("admin", "系统管理员", "超级管理员、审计员 administrator and auditor")]
    # Officials sign in with two factors; the second is a code sent to their phone (the local
    # SMS gateway writes it to var/sms/outbox.jsonl) until they set up TOTP or a passkey.
    identity.create_official("admin", "系统管理员", password_hash=password_hash, superuser=True,
                             phone=official_phone(0))
    plan = [
        (spec, code, name, n)
        for spec in population.DEPARTMENTS
        for code, name in spec.positions
        for n in range(1, OFFICIALS_PER_POSITION.get(code, 1) + 1)
    ]
    tick = progress("公职人员 officials", len(plan))
    for index, (spec, code, position_name, n) in enumerate(plan, start=2):
        username = f"{spec.code}.{code}{n}"
        display = population.person_name(rng)
        user = identity.create_official(username, display, password_hash=password_hash,
                                        phone=official_phone(index))
        if (
            not orgs.memberships_of(user)
            .filter(department__code=spec.code, position__code=code)
            .exists()
        ):
            orgs.add_member(
                user,
                department_code=spec.code,
                position_code=code,
                primary=not orgs.memberships_of(user).exists(),
            )
        if n == 1 and code in {"head", "reviewer", "window", "dispatcher"}:
            role = f"{spec.name} {position_name}"
            if spec.code in REGISTRY_DEPARTMENTS:
                role += "、人口库查询 registry reader"
            accounts.append(DemoAccount(username, display, role))
        tick(1)
    auditor = _load_auditor(password_hash)
    accounts.insert(
        1,
        DemoAccount(
            auditor.username, auditor.display_name, "政务服务中心 工作人员、审计员 auditor"
        ),
    )
    load_groups()
    return accounts


def _load_auditor(password_hash: str) -> Any:
    """The demo auditor: a clerk (工作人员) of 政务服务中心, a post the centre's spec lacks
    (unnumbered, it is listed after the spec's posts)."""
    user = identity.create_official(
        AUDITOR, population.person_name(_rng("auditor")), password_hash=password_hash,
        phone=official_phone(1),
    )
    if not orgs.positions_of(AUDITOR_DEPARTMENT).filter(code=AUDITOR_POSITION).exists():
        orgs.create_position(AUDITOR_DEPARTMENT, code=AUDITOR_POSITION, name="工作人员")
    if not orgs.memberships_of(user).filter(department__code=AUDITOR_DEPARTMENT).exists():
        orgs.add_member(
            user, department_code=AUDITOR_DEPARTMENT, position_code=AUDITOR_POSITION, primary=True
        )
    return user


@transaction.atomic
def load_groups() -> None:
    """Create the demo groups with their permissions and fill them (idempotent: adds only).

    审计员: ``admin`` and the demo auditor. 人口库查询: every current official of 公安局 and
    政务服务中心 except the auditors, who check the registry's reveals and so, keeping
    duties separate (三员分立), do not reveal personal data themselves.
    """
    groups = {}
    for name, perms in GROUP_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.add(*(_permission(p) for p in perms))
        groups[name] = group
    users = get_user_model().objects
    auditors = list(users.filter(username__in=["admin", AUDITOR]))
    groups[AUDITORS].user_set.add(*auditors)
    readers = {
        m.user
        for code in REGISTRY_DEPARTMENTS
        if orgs.get_department(code) is not None
        for m in orgs.members_of(code)
    } - set(auditors)
    groups[REGISTRY_READERS].user_set.add(*readers)
    handlers = {m.user for d in orgs.list_departments() for m in orgs.members_of(d)}
    groups[CASE_HANDLERS].user_set.add(*(handlers - set(auditors)))
    if orgs.get_department(CALENDAR_DEPARTMENT) is not None:
        keepers = {m.user for m in orgs.members_of(CALENDAR_DEPARTMENT)} - set(auditors)
        groups[CALENDAR_KEEPERS].user_set.add(*keepers)


def _permission(dotted: str) -> Permission:
    app_label, codename = dotted.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def _citizen_rows(city: geography.City) -> Iterator[registry.PersonRow]:
    rng = _rng("citizens")
    communities = city.of_level("community")
    names = {r.code: r.name for r in city.regions}
    grids_by_community: dict[str, list[str]] = {}
    for grid in city.grids:
        grids_by_community.setdefault(grid.parent_code or "", []).append(grid.code)
    for i in range(N_CITIZENS):
        community = rng.choice(communities)
        street, district = community.code[:9] + "000", community.code[:6] + "000000"
        yield registry.PersonRow(
            name=population.person_name(rng),
            id_number=generate_synthetic_id_number(rng, community.code[:6]),
            phone=population.synthetic_phone(i),
            address=(
                f"{geography.CITY[1]}{names[district]}{names[street]}{community.name}"
                f"{rng.randrange(1, 300)}号{rng.randrange(1, 20)}幢{rng.randrange(101, 2405)}室"
            ),
            region_code=community.code,
            grid_code=rng.choice(grids_by_community[community.code]),
            synthetic=True,
        )


def load_citizens(city: geography.City, progress: Progress) -> int:
    return registry.load_persons(
        _citizen_rows(city), progress=progress("市民 citizens", N_CITIZENS)
    )


def load_enterprises(city: geography.City, progress: Progress) -> int:
    rng = _rng("enterprises")
    people = list(
        registry.list_persons().filter(synthetic=True).order_by("id")[: N_ENTERPRISES * 2]
    )
    districts = city.of_level("district")
    streets = {r.code: r.name for r in city.of_level("street")}
    rows = []
    tick = progress("企业 enterprises", N_ENTERPRISES)
    for i in range(N_ENTERPRISES):
        district = districts[i % len(districts)]
        name, kind, industry = population.enterprise_name(rng, district.name, i)
        street_code = rng.choice([c for c in streets if c.startswith(district.code[:6])])
        rows.append(
            registry.Enterprise(
                credit_code=generate_credit_code(
                    district.code[:6], authority="9", org_type=rng.choice("123"), rng=rng
                ),
                name=name,
                kind=kind,
                industry=industry,
                legal_representative=people[rng.randrange(len(people))],
                registered_capital=population.registered_capital(rng),
                established_on=population.random_birth_date(rng).replace(
                    year=rng.randrange(1995, 2026)
                ),
                address=f"{geography.CITY[1]}{district.name}{streets[street_code]}"
                f"{population.ENTERPRISE_WORDS[i % 20]}路{rng.randrange(1, 500)}号",
                region_code=street_code,
                synthetic=True,
            )
        )
        tick(1)
    return registry.load_enterprises(rows)


def load_all(progress: Progress) -> list[DemoAccount]:
    """Load (or complete) the whole demo city; return the demo accounts to print."""
    city = load_geography(progress)
    load_departments(progress)
    accounts = load_officials(progress)
    load_citizens(city, progress)
    load_enterprises(city, progress)
    accounts += load_people_who_sign_in(progress)
    load_trust_core(progress)
    load_one_network_services(progress)
    demo_payments.load_payments(progress)  # the finance bureau's seal needs the trust core
    load_groups()  # again: the officials created since are handlers too
    demo_applications.load_applications(progress)  # needs the handlers of the line above
    demo_city.load_city(progress)
    demo_articles.load_articles(progress)  # 政务公开, by each department's editor
    demo_credit.load_credit(progress)  # after the applications, whose licences it publishes
    demo_search.load_search(progress)  # last: the synonyms, then a rebuild of the index
    record(
        "demo.load",
        detail={
            "regions": len(city.regions),
            "grids": len(city.grids),
            "citizens": N_CITIZENS,
            "enterprises": N_ENTERPRISES,
        },
    )
    return accounts


def load_trust_core(progress: Progress) -> None:
    """The trust core: the issuing departments, the region's PKI, seals, licences issued to
    demo citizens and enterprises, then the ledger's witnesses and checkpoints. In this order:
    the PKI certifies the issuers' keys, seals need certificates, licences are sealed, and
    the trust list and checkpoints come last so that they cover everything before them."""
    demo_licences.load_licence_departments(progress)
    demo_trust.load_trust(progress)
    demo_seals.load_seals(progress)
    demo_licences.load_licences(progress)
    demo_trust.load_trust(progress)  # publishes again only if the licences changed anything
    demo_ledger.load_ledger(progress)


def load_one_network_services(progress: Progress) -> None:
    """一网通办: the working calendar, then the service catalogue with its service packs
    (which need the licence types and issuing departments of the trust core)."""
    demo_workflow.load_workflow(progress)
    demo_services.load_services(progress)


def load_people_who_sign_in(progress: Progress) -> list[DemoAccount]:
    """Citizens' accounts, the first enterprise's account and agent, the identity admin
    groups and the example relying party (see yiwang/demo/accounts.py)."""
    tick = progress("账户 accounts", demo_accounts.N_CITIZEN_ACCOUNTS + 3)
    users = demo_accounts.load_citizen_accounts(make_password(demo_password()))
    tick(len(users))
    enterprise = demo_accounts.load_enterprise(users)
    tick(1)
    demo_accounts.load_identity_groups(["admin"])
    tick(1)
    demo_accounts.load_example_relying_party(actor=None)
    tick(1)
    listed = [
        DemoAccount(users[0].username, users[0].display_name,
                    f"市民（已实名，L2）、{enterprise} 法定代表人 citizen, legal representative"),
        DemoAccount(users[1].username, users[1].display_name,
                    f"市民（已实名，L2）、{enterprise} 经办人 citizen, agent"),
        DemoAccount(users[-1].username, users[-1].display_name or users[-1].username,
                    "市民（未实名，L1）citizen, not yet real-name verified"),
    ]
    return listed


def census() -> dict[str, int]:
    """How much of the demo city is in the database."""
    city_code = geography.CITY[0]
    by_level: dict[str, Any] = regions.stats(city_code)
    return {
        "districts": int(by_level.get("district", 0)),
        "streets": int(by_level.get("street", 0)),
        "communities": int(by_level.get("community", 0)),
        "grids": int(by_level.get("grids", 0)),
        "departments": len(orgs.list_departments()),
        "officials": identity.count_officials(),
        "citizens": registry.list_persons().filter(synthetic=True).count(),
        "enterprises": registry.list_enterprises().filter(synthetic=True).count(),
    }


def expected() -> dict[str, int]:
    city = geography.build_city()
    return {
        "districts": len(city.of_level("district")),
        "streets": len(city.of_level("street")),
        "communities": len(city.of_level("community")),
        "grids": len(city.grids),
        "departments": len(population.DEPARTMENTS),
        "citizens": N_CITIZENS,
        "enterprises": N_ENTERPRISES,
    }
