"""The demo loader of the trust core is idempotent."""

from __future__ import annotations

import json
from typing import Any

import pytest

from yiwang.core.crypto import service as crypto
from yiwang.demo.trust import load_trust
from yiwang.support.trust import service as trust

pytestmark = pytest.mark.django_db


def _progress(label: str, total: int) -> Any:
    return lambda n: None


def test_load_trust_twice(city: Any) -> None:
    first = load_trust(_progress)
    assert first["published"] == 1 and first["issuers"] == ["rsj", "scjg"]
    keys = {k.id for k in crypto.list_signing_keys()}
    certificates = {c.serial for c in trust.list_certificates()}
    second = load_trust(_progress)
    assert second["published"] is None
    assert {k.id for k in crypto.list_signing_keys()} == keys
    assert {c.serial for c in trust.list_certificates()} == certificates
    document = json.loads(trust.current_trust_list())
    names = {issuer["name"]: issuer for issuer in document["issuers"]}
    assert set(names) == {"市场监管局", "人社局"}
    assert names["市场监管局"]["licenceTypes"] == ["business_licence"]
    assert len(names["市场监管局"]["keys"]) == 2
