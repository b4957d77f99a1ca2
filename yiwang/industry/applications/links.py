"""Links to an application in notifications: the applicant's portal pages, the officials'
workbench detail (review L7).

A notification is stored once and read later, in whatever language its reader uses, so its
link is the language-neutral path — reversed under the default language, which has no
prefix (``prefix_default_language=False``) — never the ``/en/`` path of whoever happened to
cause it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import translation

PUBLIC_URLCONF = "yiwang.urls.public"
INTERNAL_URLCONF = "yiwang.urls.internal"


def _neutral(name: str, pk: int, urlconf: str) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return reverse(name, args=[pk], urlconf=urlconf)


def applicant_link(app: Any) -> str:
    """The applicant's progress page (portal)."""
    return _neutral("applications_portal:detail", app.pk, PUBLIC_URLCONF)


def correction_link(app: Any) -> str:
    """The applicant's correction page (portal)."""
    return _neutral("applications_portal:correct", app.pk, PUBLIC_URLCONF)


def official_link(app: Any) -> str:
    """The application's detail in the officials' workbench (internal zone)."""
    return _neutral("workbench:applications_detail", app.pk, INTERNAL_URLCONF)


def evaluation_link(evaluation: Any) -> str:
    """An evaluation and its follow-up in the officials' workbench (internal zone)."""
    return _neutral("workbench:evaluation", evaluation.pk, INTERNAL_URLCONF)
