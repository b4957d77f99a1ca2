"""Periodic jobs of the uploads app."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from yiwang.core.tasks.service import periodic


@periodic(name="uploads.purge_unclaimed", every=timedelta(hours=1))
def purge_unclaimed() -> int:
    """Delete uploads no submission claimed within YIWANG_UPLOADS_UNCLAIMED_HOURS."""
    from yiwang.core.uploads import service

    hours = int(getattr(settings, "YIWANG_UPLOADS_UNCLAIMED_HOURS", 24))
    return service.purge_unclaimed(timedelta(hours=hours))
