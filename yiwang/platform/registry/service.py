"""Public facade of the base registries (基础库): population and legal entities.

Lists and search results carry masked personal data only. Showing a person's data
unmasked goes through :func:`reveal_person`, which records the access in the audit log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from yiwang.core.audit.service import record_personal_read
from yiwang.core.crypto.service import blind_index
from yiwang.core.identifiers.service import validate_credit_code, validate_id_number
from yiwang.core.masking.service import mask_address, mask_id_number, mask_name, mask_phone
from yiwang.platform.registry.models import Enterprise, EnterpriseStatus, Person, Sex

__all__ = [
    "Enterprise",
    "EnterpriseStatus",
    "Person",
    "PersonRow",
    "Sex",
    "find_enterprise",
    "find_person",
    "get_person",
    "list_enterprises",
    "list_persons",
    "load_enterprises",
    "load_persons",
    "masked_person",
    "register_enterprise",
    "register_person",
    "reveal_person",
]

ID_PURPOSE = "registry.person.id_number"
PHONE_PURPOSE = "registry.person.phone"
REVEALABLE = {"name", "id_number", "phone", "address"}


@dataclass(frozen=True)
class PersonRow:
    """One person to load; the ID number is validated on the way in."""

    name: str
    id_number: str
    phone: str = ""
    address: str = ""
    region_code: str = ""
    grid_code: str = ""
    synthetic: bool = False


def _person_fields(row: PersonRow) -> dict[str, Any]:
    parsed = validate_id_number(row.id_number)
    return {
        "name": row.name.strip(),
        "id_number": parsed.value,
        "id_number_index": blind_index(parsed.value, ID_PURPOSE),
        "sex": Sex.MALE if parsed.sex == "male" else Sex.FEMALE,
        "birth_year": parsed.birth_date.year,
        "phone": row.phone,
        "phone_index": blind_index(row.phone, PHONE_PURPOSE) if row.phone else "",
        "address": row.address,
        "region_code": row.region_code,
        "grid_code": row.grid_code,
        "synthetic": row.synthetic,
    }


@transaction.atomic
def register_person(row: PersonRow) -> Person:
    """Add a person to the population registry, or update the one with that ID number."""
    fields = _person_fields(row)
    person, _created = Person.objects.update_or_create(
        id_number_index=fields.pop("id_number_index"), defaults=fields
    )
    return person


def load_persons(rows: Iterable[PersonRow], *, batch_size: int = 500,
                 progress: Callable[[int], None] | None = None) -> int:
    """Bulk upsert by ID number, one transaction per batch (safe to interrupt and rerun)."""
    total = 0
    batch: list[Person] = []

    def flush() -> None:
        nonlocal total
        with transaction.atomic():
            Person.objects.bulk_create(
                batch, update_conflicts=True, unique_fields=["id_number_index"],
                update_fields=["name", "id_number", "sex", "birth_year", "phone", "phone_index",
                               "address", "region_code", "grid_code", "synthetic"],
            )
        total += len(batch)
        if progress:
            progress(len(batch))
        batch.clear()

    for row in rows:
        batch.append(Person(**_person_fields(row)))
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    return total


def get_person(pk: int) -> Person | None:
    """The person with this registry id, or None (show them masked)."""
    return Person.objects.filter(pk=pk).first()


def find_person(id_number: str) -> Person | None:
    """The person with this ID number (validated first), or None."""
    parsed = validate_id_number(id_number)
    return Person.objects.filter(id_number_index=blind_index(parsed.value, ID_PURPOSE)).first()


def list_persons(*, q: str = "", region_prefix: str = "") -> QuerySet[Person]:
    """People filtered by name and region; show them masked.

    Searching by ID number is :func:`find_person` only: a number typed into a list's search
    box would travel in URLs and browser history, and skip the lookup's audit event.
    """
    persons = Person.objects.all()
    if region_prefix:
        persons = persons.filter(region_code__startswith=region_prefix)
    if q.strip():
        persons = persons.filter(name__contains=q.strip())
    return persons.order_by("region_code", "id")


def masked_person(person: Person) -> dict[str, str]:
    """What a list may show of a person: everything personal masked (脱敏)."""
    return {
        "name": mask_name(person.name),
        "id_number": mask_id_number(person.id_number),
        "phone": mask_phone(person.phone) if person.phone else "",
        "address": mask_address(person.address) if person.address else "",
    }


def reveal_person(person: Person, fields: Iterable[str], *, purpose: str,
                  actor: Any = None) -> dict[str, str]:
    """Show ``fields`` of a person unmasked, and record the access (who, why) in the audit log."""
    wanted = sorted(set(fields))
    unknown = set(wanted) - REVEALABLE
    if unknown:
        raise ValueError(f"cannot reveal {', '.join(sorted(unknown))}")
    if not purpose.strip():
        raise ValueError("a purpose is required to view personal data")
    record_personal_read(person, wanted, purpose=purpose, actor=actor)
    return {field: getattr(person, field) for field in wanted}


@transaction.atomic
def register_enterprise(*, credit_code: str, name: str, kind: str, legal_representative: Person,
                        region_code: str, address: str = "", industry: str = "",
                        registered_capital: Decimal | None = None,
                        established_on: date | None = None, synthetic: bool = False) -> Enterprise:
    """Add an enterprise, or update the one with that credit code (validated first)."""
    code = validate_credit_code(credit_code)
    enterprise, _created = Enterprise.objects.update_or_create(
        credit_code=code.value,
        defaults={"name": name, "kind": kind, "legal_representative": legal_representative,
                  "region_code": region_code, "address": address, "industry": industry,
                  "registered_capital": registered_capital, "established_on": established_on,
                  "synthetic": synthetic},
    )
    return enterprise


def load_enterprises(rows: Iterable[Enterprise], *, batch_size: int = 500) -> int:
    """Bulk upsert prepared (unsaved) enterprises by credit code, one transaction per batch."""
    rows = list(rows)
    for start in range(0, len(rows), batch_size):
        with transaction.atomic():
            Enterprise.objects.bulk_create(
                rows[start:start + batch_size], update_conflicts=True,
                unique_fields=["credit_code"],
                update_fields=["name", "kind", "industry", "legal_representative",
                               "registered_capital", "established_on", "address", "region_code",
                               "status", "synthetic"],
            )
    return len(rows)


def find_enterprise(credit_code: str) -> Enterprise | None:
    """The enterprise with this unified social credit code, or None."""
    return Enterprise.objects.filter(credit_code=credit_code.strip().upper()).first()


def list_enterprises(*, q: str = "", region_prefix: str = "") -> QuerySet[Enterprise]:
    """Enterprises filtered by name or credit code and region."""
    enterprises = Enterprise.objects.select_related("legal_representative")
    if region_prefix:
        enterprises = enterprises.filter(region_code__startswith=region_prefix)
    if q.strip():
        enterprises = enterprises.filter(Q(name__contains=q.strip()) |
                                         Q(credit_code=q.strip().upper()))
    return enterprises.order_by("name")
