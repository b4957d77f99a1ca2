"""Public facade of the base registries (基础库): population and legal entities, and the
guardianships between persons (监护关系, :mod:`.guardianship`).

Lists and search results carry masked personal data only. Showing a person's data
unmasked goes through :func:`reveal_person`, which records the access in the audit log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _

from yiwang.core.audit.service import record_personal_read
from yiwang.core.crypto.service import blind_index
from yiwang.core.identifiers.service import (
    CREDIT_CODE_ALPHABET,
    ORG_TYPES,
    InvalidIdentifier,
    generate_id_number,
    validate_credit_code,
    validate_id_number,
)
from yiwang.core.masking.service import mask_address, mask_id_number, mask_name, mask_phone
from yiwang.platform.registry.guardianship import (
    adult_on,
    end_guardianship,
    guardianship_of,
    guardianships_involving,
    record_guardianship,
    status_of,
    wards_of,
)
from yiwang.platform.registry.models import (
    Enterprise,
    EnterpriseStatus,
    GuardianKind,
    Guardianship,
    IdentifierSequence,
    Person,
    Registration,
    Sex,
)

__all__ = [
    "Enterprise",
    "EnterpriseStatus",
    "GuardianKind",
    "Guardianship",
    "Person",
    "PersonRow",
    "Sex",
    "adult_on",
    "allocate_credit_code",
    "allocate_id_number",
    "end_guardianship",
    "find_enterprise",
    "find_person",
    "get_person",
    "guardianship_of",
    "guardianships_involving",
    "list_enterprises",
    "list_persons",
    "load_enterprises",
    "load_persons",
    "masked_person",
    "record_guardianship",
    "register_enterprise",
    "register_new_enterprise",
    "register_newborn",
    "register_person",
    "reveal_person",
    "status_of",
    "wards_of",
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


# --- new registrations: allocating identifiers --------------------------------------------
#
# A registration authority allocates the identifiers of what it registers: the unified social
# credit code (GB 32100) of a new market entity, the 公民身份号码 (GB 11643) of a newborn.
# Serials come from IdentifierSequence rows incremented with one conditional UPDATE (a row lock
# on PostgreSQL, the write lock on SQLite), so two allocations at once never share one; a
# serial whose identifier is already taken (loaded data, made-up demo numbers) is skipped, and
# the unique columns of Enterprise and Person stay the last guard.

_CREDIT_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
# Sequence codes 900–999 are the demo's made-up numbers (SYNTHETIC_SEQUENCES): never allocated.
MAX_ALLOCATED_SEQUENCE = 899


def _next_serial(scope: str) -> int:
    """The next serial of ``scope``; call inside the caller's transaction."""
    for _attempt in range(3):
        if IdentifierSequence.objects.filter(scope=scope).update(last=F("last") + 1):
            return int(IdentifierSequence.objects.filter(scope=scope)
                       .values_list("last", flat=True).get())
        try:
            with transaction.atomic():
                IdentifierSequence.objects.create(scope=scope, last=1)
            return 1
        except IntegrityError:  # made by a concurrent first allocation: increment theirs
            continue
    raise RuntimeError(f"no identifier sequence {scope}")


def _county(region_code: str) -> str:
    county = str(region_code or "")[:6]
    if len(county) != 6 or not county.isdigit():
        raise ValidationError(_("行政区划代码“%(code)s”无效,无法分配编码。")
                              % {"code": region_code})
    return county


def _credit_code(authority: str, org_type: str, county: str, serial: int) -> str:
    body = f"{serial:08d}"  # 主体标识码: an 8-digit serial and its GB 11714 check digit
    org_check = 11 - sum(int(c) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True)) % 11
    first17 = f"{authority}{org_type}{county}{body}" + {10: "X", 11: "0"}.get(
        org_check, str(org_check))
    total = sum(CREDIT_CODE_ALPHABET.index(c) * w
                for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return first17 + CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def allocate_credit_code(region_code: str, *, authority: str = "9", org_type: str = "2") -> str:
    """A new, unused unified social credit code (GB 32100) for an entity registered by
    ``authority`` (登记管理部门, 9 = 市场监管) as ``org_type`` (2 = 个体工商户) in the county of
    ``region_code``; the serial counts per authority, type and county. Call inside a
    transaction (the caller's write)."""
    if org_type not in ORG_TYPES.get(authority, {}):
        raise ValidationError(_("登记管理部门代码“%(authority)s”下没有机构类别“%(type)s”。")
                              % {"authority": authority, "type": org_type})
    county = _county(region_code)
    scope = f"credit:{authority}{org_type}:{county}"
    while True:
        serial = _next_serial(scope)
        if serial > 99_999_999:
            raise ValidationError(_("本地区的统一社会信用代码序号已用尽,请联系系统管理员。"))
        code = _credit_code(authority, org_type, county, serial)
        validate_credit_code(code)  # the check characters above are the standard's
        if not Enterprise.objects.filter(credit_code=code).exists():
            return code


def _sex(value: Any) -> str:
    text = str(value or "").strip().lower()
    if text in ("m", "male", "男", "1"):
        return "male"
    if text in ("f", "female", "女", "2"):
        return "female"
    raise ValidationError(_("性别“%(value)s”无效,应为男或女。") % {"value": value})


def allocate_id_number(region_code: str, birth_date: date, sex: Any) -> str:
    """A new, unused 公民身份号码 (GB 11643) for a person born on ``birth_date`` and registered
    in the county of ``region_code``: the county's address code, the birth date, the next
    sequence code of that county, date and sex (odd for male, even for female; 001–899, the
    900s are the demo's made-up numbers) and the check character. Call inside a transaction."""
    county = _county(region_code)
    sex = _sex(sex)
    scope = f"id:{county}:{birth_date:%Y%m%d}:{sex[0]}"
    while True:
        serial = _next_serial(scope)
        sequence = 2 * serial - 1 if sex == "male" else 2 * serial
        if sequence > MAX_ALLOCATED_SEQUENCE:
            raise ValidationError(_("%(county)s 地区 %(date)s 出生人口的顺序码已用尽,"
                                    "请联系户籍管理部门。")
                                  % {"county": county, "date": birth_date.isoformat()})
        try:
            number = validate_id_number(generate_id_number(county, birth_date, sex,
                                                           sequence)).value
        except (InvalidIdentifier, ValueError) as exc:
            raise ValidationError(_("无法分配公民身份号码:%(problem)s")
                                  % {"problem": getattr(exc, "message", exc)}) from None
        index = blind_index(number, ID_PURPOSE)
        if not Person.objects.filter(id_number_index=index).exists():
            return number


def _claim(key: str, kind: str) -> Registration:
    """The registration of ``key``, made now (empty) or found (made before)."""
    key = str(key or "").strip()
    if not key or len(key) > 100:
        raise ValueError("a registration needs a key of 1 to 100 characters")
    found = Registration.objects.select_related("enterprise", "person").filter(key=key).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return Registration.objects.create(key=key, kind=kind)
    except IntegrityError:  # claimed by a concurrent registration with the same key
        return Registration.objects.select_related("enterprise", "person").get(key=key)


@transaction.atomic
def register_new_enterprise(*, key: str, name: str, kind: str, legal_representative: Person,
                            region_code: str, authority: str = "9", org_type: str = "2",
                            address: str = "", industry: str = "",
                            registered_capital: Decimal | None = None,
                            established_on: date | None = None,
                            synthetic: bool = False) -> tuple[Enterprise, bool]:
    """Register a new market entity with a newly allocated credit code (see
    :func:`allocate_credit_code`), once per ``key`` (e.g. ``application:<receipt number>``):
    asked again with the same key, return the entity registered then. Returns
    ``(enterprise, created)``."""
    claim = _claim(key, "enterprise")
    if claim.enterprise is not None:
        return claim.enterprise, False
    name = str(name or "").strip()[:128]
    if not name:
        raise ValidationError(_("新登记的市场主体缺少名称。"))
    enterprise = Enterprise.objects.create(
        credit_code=allocate_credit_code(region_code, authority=authority, org_type=org_type),
        name=name, kind=str(kind)[:32], industry=str(industry or "")[:32],
        legal_representative=legal_representative, region_code=str(region_code)[:12],
        address=str(address or "")[:200], registered_capital=registered_capital,
        established_on=established_on, synthetic=synthetic)
    claim.enterprise = enterprise
    claim.save(update_fields=["enterprise"])
    return enterprise, True


@transaction.atomic
def register_newborn(*, key: str, name: str, sex: Any, birth_date: date, region_code: str,
                     address: str = "", synthetic: bool = False) -> tuple[Person, bool]:
    """Register a newborn in the population registry with a newly allocated 公民身份号码 (see
    :func:`allocate_id_number`; ``region_code`` is the household's, its county gives the
    address code), once per ``key`` (one birth): asked again with the same key, return the
    person registered then. Returns ``(person, created)``."""
    claim = _claim(key, "newborn")
    if claim.person is not None:
        return claim.person, False
    name = str(name or "").strip()[:64]
    if not name:
        raise ValidationError(_("新生儿姓名不能为空。"))
    number = allocate_id_number(region_code, birth_date, sex)
    fields = _person_fields(PersonRow(name=name, id_number=number, address=str(address or ""),
                                      region_code=str(region_code)[:12], synthetic=synthetic))
    person = Person.objects.create(**fields)
    claim.person = person
    claim.save(update_fields=["person"])
    return person, True
