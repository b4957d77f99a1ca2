"""Fixtures of the licences tests: the demo city's issuing departments, officials, citizens in
the population registry, and an enterprise with its representative and an agent."""

from __future__ import annotations

import itertools
import random
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from yiwang.core.crypto.service import blind_index
from yiwang.core.identifiers.service import generate_credit_code, generate_synthetic_id_number
from yiwang.platform.orgs import service as orgs
from yiwang.platform.regions import testing as regions_testing
from yiwang.platform.registry import service as registry
from yiwang.support.identity import service as identity

_rng = random.Random(20261127)
_seq = itertools.count(1)
DEPARTMENTS = {"scjg": "市场监管局", "wjw": "卫健委", "bdc": "不动产登记中心",
               "rsj": "人社局", "gaj": "公安局", "mzj": "民政局"}


def new_id_number() -> str:
    return generate_synthetic_id_number(_rng, "339901")


def make_citizen(username: str, name: str = "", *, verified: bool = True) -> Any:
    """A citizen's account; a verified one has an ID number the registry knows."""
    user = get_user_model().objects.create_user(username=username, password="x" * 20)
    user.account_type = "citizen"
    user.display_name = name or f"市民{next(_seq)}"
    if verified:
        number = new_id_number()
        user.real_name = name or "张三丰"
        user.id_number = number
        user.id_number_index = blind_index(number, "identity.id_number")
        user.level = 2
        user.verified_at = timezone.now()
        user.verified_by = "registry"
        registry.register_person(registry.PersonRow(name=user.real_name, id_number=number,
                                                    region_code=regions_testing.COMMUNITY))
    user.save()
    return user


def make_official(username: str, department: str, *perms: str, seal: bool = True) -> Any:
    """An official of ``department``; one who may issue (the default permissions) also
    makes sure the department has a 证照专用章 with a standing authorisation (issuance
    refuses without one), unless ``seal`` is False."""
    user = identity.create_official(username, f"官员{next(_seq)}", password="y" * 20)
    orgs.add_member(user, department_code=department)
    wanted = perms or ("licences.issue_licence", "licences.manage_licence_status")
    for dotted in wanted:
        app_label, codename = dotted.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label,
                                                         codename=codename))
    user = get_user_model().objects.get(pk=user.pk)
    if seal and "licences.issue_licence" in wanted:
        from yiwang.support.seals import service as seals

        if seals.licence_seal_for(department) is None:
            give_licence_seal(department, user)
    return user


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Rate-limit budgets and download de-duplication live in the cache: each test starts
    with none spent."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _quick_seals(settings: Any) -> None:
    """PAdES B-B unless a test asks for another level: B-LT's validation data costs a TSA
    call and embedded CRLs on every issuance, and only the sealing tests look at it."""
    settings.YIWANG_LICENCES_SEAL_LEVEL = "B-B"


@pytest.fixture(autouse=True)
def _fresh_trust_bundle(settings: Any) -> None:
    """Each test builds its own trust bundle: a cached one would hold another test's keys."""
    from yiwang.support.licences import integration

    settings.YIWANG_LICENCES_TRUST_CACHE_SECONDS = 0
    integration.forget_trust_bundle()


@pytest.fixture
def city(db: Any) -> Any:
    chain = regions_testing.make_chain(geometry=False)
    for code, name in DEPARTMENTS.items():
        orgs.create_department(code, name, region_code=regions_testing.CITY,
                               credit_code=generate_credit_code("339900", rng=_rng))
    from yiwang.support.licences import service as licences

    licences.authorise_issuers()
    return chain


@pytest.fixture
def citizen(city: Any) -> Any:
    return make_citizen("citizen1", "李小明")


@pytest.fixture
def other_citizen(city: Any) -> Any:
    return make_citizen("citizen2", "王小红")


@pytest.fixture
def clerk(city: Any) -> Any:
    return make_official("scjg.clerk", "scjg")


@pytest.fixture
def police(city: Any) -> Any:
    return make_official("gaj.clerk", "gaj")


@pytest.fixture
def enterprise(citizen: Any, other_citizen: Any) -> Any:
    """An enterprise represented by ``citizen``, with ``other_citizen`` as an agent holding
    the 证照使用 scope."""
    found = registry.register_enterprise(
        credit_code=generate_credit_code("339901", rng=_rng), name="示例市湖畔科技有限公司",
        kind="有限责任公司", legal_representative=registry.find_person(citizen.id_number),
        region_code=regions_testing.STREET)
    account = identity.register_enterprise_account(citizen, found.credit_code, actor=citizen)
    identity.grant_mandate(account, scopes=["licence", "query"],
                           agent_login=other_citizen.username,
                           expires_at=timezone.now() + timedelta(days=30), actor=citizen)
    return account


BUSINESS_FIELDS = {"kind": "有限责任公司", "legal_representative": "李小明",
                   "registered_capital": "100万元人民币", "established_on": "2020-05-01",
                   "address": "示例市东城区东湖街道中山路1号", "business_scope": "软件开发"}
RECORD_FIELDS = {"purpose": "入职", "period": "2016-01-01 至 2026-11-27",
                 "statement": "经查询,未发现有犯罪记录。"}


def give_licence_seal(department: str, custodian: Any) -> Any:
    """A 证照专用章 for ``department`` with a standing authorisation for every licence type."""
    from yiwang.support.seals import service as seals

    seal = seals.create_seal(department_code=department, name="证照专用章", kind="licence",
                             custodians=[custodian], actor=custodian)
    seals.grant_standing_authorisation(seal, custodian=custodian, purpose="licence:*",
                                       standing_until=timezone.now() + timedelta(days=30))
    return seal
