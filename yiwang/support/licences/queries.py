"""Reads for pages and other apps: a holder's wallet, one licence, a department's licences,
the face of a licence (its fields in the type's layout, personal values masked), its PDF."""

from __future__ import annotations

import base64
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from yiwang.support.licences import rendering
from yiwang.support.licences.holders import enterprise_codes, holder_index
from yiwang.support.licences.models import HolderKind, Licence, LicenceStatus


def with_status(qs: QuerySet[Licence], status: str) -> QuerySet[Licence]:
    """``qs`` kept to licences whose status now (:func:`.lifecycle.effective_status`) is
    ``status``: past its validity an active or suspended licence is ``expired``, so 有效
    and 已暂停 leave those out and 已过期 finds them (no row stores ``expired``)."""
    if not status:
        return qs
    current = Q(valid_until__isnull=True) | Q(valid_until__gte=timezone.localdate())
    if status == LicenceStatus.EXPIRED:
        return qs.filter(status__in=[LicenceStatus.ACTIVE, LicenceStatus.SUSPENDED],
                         valid_until__lt=timezone.localdate())
    if status in (LicenceStatus.ACTIVE, LicenceStatus.SUSPENDED):
        return qs.filter(current, status=status)
    return qs.filter(status=status)


def licences_of(user: Any, *, type_code: str = "", status: str = "",
                holder: str = "") -> QuerySet[Licence]:
    """The licences ``user`` may see in their wallet (own and their enterprises'), newest
    first; ``holder`` is ``"self"`` or a credit code to keep one holder's."""
    q = Q(pk__in=[])
    if holder in ("", "self") and user.id_number:
        q |= Q(holder_kind=HolderKind.PERSON, holder_index=holder_index(user.id_number))
    codes = enterprise_codes(user)
    if holder not in ("", "self"):
        codes &= {holder}
    if holder != "self" and codes:
        q |= Q(holder_kind=HolderKind.ENTERPRISE, credit_code__in=codes)
    qs = Licence.objects.filter(q).select_related("type")
    if type_code:
        qs = qs.filter(type__code=type_code)
    return with_status(qs, status)



def get_licence(pk: int) -> Licence | None:
    return Licence.objects.select_related("type").filter(pk=pk).first()


def has_licence(type_code: str, holder_code: str) -> bool:
    """Whether a licence of ``type_code`` was issued to the holder with this ID number or
    credit code (any status) — for idempotent loads."""
    return Licence.objects.filter(type__code=type_code,
                                  holder_index=holder_index(holder_code)).exists()


def find_by_identifier(identifier: str) -> Licence | None:
    return Licence.objects.select_related("type").filter(identifier=identifier).first()


def licences_of_department(department_code: str, *, type_code: str = "", status: str = "",
                           number: str = "") -> QuerySet[Licence]:
    """A department's licences, newest first, for its officials' lists."""
    qs = Licence.objects.filter(department_code=department_code).select_related("type")
    if type_code:
        qs = qs.filter(type__code=type_code)
    qs = with_status(qs, status)
    if number:
        qs = qs.filter(Q(number=number.strip().upper()) | Q(identifier=number.strip()))
    return qs


def face_of(licence: Licence, *, masked: bool = True,
            only: set[str] | None = None) -> list[rendering.FaceRow]:
    """The licence's fields as rows in the type's layout order (personal values masked)."""
    return rendering.face(licence.type.layout, licence.type.schema, licence.fields,
                          masked=masked, only=only)


def masked_holder(licence: Licence) -> dict[str, str]:
    """The holder's name and code as lists show them."""
    if licence.holder_kind == HolderKind.ENTERPRISE:
        return {"name": licence.holder_name, "code": licence.credit_code}
    return {"name": rendering.mask_value({"key": "name"}, licence.holder_name),
            "code": rendering.mask_value({"key": "id", "format": "id_number"},
                                         licence.holder_code)}


def pdf_bytes(licence: Licence) -> bytes:
    return base64.b64decode(licence.pdf)

