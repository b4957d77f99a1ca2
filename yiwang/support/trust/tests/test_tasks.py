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


def test_republishes_when_the_crl_in_the_list_is_no_longer_current(city: Any,
                                                                   settings: Any) -> None:
    """Partners take this region's CRL from its list: a revocation, or a CRL past half of
    its validity, makes the hourly task publish a list carrying the current CRL."""
    from yiwang.support.trust.models import RevocationList

    key = crypto.create_signing_key(owner="scjg", purpose="seal", algorithm="ecdsa-p256")
    certificate = trust.certify_key(key.id, department_code="scjg", usage="seal")
    assert tasks.republish_trust_list()["published"] is True
    assert tasks.republish_trust_list()["published"] is False

    trust.revoke_certificate(certificate.serial, reason="key_compromise")
    assert tasks.republish_trust_list() == {"published": True, "sequence": 2}
    assert tasks.republish_trust_list()["published"] is False

    half = timedelta(hours=settings.YIWANG_PKI_CRL_VALID_HOURS) / 2
    latest = RevocationList.objects.order_by("-number").first()
    assert latest is not None
    RevocationList.objects.filter(pk=latest.pk).update(
        this_update=latest.this_update - half - timedelta(minutes=1))
    assert tasks.republish_trust_list() == {"published": True, "sequence": 3}
    assert RevocationList.objects.order_by("-number").first().number == latest.number + 1
    assert tasks.republish_trust_list()["published"] is False
