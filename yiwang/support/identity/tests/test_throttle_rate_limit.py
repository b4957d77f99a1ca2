"""identity.service.rate_limit: a fixed-window budget per key (review 2026-11-27 session 2, M5)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from yiwang.support.identity import service as identity
from yiwang.support.identity.models import AuthThrottle

pytestmark = pytest.mark.django_db


def test_allows_up_to_the_limit_per_key_then_refuses_until_the_window_ends() -> None:
    assert [identity.rate_limit("ocr:user:7", limit=3, window=600) for _ in range(4)] == [
        True, True, True, False]
    assert identity.rate_limit("ocr:user:8", limit=3, window=600)
    # The key is not stored in clear (it may hold an address).
    assert not AuthThrottle.objects.filter(key__contains="user").exists()
    AuthThrottle.objects.update(window_started_at=timezone.now() - timedelta(minutes=11))
    assert identity.rate_limit("ocr:user:7", limit=3, window=timedelta(minutes=10))


def test_a_limit_of_zero_allows_everything() -> None:
    assert all(identity.rate_limit("x", limit=0, window=60) for _ in range(5))
