"""The hourly task keeps the published trust list current."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from yiwang.core.crypto import service as crypto
from yiwang.support.trust import service as trust
from yiwang.support.trust import tasks


def test_republishes_only_when_the_list_is_missing_changed_or_half_expired(
        city: Any, settings: Any) -> None:
    key = crypto.create_signing_key(owner="scjg", purpose="licence.vc", algorithm="ed25519")
    trust.certify_key(key.id, department_code="scjg", usage="licence")
    trust.authorise_issuer("scjg", "yyzz")

    assert tasks.republish_trust_list() == {"published": True, "sequence": 1}
    assert tasks.republish_trust_list() == {"published": False, "sequence": 1}

    trust.authorise_issuer("scjg", "csyxzm")  # what the region trusts changed
    assert tasks.republish_trust_list() == {"published": True, "sequence": 2}

    # Past half of its validity, the same content is signed again with a new date.
    version = trust.current_version()
    assert version is not None
    half = timedelta(days=settings.YIWANG_TRUST_LIST_VALID_DAYS) / 2
    type(version).objects.filter(pk=version.pk).update(
        issued_at=timezone.now() - half - timedelta(minutes=1))
    assert tasks.republish_trust_list() == {"published": True, "sequence": 3}
    assert tasks.republish_trust_list()["published"] is False
