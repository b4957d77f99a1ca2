"""The ledger's demo loader is idempotent."""

from __future__ import annotations

import pytest

from yiwang.enablement.ledger import service
from yiwang.enablement.ledger.models import Checkpoint, Cosignature

pytestmark = pytest.mark.django_db


def test_load_ledger_twice(departments) -> None:
    from yiwang.demo import ledger as demo
    from yiwang.platform.orgs import service as orgs
    from yiwang.platform.regions.testing import CITY

    orgs.create_department("zwfw", "政务服务中心", region_code=CITY)
    service.append_many([("licence.issued", {"licence": f"L-{i}"}) for i in range(5)])
    calls: list[str] = []
    demo.load_ledger(lambda name, total: (calls.append(name), lambda n: None)[1])
    assert [w.department for w in service.witnesses()] == ["gaj", "zwfw"]
    assert service.latest_checkpoint().cosigners == ["gaj", "zwfw"]
    demo.load_ledger(lambda name, total: lambda n: None)
    assert Checkpoint.objects.count() == 1 and Cosignature.objects.count() == 2
    assert calls == ["账本 ledger"]
