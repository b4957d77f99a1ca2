"""Background work of the trust app (discovered by the tasks app): keep the published trust
list current, so verifiers elsewhere never meet an expired one, and the imported ones too,
fetched again from where their regions publish them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from yiwang.core.tasks.service import periodic
from yiwang.support.trust import service


@periodic(name="trust.republish_trust_list", every=timedelta(hours=1))
def republish_trust_list() -> dict[str, Any]:
    """Publish a new version when the newest one no longer says what this instance trusts
    (issuers, keys, authorisations changed) or is past half of its validity; else nothing."""
    if not service.trust_list_outdated():
        current = service.current_version()
        return {"published": False, "sequence": getattr(current, "sequence", None)}
    version = service.publish_trust_list(actor=None)
    return {"published": True, "sequence": version.sequence}


@periodic(name="trust.refresh_imported_lists", every=timedelta(hours=1))
def refresh_imported_lists() -> dict[str, Any]:
    """Fetch each imported region's list from its source URL and import a newer version
    under the pinned root (never a root change); region code → outcome."""
    return {"regions": service.refresh_imported_lists(actor=None)}
