"""Newly allocated identifiers (a new 个体工商户's credit code, a newborn's ID number) and
registrations that happen once per key."""

from __future__ import annotations

import random
from datetime import date

import pytest
from django.core.exceptions import ValidationError

from yiwang.core.identifiers.service import (
    generate_synthetic_id_number,
    validate_credit_code,
    validate_id_number,
)
from yiwang.platform.registry import service as registry
from yiwang.platform.registry.models import Enterprise, Person, Registration

pytestmark = pytest.mark.django_db


def _operator() -> registry.Person:
    return registry.register_person(registry.PersonRow(
        name="张经营", id_number=generate_synthetic_id_number(random.Random(7), "339901")))


def test_credit_codes_are_valid_sequential_and_of_the_county() -> None:
    codes = [registry.allocate_credit_code("339901001000") for _ in range(3)]
    assert len(set(codes)) == 3
    for code in codes:
        parsed = validate_credit_code(code)  # both check characters right
        assert (parsed.authority, parsed.org_type, parsed.region_code) == ("9", "2", "339901")
    assert [validate_credit_code(c).org_code[:8] for c in codes] == [
        "00000001", "00000002", "00000003"]
    # Another county counts on its own; an enterprise (authority 9, type 1) too.
    assert validate_credit_code(registry.allocate_credit_code("339902")).org_code[:8] == "00000001"
    enterprise = validate_credit_code(registry.allocate_credit_code("339901", org_type="1"))
    assert enterprise.org_type == "1" and enterprise.org_code[:8] == "00000001"


def test_a_taken_credit_code_is_skipped_and_bad_parts_refused() -> None:
    operator = _operator()
    taken = registry.allocate_credit_code("339903")
    # the next one is loaded by someone else before it is allocated
    from yiwang.platform.registry.service import _credit_code

    registry.register_enterprise(credit_code=_credit_code("9", "2", "339903", 2), name="已有",
                                 kind="个体工商户", legal_representative=operator,
                                 region_code="339903")
    assert registry.allocate_credit_code("339903") == _credit_code("9", "2", "339903", 3)
    assert taken == _credit_code("9", "2", "339903", 1)
    with pytest.raises(ValidationError):
        registry.allocate_credit_code("339903", authority="9", org_type="8")
    with pytest.raises(ValidationError):
        registry.allocate_credit_code("33")


def test_id_numbers_follow_the_sex_parity_and_are_unique() -> None:
    born = date(2026, 11, 20)
    boys = [validate_id_number(registry.allocate_id_number("339901001001", born, "男"))
            for _ in range(2)]
    girl = validate_id_number(registry.allocate_id_number("339901", born, "female"))
    assert [b.sequence for b in boys] == [1, 3] and girl.sequence == 2
    assert all(b.sex == "male" for b in boys) and girl.sex == "female"
    assert {b.region_code for b in boys} == {"339901"} and boys[0].birth_date == born
    with pytest.raises(ValidationError):
        registry.allocate_id_number("339901", born, "?")
    with pytest.raises(ValidationError):  # born tomorrow: not a valid ID number
        registry.allocate_id_number("339901", date(2999, 1, 1), "男")


def test_registering_a_new_enterprise_is_idempotent_per_key() -> None:
    operator = _operator()
    first, created = registry.register_new_enterprise(
        key="application:YW-1", name="张记小吃店", kind="个体工商户",
        legal_representative=operator, region_code="339901001000", address="湖滨路1号")
    again, created_again = registry.register_new_enterprise(
        key="application:YW-1", name="张记小吃店", kind="个体工商户",
        legal_representative=operator, region_code="339901001000")
    assert created and not created_again and again.pk == first.pk
    assert Enterprise.objects.count() == 1 and Registration.objects.count() == 1
    assert registry.find_enterprise(first.credit_code).legal_representative == operator
    with pytest.raises(ValidationError):
        registry.register_new_enterprise(key="application:YW-2", name=" ", kind="个体工商户",
                                         legal_representative=operator, region_code="339901")
    assert not Registration.objects.filter(key="application:YW-2").exists()  # all or nothing


def test_registering_a_newborn_is_idempotent_per_key() -> None:
    person, created = registry.register_newborn(
        key="newborn:abc", name="王小明", sex="男", birth_date=date(2026, 11, 20),
        region_code="339901001001", address="湖滨路1号")
    again, created_again = registry.register_newborn(
        key="newborn:abc", name="王小明", sex="男", birth_date=date(2026, 11, 20),
        region_code="339901001001")
    assert created and not created_again and again.pk == person.pk
    assert Person.objects.count() == 1
    found = registry.find_person(person.id_number)
    assert found is not None and found.name == "王小明" and found.birth_year == 2026
    assert found.sex == registry.Sex.MALE


@pytest.mark.django_db(transaction=True)
def test_concurrent_allocations_never_share_a_serial() -> None:
    """Eight threads, each in its own transaction and connection, allocate at once: eight
    different codes with serials 1–8 (the conditional UPDATE serialises them)."""
    import threading

    from django.db import connection, transaction

    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
            ("file:memorydb", ":memory:")):
        pytest.skip("an in-memory SQLite database is not shared between threads")
    codes: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def allocate() -> None:
        try:
            start.wait()
            with transaction.atomic():
                codes.append(registry.allocate_credit_code("339906"))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=allocate) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(validate_credit_code(c).org_code[:8] for c in codes) == [
        f"{n:08d}" for n in range(1, 9)]
