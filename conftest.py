"""Fixtures shared by the whole suite."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from hypothesis import settings as hypothesis_settings

from yiwang.platform.zones.testing import ListenerClient


@pytest.fixture
def public_client() -> Client:
    """A browser talking to the public listener (政务外网)."""
    return ListenerClient(settings.YIWANG_PUBLIC_PORT)


@pytest.fixture
def internal_client() -> Client:
    """A browser talking to the internal listener (政务内网)."""
    return ListenerClient(settings.YIWANG_INTERNAL_PORT)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """Let the test runner empty the audit table between transactional tests on SQLite.

    Django flushes SQLite tables with DELETE, which the append-only trigger refuses unless
    the maintenance window is open (PostgreSQL flushes with TRUNCATE, which row triggers
    do not see). Tests of the trigger close the window inside their own transaction.
    """
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("INSERT INTO audit_maintenance (open) VALUES (1)")


@pytest.fixture(autouse=True)
def _default_language():  # type: ignore[no-untyped-def]
    """Each test starts in the default language: a request under /en/ leaves English
    active in the thread, which would leak into the next test's request-free rendering."""
    from django.utils import translation

    yield
    translation.activate(settings.LANGUAGE_CODE)


# Property tests check correctness, not speed: a busy CI machine must not fail them.
hypothesis_settings.register_profile("yiwang", deadline=None)
hypothesis_settings.load_profile("yiwang")
