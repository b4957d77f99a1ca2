"""The demo seals: one 证照专用章 per issuing department with standing authorisations, on the
real keys and trust apps; a second run adds nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from yiwang.demo.seals import load_seals
from yiwang.platform.orgs import service as orgs
from yiwang.platform.regions.testing import CITY, make_chain
from yiwang.support.identity import service as identity
from yiwang.support.seals import service as seals

pytestmark = pytest.mark.django_db


def quiet(_label: str, _total: int) -> Callable[[int], None]:
    return lambda _n: None


def test_load_seals_twice(db: Any) -> None:
    make_chain(geometry=False)
    orgs.create_department("scjg", "示例市市场监督管理局", region_code=CITY)
    orgs.create_department("wjw", "示例市卫生健康委员会", region_code=CITY)  # no official
    official = identity.create_official("scjg.clerk1", "周敏", password="a-long-password-1")
    orgs.add_member(official, "scjg")
    first = load_seals(quiet)
    assert first == {"seals": 1, "standing_authorisations": 1}
    found = seals.licence_seal_for("scjg", "business_licence")
    assert found is not None
    seal, authorisation = found
    assert seal.name == "示例市市场监督管理局电子证照专用章" and seal.kind == "licence"
    assert authorisation.custodian == official and authorisation.auth_level == 0
    assert seals.may_manage(type(official).objects.get(pk=official.pk), "scjg")
    assert load_seals(quiet) == {"seals": 0, "standing_authorisations": 0}
    assert seals.licence_seal_for("wjw", "birth_certificate") is None
