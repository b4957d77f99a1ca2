"""Fixtures shared by the whole suite."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from yiwang.platform.zones.testing import ListenerClient


@pytest.fixture
def public_client() -> Client:
    """A browser talking to the public listener (政务外网)."""
    return ListenerClient(settings.YIWANG_PUBLIC_PORT)


@pytest.fixture
def internal_client() -> Client:
    """A browser talking to the internal listener (政务内网)."""
    return ListenerClient(settings.YIWANG_INTERNAL_PORT)
