"""Helpers for tests and benchmarks that set up officials who handle applications."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Permission


def grant_handling(user: Any) -> None:
    """Give ``user`` the 办理办件 permission (``applications.handle_application``), which the
    workbench pages and the internal API both require."""
    user.user_permissions.add(Permission.objects.get(content_type__app_label="applications",
                                                     codename="handle_application"))


def forget_process_caches() -> None:
    """Drop what this process keeps of service versions (keyed by a primary key that a
    rolled-back test may reuse for another version)."""
    from yiwang.industry.applications import integration

    integration.forget_versions()
