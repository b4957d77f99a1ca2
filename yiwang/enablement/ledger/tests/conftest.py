"""Fixtures of the ledger tests."""

from __future__ import annotations

import pytest

from yiwang.enablement.ledger import tiles


@pytest.fixture(autouse=True)
def ledger_settings(settings):  # type: ignore[no-untyped-def]
    settings.YIWANG_LEDGER_LOGS = ["main", "gm:sm3"]
    settings.YIWANG_LEDGER_ORIGIN = "ledger.test.gov.cn"
    settings.YIWANG_LEDGER_ANCHOR = "none"
    tiles.clear_cache()
    yield settings
    tiles.clear_cache()


@pytest.fixture
def departments(db):  # type: ignore[no-untyped-def]
    from yiwang.platform.orgs import service as orgs
    from yiwang.platform.regions.testing import CITY, make_chain

    make_chain(geometry=False)
    orgs.create_department("scjgj", "市场监管局", region_code=CITY)
    orgs.create_department("gaj", "公安局", region_code=CITY)
    return ["gaj", "scjgj"]
