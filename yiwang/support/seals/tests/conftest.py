"""Fixtures of the seals tests: two departments with officials, and a stand-in PKI in place
of the keys and trust apps (``backend``), unless a test asks for the real ones."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache

from yiwang.platform.orgs import service as orgs
from yiwang.platform.regions.testing import CITY, make_chain
from yiwang.support.identity import service as identity
from yiwang.support.seals import backend
from yiwang.support.seals.testing import PkiBackend

PASSWORD = "a-long-password-1"


@dataclass
class Officials:
    department: Any
    other_department: Any
    custodian: Any  # 市场监管局, custodian and seal manager
    clerk: Any  # 市场监管局, neither
    outsider: Any  # 城市管理局, a seal manager of their own department


def grant(user: Any, *codenames: str) -> Any:
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(content_type__app_label="seals",
                                                         codename=codename))
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def officials(db: Any) -> Officials:
    make_chain(geometry=False)
    department = orgs.create_department("scjgj", "示例市市场监督管理局", region_code=CITY)
    other = orgs.create_department("csglj", "示例市城市管理局", region_code=CITY)
    custodian = identity.create_official("wang.fang", "王芳", password=PASSWORD)
    clerk = identity.create_official("li.lei", "李雷", password=PASSWORD)
    outsider = identity.create_official("zhao.min", "赵敏", password=PASSWORD)
    orgs.add_member(custodian, "scjgj")
    orgs.add_member(clerk, "scjgj")
    orgs.add_member(outsider, "csglj")
    custodian = grant(custodian, "manage_seals", "view_seal_uses")
    outsider = grant(outsider, "manage_seals", "view_seal_uses")
    return Officials(department, other, custodian, clerk, outsider)


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    """Each test starts with its own per-client budgets (验章 is rate-limited)."""
    cache.clear()


@pytest.fixture
def pki_backend() -> Iterator[PkiBackend]:
    stand_in = PkiBackend()
    previous = backend.use(stand_in)
    yield stand_in
    backend.use(previous)
