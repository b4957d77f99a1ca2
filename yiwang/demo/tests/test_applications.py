"""The demo applications: the inbox in every state, made through the facades, once."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from yiwang.core.crypto.service import blind_index
from yiwang.core.identifiers.service import generate_credit_code, generate_synthetic_id_number
from yiwang.demo import applications as demo_applications
from yiwang.demo import loader
from yiwang.demo import services as demo_services
from yiwang.industry.applications import service as applications
from yiwang.industry.applications.testing import grant_handling
from yiwang.platform.orgs import service as orgs
from yiwang.platform.regions.testing import COMMUNITY, make_chain
from yiwang.platform.registry import service as registry
from yiwang.support.identity import service as identity
from yiwang.support.licences import service as licences

pytestmark = pytest.mark.django_db
_rng = random.Random(11)


def quiet(_label: str, _total: int) -> Callable[[int], None]:
    return lambda _n: None


def _citizen(n: int) -> Any:
    user = get_user_model().objects.create_user(username=f"citizen{n}", password="x" * 20)
    number = generate_synthetic_id_number(_rng, "339901")
    name = f"市民{n}"
    user.account_type, user.display_name, user.real_name = "citizen", name, name
    user.id_number, user.phone = number, f"139000000{n:02d}"
    user.id_number_index = blind_index(number, "identity.id_number")
    user.level, user.verified_at, user.verified_by = 2, timezone.now(), "registry"
    user.save()
    registry.register_person(registry.PersonRow(name=name, id_number=number,
                                                region_code=COMMUNITY))
    return user


@pytest.fixture
def city(settings: Any) -> list[Any]:
    from yiwang.support.seals import service as seals

    settings.YIWANG_LICENCES_SEAL_LEVEL = "B-B"
    settings.YIWANG_LICENCES_TRUST_CACHE_SECONDS = 0
    make_chain(geometry=False)
    loader.load_departments(quiet)
    for department in orgs.list_departments():
        if not department.credit_code:
            department.credit_code = generate_credit_code("339900", rng=_rng)
            department.save(update_fields=["credit_code"])
    licences.load_catalogue()
    licences.authorise_issuers()
    demo_services.load_services(quiet)
    for department, username in demo_applications.OFFICIALS.items():
        position = username.split(".")[1].rstrip("0123456789")
        user = identity.create_official(username, username, password="y" * 20)
        orgs.add_member(user, department_code=department, position_code=position)
        grant_handling(user)
        if department != "bdc" and seals.licence_seal_for(department) is None:
            seal = seals.create_seal(department_code=department, name="证照专用章",
                                     kind="licence", custodians=[user], actor=user)
            seals.grant_standing_authorisation(
                seal, custodian=user, purpose="licence:*",
                standing_until=timezone.now() + timedelta(days=30))
    return [_citizen(n) for n in range(1, demo_applications.N_CITIZENS + 1)]


def test_the_demo_inbox_has_every_state_and_loads_once(city: list[Any]) -> None:
    started = time.perf_counter()
    counts = demo_applications.load_applications(quiet)
    print(f"load_applications: {time.perf_counter() - started:.1f} s, {counts}")
    assert counts["approved"] >= 5 and counts["bundle"] == 2
    states = {s: applications.Application.objects.filter(parent__isnull=True, state=s).count()
              for s in ("draft", "submitted", "in_review", "correction", "approved",
                        "rejected", "withdrawn")}
    assert all(states.values()), states
    top = applications.Application.objects.filter(parent__isnull=True).count()
    assert 35 <= top <= 45
    assert applications.Application.objects.filter(overdue=True).count() == 1
    assert applications.Application.objects.filter(warned=True, overdue=False).count() == 1
    assert applications.Evaluation.objects.count() >= 5
    issued = list(licences.Licence.objects.all())
    assert 1 <= len(issued) <= 8
    # The new 个体工商户 hold their business licences, the newborn the birth certificate.
    business = [lic for lic in issued if lic.type.code == "business_licence"]
    assert len(business) == 2 and all(registry.find_enterprise(lic.credit_code)
                                      for lic in business)
    birth = next(lic for lic in issued if lic.type.code == "birth_certificate")
    assert registry.find_person(birth.holder_code).name == demo_applications.CHILDREN[0][0]
    # The inbox of an official shows their department's open tasks.
    officer = identity.find_account_by_login("gaj.officer1")
    rows = applications.inbox(officer).rows
    assert rows and {r["department_code"] for r in rows} == {"gaj"}
    # A second run changes nothing.
    before = applications.Application.objects.count()
    assert demo_applications.load_applications(quiet) == {"skipped": 1}
    assert applications.Application.objects.count() == before
