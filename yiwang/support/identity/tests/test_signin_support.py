"""Helpers shared by the sign-in tests (no tests here)."""

from __future__ import annotations

import random
import re
from typing import Any

from django.utils import timezone

from yiwang.core.identifiers.service import generate_synthetic_id_number
from yiwang.platform.registry.service import PersonRow, register_person
from yiwang.support.identity import accounts, sms
from yiwang.support.identity.models import AccountType, Level, User

PASSWORD = "correct horse battery"


def make_citizen(username: str = "zhangsan", *, phone: str = "", password: str = PASSWORD,
                 **extra: Any) -> User:
    """A citizen; with ``phone`` it is a verified phone (the SMS second factor)."""
    fields: dict[str, Any] = {"account_type": AccountType.CITIZEN, **extra}
    if phone:
        fields.update(phone=phone, phone_index=accounts.phone_index(phone),
                      phone_verified_at=timezone.now())
    return User.objects.create_user(username=username, password=password, **fields)


def make_official(username: str = "official1", *, phone: str = "13900000001") -> User:
    return make_citizen(username, phone=phone, account_type=AccountType.OFFICIAL,
                        verified_at=timezone.now(), verified_by="hr", level=Level.L2,
                        display_name="王芳")


def make_person(name: str = "李小明", seed: int = 7) -> str:
    """Put a person in the population registry; returns their ID number."""
    number = generate_synthetic_id_number(random.Random(seed), "339902")
    register_person(PersonRow(name=name, id_number=number, region_code="339902001001"))
    return number


def last_code(phone: str) -> str:
    code = sms.latest_code(phone)
    assert code is not None, "no SMS code in the outbox"
    return code


def without_tokens(html: str) -> str:
    """A page with its CSRF tokens blanked, for comparing two responses."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
