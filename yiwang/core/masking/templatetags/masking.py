"""Template filters: ``{% load masking %}`` then ``{{ person.phone|mask_phone }}``.

Empty values render as an empty string; other non-text values are converted to text first.
The output is not marked safe, so autoescaping still applies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import template

from yiwang.core.masking import service

register = template.Library()


def _safely(mask: Callable[[str], str], value: Any) -> str:
    if value is None or value == "":
        return ""
    return mask(str(value))


@register.filter
def mask_id(value: Any) -> str:
    """Resident ID number: ``110101********7777``."""
    return _safely(service.mask_id_number, value)


@register.filter
def mask_phone(value: Any) -> str:
    """Mobile number: ``138****5678``."""
    return _safely(service.mask_phone, value)


@register.filter
def mask_name(value: Any) -> str:
    """Name: ``张*``."""
    return _safely(service.mask_name, value)


@register.filter
def mask_address(value: Any) -> str:
    """Address: ``北京市朝阳区****``."""
    return _safely(service.mask_address, value)
