import random

import pytest
from django.db import connection

from yiwang.core.audit.service import AuditEvent
from yiwang.core.identifiers.service import (
    InvalidIdentifier,
    generate_credit_code,
    generate_synthetic_id_number,
)
from yiwang.platform.registry.service import (
    PersonRow,
    find_enterprise,
    find_person,
    list_persons,
    load_persons,
    masked_person,
    register_enterprise,
    register_person,
    reveal_person,
)

pytestmark = pytest.mark.django_db


def row(rng: random.Random, **extra) -> PersonRow:
    values = {"name": "张三丰", "id_number": generate_synthetic_id_number(rng, "339902"),
              "phone": "19900001234", "address": "浙江省杭州市西湖区文三路100号",
              "region_code": "339902001001"}
    values.update(extra)
    return PersonRow(**values)


def test_personal_data_is_encrypted_at_rest_and_found_by_blind_index():
    person = register_person(row(random.Random(1)))
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone, address FROM registry_person WHERE id = %s",
                       [person.pk])
        stored = cursor.fetchone()
    assert person.id_number not in "".join(stored)
    assert "19900001234" not in stored[1]
    assert all(value.startswith("v1$") for value in stored)
    assert find_person(person.id_number.lower()) == person
    assert list(list_persons(q=person.id_number)) == []  # never through a list's search box


def test_registering_twice_updates_instead_of_duplicating():
    first = row(random.Random(2))
    register_person(first)
    again = register_person(PersonRow(**{**first.__dict__, "name": "张三"}))
    assert list_persons().count() == 1
    assert again.name == "张三"


def test_invalid_id_numbers_are_refused_and_nothing_is_written():
    bad = row(random.Random(3))
    broken = bad.id_number[:17] + ("0" if bad.id_number[17] != "0" else "1")
    with pytest.raises(InvalidIdentifier) as exc:
        register_person(PersonRow(**{**bad.__dict__, "id_number": broken}))
    assert exc.value.part == "check"
    assert list_persons().count() == 0


def test_bulk_load_is_idempotent():
    rng = random.Random(4)
    rows = [row(rng, name=f"人{i}") for i in range(30)]
    assert load_persons(rows, batch_size=7) == 30
    assert load_persons(rows, batch_size=7) == 30
    assert list_persons().count() == 30


def test_lists_are_masked_and_reveals_are_audited():
    person = register_person(row(random.Random(5)))
    masked = masked_person(person)
    assert person.id_number not in masked["id_number"]
    assert masked["phone"] == "199****1234"
    assert masked["name"] != person.name
    with pytest.raises(ValueError):
        reveal_person(person, ["id_number"], purpose="  ")
    with pytest.raises(ValueError):
        reveal_person(person, ["password"], purpose="核验")
    shown = reveal_person(person, ["id_number", "phone"], purpose="窗口核验身份")
    assert shown == {"id_number": person.id_number, "phone": "19900001234"}
    event = AuditEvent.objects.get(action="personal_data.read")
    assert event.detail == {"fields": ["id_number", "phone"], "purpose": "窗口核验身份"}


def test_enterprises_by_credit_code():
    rng = random.Random(6)
    rep = register_person(row(rng))
    code = generate_credit_code("339902", rng=rng)
    company = register_enterprise(credit_code=code.lower(), name="示例市星辰科技有限公司",
                                  kind="有限责任公司", legal_representative=rep,
                                  region_code="339902001000")
    assert company.credit_code == code
    assert find_enterprise(f" {code.lower()} ") == company
    with pytest.raises(InvalidIdentifier):
        register_enterprise(credit_code=code[:17], name="x", kind="x",
                            legal_representative=rep, region_code="339902001000")
