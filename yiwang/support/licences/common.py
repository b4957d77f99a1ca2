"""Small helpers shared by the licences modules (not part of the app's facade)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

HOLDER_INDEX = "licences.holder"
REASON_MAX_LENGTH = 200
SHARE_CHOICES_HOURS = (1, 24, 24 * 7, 24 * 30)
MAX_DISCLOSED = 20


def error(message: str, error_code: str, /, **params: Any) -> ValidationError:
    """A ``ValidationError`` with a code and its parameters (Chinese, actionable message)."""
    return ValidationError(message, code=error_code, params=params or None)


def public_url() -> str:
    """This instance's public address, without a trailing slash."""
    return str(settings.YIWANG_PUBLIC_URL).rstrip("/")
