"""Credit subjects (信用主体) and the helpers every part of the credit platform shares: who a
code names, whose subjects a signed-in person may speak for, the ledger and errors.

A unified social credit code (GB 32100) names an enterprise, an organisation or — with the
organisation type ``2`` of the market regulator (``92…``) — an individual business (个体工商户);
an ID number (GB 11643) names a natural person, kept encrypted with a blind index for look-up.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from yiwang.core.crypto.service import blind_index
from yiwang.core.identifiers.service import (
    InvalidIdentifier,
    validate_credit_code,
    validate_id_number,
)
from yiwang.core.masking.service import mask_id_number, mask_name
from yiwang.enablement.ledger import service as ledger
from yiwang.support.credit.models import Subject, SubjectKind
from yiwang.support.identity import service as identity

ID_PURPOSE = "credit.id_number"


def error(message: str, code: str, field: str | None = None) -> ValidationError:
    """A ``ValidationError`` with ``code``, on ``field`` when given."""
    found = ValidationError(message, code=code)
    return ValidationError({field: [found]}) if field else found


def parse_code(code: str) -> tuple[str, str, str]:
    """``(key, kind, normalised code)`` of a credit code or an ID number; raises a
    ``ValidationError`` on ``code`` that says what is wrong."""
    text = (code or "").strip().upper()
    if not text:
        raise error(_("请填写统一社会信用代码或身份证件号码。"), "required", "code")
    if len(text) == 18 and not text[:17].isdigit():
        return _credit(text)
    try:
        number = validate_id_number(text).value
    except InvalidIdentifier as exc:
        try:
            return _credit(text)
        except ValidationError:
            raise error(_("不是有效的统一社会信用代码或公民身份号码:%(why)s") % {
                "why": exc.message}, "invalid", "code") from None
    return "P" + blind_index(number, ID_PURPOSE)[:63], SubjectKind.PERSON, number


def _credit(text: str) -> tuple[str, str, str]:
    try:
        found = validate_credit_code(text)
    except InvalidIdentifier as exc:
        raise error(_("统一社会信用代码无效:%(why)s") % {"why": exc.message}, "invalid",
                    "code") from None
    kind = (SubjectKind.BUSINESS if found.authority == "9" and found.org_type == "2"
            else SubjectKind.LEGAL)
    return found.value, kind, found.value


def key_of(code: str) -> str | None:
    """The subject key of a code, or None when it is not a valid code."""
    try:
        return parse_code(code)[0]
    except ValidationError:
        return None


def check_subject(code: str, name: str) -> None:
    """Raise a ``ValidationError`` per field when ``code`` or ``name`` cannot name a
    subject (a new subject needs its name); creates nothing."""
    errors: dict[str, list[str]] = {}
    key = None
    try:
        key = parse_code(code)[0]
    except ValidationError as exc:
        errors.update(exc.message_dict)
    name = (name or "").strip()
    if len(name) > 128:
        errors["name"] = [_("名称不能超过 128 个字。")]
    elif not name and (key is None or not Subject.objects.filter(key=key).exists()):
        errors["name"] = [_("请填写行政相对人名称。")]
    if errors:
        raise ValidationError(errors)


def subject_for(code: str, name: str, *, region_code: str = "") -> Subject:
    """The subject a credit code or ID number names, created on first use with ``name``
    (a person's name is stored encrypted and published masked)."""
    check_subject(code, name)
    key, kind, value = parse_code(code)
    name = (name or "").strip()
    found = Subject.objects.filter(key=key).first()
    if found is not None:
        return found
    person = kind == SubjectKind.PERSON
    fields = {
        "kind": kind, "name": name,
        "name_masked": mask_name(name) if person else name,
        "credit_code": "" if person else value,
        "id_number": value if person else "",
        "code_masked": mask_id_number(value) if person else value,
        "region_code": region_code or (value[:6] if person else value[2:8]),
    }
    try:
        with transaction.atomic():
            return Subject.objects.create(key=key, **fields)
    except IntegrityError:  # created meanwhile by another request
        return Subject.objects.get(key=key)


def find_subject(code: str) -> Subject | None:
    key = key_of(code)
    return Subject.objects.filter(key=key).first() if key else None


def codes_of(user: Any) -> list[str]:
    """The codes whose credit a signed-in person may see and dispute: their own ID number
    and the enterprises they represent or manage for (mandates with the manage scope)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    codes = []
    if getattr(user, "id_number", ""):
        codes.append(user.id_number)
    codes += [a.credit_code for a in identity.acting_identities(user)
              if a.is_representative or a.may_manage]
    return codes


def subjects_of(user: Any) -> list[Subject]:
    keys = [k for k in (key_of(c) for c in codes_of(user)) if k]
    return list(Subject.objects.filter(key__in=keys).order_by("kind", "id"))


def may_write(actor: Any, authority_code: str) -> bool:
    """Whether ``actor`` may write for ``authority_code``: a system write (no actor), a
    superuser, or a member of that department."""
    if actor is None or getattr(actor, "is_superuser", False):
        return True
    from yiwang.platform.orgs import service as orgs

    return authority_code in orgs.unit_codes_of(actor)


def digest(values: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a record's public fields (what the ledger holds)."""
    text = json.dumps(values, ensure_ascii=False, sort_keys=True, default=str,
                      separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def on_ledger(entry_type: str, record: dict[str, Any]) -> str:
    """Append a credit event to the ledger (ids, codes of authorities and hashes only)."""
    return ledger.append(entry_type, record).record_hash
