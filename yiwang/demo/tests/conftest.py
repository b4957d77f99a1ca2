"""Fixtures of the demo's tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_process_caches() -> None:
    """The demo loads service versions: those another test of this process kept (keyed by
    a primary key that a rolled-back test may reuse) must not stand in for them."""
    from django.core.cache import cache

    from yiwang.industry.applications.testing import forget_process_caches

    cache.clear()
    forget_process_caches()
