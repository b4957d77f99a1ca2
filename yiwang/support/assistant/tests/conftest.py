"""The credit test helpers make officials for the agent tests (make_credit's departments)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _departments(db: Any) -> None:
    from yiwang.platform.orgs import service as orgs
    from yiwang.platform.regions.testing import CITY, make_chain

    make_chain(geometry=False)
    orgs.create_department("fgw", "示例市发展和改革委员会", region_code=CITY)
