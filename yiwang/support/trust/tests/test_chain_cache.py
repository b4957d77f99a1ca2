"""chain_for_key keeps chains per process by their leaf's serial (a stored certificate's DER
never changes) but reads which leaf is the key's current one on every call: a revocation
or a renewal is seen by the very next call, as when nothing was kept."""

from __future__ import annotations

from typing import Any

import pytest

from yiwang.core.crypto import service as crypto
from yiwang.support.trust import service as trust

pytestmark = pytest.mark.django_db


def test_a_revoked_or_renewed_certificate_is_seen_at_once(city: Any) -> None:
    key = crypto.create_signing_key(owner="scjg", purpose="seal", algorithm="ecdsa-p256")
    first = trust.certify_key(key.id, department_code="scjg", usage="seal")
    assert trust.chain_for_key(key.id)[0] == first.der
    assert trust.chain_for_key(key.id)[0] == first.der  # kept
    trust.revoke_certificate(first.serial, reason="superseded")
    assert trust.chain_for_key(key.id) == []
    second = trust.certify_key(key.id, department_code="scjg", usage="seal")
    chain = trust.chain_for_key(key.id)
    assert chain[0] == second.der and len(chain) == 2
