"""Guardianship (监护关系): who is the legal guardian of whom, on what basis and until when.

A guardianship links a guardian and a ward, both persons of the population registry. For a
minor it ends on the ward's 18th birthday (the date of birth is the one in the ward's
公民身份号码); it may also be ended early (a court's decision, a change of guardian). Only
a *current* guardianship counts (:func:`wards_of`): begun, not ended, the ward under 18 on
the day asked about. Recording and ending are audited by record id only (no names or ID
numbers in the audit detail or the logs).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import service as audit
from yiwang.core.crypto.service import blind_index
from yiwang.core.identifiers.service import InvalidIdentifier, validate_id_number
from yiwang.platform.registry.models import GuardianKind, Guardianship, Person

ADULT_AGE = 18
BASIS_MAX = 64
_ID_PURPOSE = "registry.person.id_number"  # the same as service.ID_PURPOSE


def _resolve(value: Any) -> Person | None:
    """A person of the registry given as a Person or an ID number; None when not found or
    the number is not valid."""
    if isinstance(value, Person):
        return value
    try:
        number = validate_id_number(str(value or "")).value
    except (InvalidIdentifier, ValueError):
        return None
    return Person.objects.filter(id_number_index=blind_index(number, _ID_PURPOSE)).first()


def birth_date_of(person: Person) -> date:
    """The person's date of birth, from their 公民身份号码."""
    return validate_id_number(person.id_number).birth_date


def adult_on(person: Person) -> date:
    """The day ``person`` turns 18 (born on 29 February: 1 March of a common year)."""
    born = birth_date_of(person)
    try:
        return born.replace(year=born.year + ADULT_AGE)
    except ValueError:
        return date(born.year + ADULT_AGE, 3, 1)


def _current(on: date) -> Q:
    return (Q(starts_on__lte=on, ends_on__gt=on)
            & (Q(ended_on__isnull=True) | Q(ended_on__gt=on)))


@transaction.atomic
def record_guardianship(guardian: Any, ward: Any, *, kind: str = GuardianKind.PARENT,
                        basis: str, reference: str = "", starts_on: date | None = None,
                        ends_on: date | None = None,
                        actor: Any = None) -> tuple[Guardianship, bool]:
    """Record that ``guardian`` is the legal guardian of the minor ``ward`` (each a
    :class:`Person` or an ID number in the registry) from ``starts_on`` (today) until
    ``ends_on`` — the ward's 18th birthday, and never later. Idempotent: while an unended
    guardianship of the pair exists, that one is returned. Returns ``(record, created)``."""
    guardian_person, ward_person = _resolve(guardian), _resolve(ward)
    if guardian_person is None:
        raise ValidationError(_("人口库中没有监护人的公民身份号码,无法登记监护关系。"))
    if ward_person is None:
        raise ValidationError(_("人口库中没有被监护人的公民身份号码,无法登记监护关系。"))
    if guardian_person.pk == ward_person.pk:
        raise ValidationError(_("监护人与被监护人不能是同一人。"))
    if kind not in GuardianKind.values:
        raise ValidationError(_("监护类型“%(kind)s”无效,应为父母或其他法定监护人。")
                              % {"kind": kind})
    basis = str(basis or "").strip()
    if not basis or len(basis) > BASIS_MAX:
        raise ValidationError(_("请填写监护依据(如出生登记),不超过 %(max)s 个字。")
                              % {"max": BASIS_MAX})
    reference = str(reference or "").strip()[:64]
    starts_on = starts_on or timezone.localdate()
    adult = adult_on(ward_person)
    ends_on = min(ends_on or adult, adult)
    if ends_on <= starts_on:
        raise ValidationError(_("被监护人在监护开始之日已满 18 周岁(或终止日期不晚于开始日期),"
                                "不能登记未成年人监护关系。"))
    found = (Guardianship.objects.select_for_update()
             .filter(guardian=guardian_person, ward=ward_person, ended_on__isnull=True).first())
    if found is not None:
        return found, False
    try:
        with transaction.atomic():
            made = Guardianship.objects.create(
                guardian=guardian_person, ward=ward_person, kind=kind, basis=basis,
                reference=reference, starts_on=starts_on, ends_on=ends_on)
    except IntegrityError:  # recorded by a concurrent call for the same pair
        return Guardianship.objects.get(guardian=guardian_person, ward=ward_person,
                                        ended_on__isnull=True), False
    audit.record("registry.guardianship_recorded", made, actor=actor,
                 detail={"kind": kind, "basis": basis, "reference": reference,
                         "starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()})
    return made, True


def wards_of(person_or_id_number: Any, *, on: date | None = None) -> list[Guardianship]:
    """The current guardianships of a guardian (a :class:`Person` or an ID number) on ``on``
    (today): begun, not ended, the ward under 18. Each has its ``ward`` loaded; show the
    ward masked (``masked_person``)."""
    guardian = _resolve(person_or_id_number)
    if guardian is None:
        return []
    on = on or timezone.localdate()
    rows = (Guardianship.objects.select_related("ward")
            .filter(_current(on), guardian=guardian).order_by("ward_id", "id"))
    return [g for g in rows if adult_on(g.ward) > on]


def guardianship_of(guardian: Any, ward: Any, *, on: date | None = None) -> Guardianship | None:
    """The current guardianship of ``guardian`` over ``ward`` on ``on`` (today), or None."""
    ward_person = _resolve(ward)
    if ward_person is None:
        return None
    return next((g for g in wards_of(guardian, on=on) if g.ward_id == ward_person.pk), None)


@transaction.atomic
def end_guardianship(guardian: Any, ward: Any, *, reason: str, on: date | None = None,
                     actor: Any = None) -> Guardianship:
    """End the unended guardianship of ``guardian`` over ``ward`` on ``on`` (today): from
    that day the guardian no longer acts for the ward. Audited."""
    reason = str(reason or "").strip()
    if not reason:
        raise ValidationError(_("请填写终止监护关系的原因。"))
    guardian_person, ward_person = _resolve(guardian), _resolve(ward)
    found = None
    if guardian_person is not None and ward_person is not None:
        found = (Guardianship.objects.select_for_update()
                 .filter(guardian=guardian_person, ward=ward_person, ended_on__isnull=True)
                 .first())
    if found is None:
        raise ValidationError(_("没有可终止的监护关系。"))
    on = on or timezone.localdate()
    if on < found.starts_on:
        raise ValidationError(_("终止日期不能早于监护开始日期 %(date)s。")
                              % {"date": found.starts_on.isoformat()})
    found.ended_on = on
    found.end_reason = reason[:200]
    found.save(update_fields=["ended_on", "end_reason"])
    audit.record("registry.guardianship_ended", found, actor=actor,
                 detail={"ended_on": on.isoformat(), "reason": found.end_reason})
    return found


def status_of(record: Guardianship, *, on: date | None = None) -> str:
    """``current``, ``ended`` (ended early), ``adult`` (the ward turned 18 / the term ran
    out) or ``future`` (begins later) on ``on`` (today)."""
    on = on or timezone.localdate()
    if record.ended_on is not None and record.ended_on <= on:
        return "ended"
    if record.ends_on <= on:
        return "adult"
    if record.starts_on > on:
        return "future"
    return "current"


def guardianships_involving(person: Person) -> tuple[list[Guardianship], list[Guardianship]]:
    """Every guardianship record of ``person``, ended ones included, newest first: those where
    they are the guardian (each with its ``ward`` loaded) and those where they are the ward
    (each with its ``guardian`` loaded). Two queries; show the other party masked."""
    as_guardian = list(Guardianship.objects.select_related("ward")
                       .filter(guardian=person).order_by("-starts_on", "-id"))
    as_ward = list(Guardianship.objects.select_related("guardian")
                   .filter(ward=person).order_by("-starts_on", "-id"))
    return as_guardian, as_ward
