"""Guardianships (监护关系): recorded once per guardian and ward, current only while the ward
is under 18 and the record not ended, audited without personal data."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError

from yiwang.core.audit.service import AuditEvent
from yiwang.core.identifiers.service import generate_id_number
from yiwang.platform.registry import service as registry

pytestmark = pytest.mark.django_db
_seq = itertools.count(1)
BORN = date(2020, 2, 29)


def _person(name: str, born: date, sex: str = "female") -> registry.Person:
    number = generate_id_number("339901", born, sex, sequence=2 * next(_seq))
    return registry.register_person(registry.PersonRow(name=name, id_number=number))


@pytest.fixture
def family() -> dict[str, registry.Person]:
    return {"mother": _person("陈静", date(1990, 5, 1)),
            "father": _person("王强", date(1989, 7, 2)),
            "child": _person("王小安", BORN),
            "stranger": _person("李四", date(1985, 1, 1))}


def test_a_guardianship_is_recorded_once_and_ends_on_the_18th_birthday(family: dict) -> None:
    made, created = registry.record_guardianship(
        family["mother"], family["child"].id_number, basis="出生登记", reference="YW-1",
        starts_on=BORN)
    assert created and made.kind == "parent" and made.reference == "YW-1"
    assert made.ends_on == date(2038, 3, 1)  # born on 29 February: 1 March of 2038
    again, created_again = registry.record_guardianship(
        family["mother"].id_number, family["child"], basis="出生登记", reference="YW-2")
    assert again.pk == made.pk and not created_again
    assert registry.Guardianship.objects.count() == 1
    # The audit names the record, not the persons.
    event = AuditEvent.objects.get(action="registry.guardianship_recorded")
    assert event.object_id == str(made.pk) and event.detail["basis"] == "出生登记"
    for person in family.values():
        assert person.id_number not in str(event.detail) + event.object_repr
        assert person.name not in str(event.detail) + event.object_repr


def test_only_current_guardianships_count(family: dict) -> None:
    registry.record_guardianship(family["mother"], family["child"], basis="出生登记",
                                 starts_on=BORN)
    on = date(2026, 11, 27)
    wards = registry.wards_of(family["mother"].id_number, on=on)
    assert [g.ward for g in wards] == [family["child"]]
    assert registry.guardianship_of(family["mother"], family["child"], on=on) is not None
    assert registry.wards_of(family["father"], on=on) == []
    assert registry.guardianship_of(family["stranger"], family["child"], on=on) is None
    assert registry.wards_of("not a number", on=on) == []
    # Before the start, and from the 18th birthday on: not current.
    assert registry.wards_of(family["mother"], on=BORN - timedelta(days=1)) == []
    assert registry.wards_of(family["mother"], on=date(2038, 2, 28)) != []
    assert registry.wards_of(family["mother"], on=date(2038, 3, 1)) == []


def test_a_guardianship_can_be_ended_early(family: dict) -> None:
    registry.record_guardianship(family["father"], family["child"], basis="出生登记",
                                 starts_on=BORN)
    with pytest.raises(ValidationError, match="原因"):
        registry.end_guardianship(family["father"], family["child"], reason=" ")
    ended = registry.end_guardianship(family["father"], family["child"].id_number,
                                      reason="法院判决变更监护人", on=date(2026, 1, 1))
    assert ended.ended_on == date(2026, 1, 1)
    assert registry.wards_of(family["father"], on=date(2025, 12, 31)) != []
    assert registry.wards_of(family["father"], on=date(2026, 1, 1)) == []
    assert AuditEvent.objects.filter(action="registry.guardianship_ended",
                                     object_id=str(ended.pk)).exists()
    with pytest.raises(ValidationError, match="没有可终止的监护关系"):
        registry.end_guardianship(family["father"], family["child"], reason="再次")
    # A new one may be recorded after the old ended.
    _again, created = registry.record_guardianship(family["father"], family["child"],
                                                   basis="法院判决", kind="other")
    assert created


@pytest.mark.parametrize(("change", "message"), [
    ({"ward": "adult"}, "已满 18 周岁"),
    ({"ward": "self"}, "同一人"),
    ({"ward": "unknown"}, "没有被监护人"),
    ({"guardian": "unknown"}, "没有监护人"),
    ({"kind": "friend"}, "监护类型"),
    ({"basis": ""}, "监护依据"),
])
def test_a_wrong_guardianship_is_refused(family: dict, change: dict, message: str) -> None:
    unknown = generate_id_number("339901", date(2001, 1, 1), "male", sequence=1)
    pick = {"adult": family["stranger"], "self": family["mother"], "unknown": unknown}
    guardian = pick.get(change.get("guardian", ""), family["mother"])
    ward = pick.get(change.get("ward", ""), family["child"])
    with pytest.raises(ValidationError, match=message):
        registry.record_guardianship(guardian, ward, kind=change.get("kind", "parent"),
                                     basis=change.get("basis", "出生登记"),
                                     starts_on=date(2026, 1, 1))
    assert not registry.Guardianship.objects.exists()
