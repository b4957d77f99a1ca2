"""The demo licences load on the demo city and loading again changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from yiwang.demo import loader
from yiwang.demo import seals as demo_seals
from yiwang.demo import trust as demo_trust
from yiwang.demo.licences import load_licence_departments, load_licences
from yiwang.support.licences import service as licences

pytestmark = pytest.mark.django_db


def quiet(_label: str, _total: int) -> Callable[[int], None]:
    return lambda _n: None


def test_demo_licences_are_idempotent(settings: Any) -> None:
    city = loader.load_geography(quiet)
    loader.load_departments(quiet)
    loader.load_officials(quiet)
    loader.load_citizens(city, quiet)
    loader.load_enterprises(city, quiet)
    loader.load_people_who_sign_in(quiet)
    load_licence_departments(quiet)
    demo_trust.load_trust(quiet)
    demo_seals.load_seals(quiet)
    counts = load_licences(quiet)
    assert set(counts) == {t.code for t in licences.list_types()}
    total = licences.Licence.objects.count()
    assert total == sum(counts.values())
    assert not licences.Licence.objects.filter(sealed=False).exists()
    load_licences(quiet)
    assert licences.Licence.objects.count() == total
    from django.contrib.auth import get_user_model

    citizen1 = get_user_model().objects.get(username="citizen1")
    own = licences.licences_of(citizen1)
    assert {lic.type.code for lic in own} >= {"no_criminal_record", "business_licence"}
