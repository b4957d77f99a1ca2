"""Builders shared by the enterprise and account-administration tests (no tests here)."""

from __future__ import annotations

import itertools
import random
from typing import Any

from django.utils import timezone

from yiwang.core.crypto.service import blind_index
from yiwang.core.identifiers.service import generate_credit_code, generate_synthetic_id_number
from yiwang.platform.registry import service as registry
from yiwang.support.identity.models import AccountType, Level, User

PASSWORD = "correct horse battery staple"
_rng = random.Random(20260301)
_seq = itertools.count(1)


def new_id_number() -> str:
    return generate_synthetic_id_number(_rng, "110101")


def new_credit_code() -> str:
    return generate_credit_code("110101", rng=_rng)


def citizen(username: str, *, real_name: str = "", level: int = Level.L2,
            id_number: str | None = None, phone: str = "",
            in_registry: bool = True) -> User:
    """A citizen's account; L2 ones carry a verified ID number that the population
    registry knows (unless ``in_registry`` is False)."""
    user = User.objects.create_user(username=username, password=PASSWORD)
    user.account_type = AccountType.CITIZEN
    user.display_name = real_name or f"测试{next(_seq)}"
    if phone:
        user.phone = phone
        user.phone_index = blind_index(phone, "identity.phone")
        user.phone_verified_at = timezone.now()
    if level >= Level.L2:
        number = id_number or new_id_number()
        user.real_name = user.display_name
        user.id_number = number
        user.id_number_index = blind_index(number, "identity.id_number")
        user.level = Level.L2
        user.verified_at = timezone.now()
        user.verified_by = "registry"
        if in_registry:
            registry.register_person(registry.PersonRow(name=user.display_name,
                                                        id_number=number,
                                                        region_code="110101001001"))
    user.save()
    return user


def registry_enterprise(representative: User | None, *, name: str = "示例市湖畔科技有限公司",
                        status: str = "active", credit_code: str = "") -> Any:
    """An enterprise in the legal-entity registry represented by ``representative`` (or by
    somebody else, when None)."""
    if representative is None:
        number = new_id_number()
        registry.register_person(registry.PersonRow(name="他人", id_number=number,
                                                    region_code="110101001001"))
    else:
        number = representative.id_number
    enterprise = registry.register_enterprise(
        credit_code=credit_code or new_credit_code(), name=name, kind="有限责任公司",
        legal_representative=registry.find_person(number), region_code="110101001",
    )
    if status != "active":
        type(enterprise).objects.filter(pk=enterprise.pk).update(status=status)
        enterprise.refresh_from_db()
    return enterprise
