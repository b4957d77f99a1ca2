"""监护关系 on a person's page in the workbench: listed (the other party masked) for anyone
who may see the page; recorded and ended only with the guardianship permissions, audited,
and refusals shown with a 400 and nothing written."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from yiwang.core.audit import service as audit
from yiwang.core.identifiers.service import generate_id_number
from yiwang.core.masking.service import mask_name
from yiwang.demo import loader
from yiwang.entry.portal.testing import PASSWORD, SmallCity, unlabelled_inputs
from yiwang.entry.workbench.tests.test_registry import (
    READ,
    People,
    city,  # noqa: F401  (fixture)
    grant,
    people,  # noqa: F401  (fixture)
    reader,  # noqa: F401  (fixture)
    text,
)
from yiwang.platform.regions.testing import COMMUNITY, DISTRICT
from yiwang.platform.registry import service as registry
from yiwang.support.identity import service as identity
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db

RECORD = "registry.add_guardianship"
END = "registry.change_guardianship"


@pytest.fixture
def registrar(city: SmallCity) -> Any:  # noqa: F811
    """An officer of household registration: reads the registry and keeps guardianships."""
    return grant(identity.create_official("registrar", "户籍员", password=PASSWORD), *READ,
                 RECORD, END)


@pytest.fixture
def child(city: SmallCity) -> Any:  # noqa: F811
    born = timezone.localdate() - timedelta(days=365 * 3)
    number = generate_id_number(DISTRICT[:6], born, "female", rng=random.Random(5))
    return registry.register_person(registry.PersonRow(name="林小禾", id_number=number,
                                                       region_code=COMMUNITY, synthetic=True))


def page(client: Any, person: Any) -> Any:
    return client.get(f"/registry/persons/{person.pk}/")


def record(client: Any, guardian: Any, ward_number: str, **extra: str) -> Any:
    return client.post(f"/registry/persons/{guardian.pk}/guardianships/",
                       {"id_number": ward_number, "kind": "parent", "basis": "出生登记",
                        "reference": "Q339900001", **extra})


def test_registrar_records_a_guardianship_shown_masked_on_both_pages(
        internal_client: Any, registrar: Any, people: People, child: Any) -> None:  # noqa: F811
    parent = people.person(0)
    sign_in_client(internal_client, registrar)
    assert 'data-testid="no-guardianships"' in text(page(internal_client, parent))
    response = record(internal_client, parent, child.id_number)
    assert response.status_code == 302
    found = registry.guardianship_of(parent, child)
    assert found is not None and found.basis == "出生登记"
    assert found.ends_on == registry.adult_on(child)
    parent_page = text(page(internal_client, parent))
    assert 'data-testid="as-guardian"' in parent_page and mask_name("林小禾") in parent_page
    assert "林小禾" not in parent_page and child.id_number not in parent_page
    assert "已登记监护关系" in parent_page
    assert unlabelled_inputs(parent_page) == []  # the record and end forms are labelled
    child_page = text(page(internal_client, child))
    assert 'data-testid="as-ward"' in child_page
    assert mask_name(parent.name) in child_page and parent.name not in child_page
    events = list(audit.search(audit.AuditFilter(action="registry.guardianship_recorded")))
    assert [e.actor_id for e in events] == [str(registrar.pk)]
    # The same pair again: not recorded twice.
    assert record(internal_client, parent, child.id_number).status_code == 302
    assert len(registry.guardianships_involving(parent)[0]) == 1


@pytest.mark.parametrize("change,message", [
    ({"id_number": "110101199001011234"}, "校验位错误"),
    ({"basis": ""}, "请填写监护依据"),
    ({"starts_on": "2026-02-31"}, "请填写有效的日期"),
])
def test_a_bad_form_is_named_with_a_400_and_nothing_written(
        internal_client: Any, registrar: Any, people: People, child: Any,  # noqa: F811
        change: dict, message: str) -> None:
    parent = people.person(0)
    sign_in_client(internal_client, registrar)
    response = record(internal_client, parent, child.id_number, **change)
    assert response.status_code == 400
    assert message in text(response)
    assert registry.guardianships_involving(parent) == ([], [])


def test_the_registry_refuses_an_adult_or_an_unknown_ward(
        internal_client: Any, registrar: Any, people: People) -> None:  # noqa: F811
    parent, adult = people.person(0), people.person(1)
    sign_in_client(internal_client, registrar)
    response = record(internal_client, parent, adult.id_number)
    assert response.status_code == 400 and "已满 18 周岁" in text(response)
    unknown = generate_id_number(DISTRICT[:6], date(2022, 5, 1), "male", rng=random.Random(9))
    response = record(internal_client, parent, unknown)
    assert response.status_code == 400 and "人口库中没有被监护人" in text(response)
    assert registry.guardianships_involving(parent) == ([], [])


def test_ending_needs_a_reason_then_ends_it_from_either_page(
        internal_client: Any, registrar: Any, people: People, child: Any) -> None:  # noqa: F811
    parent = people.person(0)
    made, _ = registry.record_guardianship(parent, child, basis="出生登记")
    sign_in_client(internal_client, registrar)
    url = f"/registry/persons/{child.pk}/guardianships/{made.pk}/end/"
    response = internal_client.post(url, {"reason": " "})
    assert response.status_code == 400 and "请填写终止监护关系的原因" in text(response)
    assert registry.guardianship_of(parent, child) is not None
    response = internal_client.post(url, {"reason": "法院判决变更监护人"})
    assert response.status_code == 302
    assert registry.guardianship_of(parent, child) is None
    assert "已终止" in text(page(internal_client, parent))
    ended = list(audit.search(audit.AuditFilter(action="registry.guardianship_ended")))
    assert [e.actor_id for e in ended] == [str(registrar.pk)]
    # Ended: a second end is refused, not a 500.
    again = internal_client.post(url, {"reason": "再次终止"})
    assert again.status_code == 400 and "没有可终止的监护关系" in text(again)


def test_a_record_of_another_person_is_not_found_through_this_page(
        internal_client: Any, registrar: Any, people: People, child: Any) -> None:  # noqa: F811
    made, _ = registry.record_guardianship(people.person(0), child, basis="出生登记")
    sign_in_client(internal_client, registrar)
    stranger = people.person(2)
    response = internal_client.post(
        f"/registry/persons/{stranger.pk}/guardianships/{made.pk}/end/", {"reason": "试探"})
    assert response.status_code == 404
    assert registry.guardianship_of(people.person(0), child) is not None


def test_readers_see_guardianships_but_may_neither_record_nor_end(
        internal_client: Any, reader: Any, people: People, child: Any) -> None:  # noqa: F811
    parent = people.person(0)
    made, _ = registry.record_guardianship(parent, child, basis="出生登记")
    sign_in_client(internal_client, reader)
    shown = text(page(internal_client, parent))
    assert 'data-testid="as-guardian"' in shown
    assert 'data-testid="guardianship-form"' not in shown and f'data-testid="end-{made.pk}"' \
        not in shown
    assert record(internal_client, parent, child.id_number).status_code == 403
    assert internal_client.post(f"/registry/persons/{parent.pk}/guardianships/{made.pk}/end/",
                                {"reason": "x"}).status_code == 403
    assert registry.guardianship_of(parent, child) is not None


def test_citizens_and_the_public_listener_get_nothing(
        internal_client: Any, public_client: Any, people: People, child: Any) -> None:  # noqa: F811
    parent = people.person(0)
    citizen = identity.create_official("plain", "无权限职员", password=PASSWORD)
    sign_in_client(internal_client, citizen)
    assert record(internal_client, parent, child.id_number).status_code == 403
    assert public_client.post(f"/registry/persons/{parent.pk}/guardianships/",
                              {"id_number": child.id_number}).status_code == 404
    assert registry.guardianships_involving(parent) == ([], [])


def test_the_demo_registry_group_keeps_guardianships() -> None:
    assert {RECORD, END} <= set(loader.GROUP_PERMISSIONS[loader.REGISTRY_READERS])
