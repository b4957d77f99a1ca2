"""Test helpers of the demo: the demo city's departments and posts without the rest of it."""

from __future__ import annotations

import random
from typing import Any


def make_demo_departments(*, credit_codes: random.Random | None = None) -> None:
    """The region chain, every demo department (with its English name and posts) and the
    licence catalogue — what the service packs need to load. ``credit_codes``: a random
    source to give each department a unified social credit code."""
    from yiwang.core.identifiers.service import generate_credit_code
    from yiwang.demo import population
    from yiwang.platform.orgs import service as orgs
    from yiwang.platform.regions import testing as regions_testing
    from yiwang.support.licences import service as licences

    regions_testing.make_chain(geometry=False)
    for spec in population.DEPARTMENTS:
        extra: dict[str, Any] = {}
        if credit_codes is not None:
            extra["credit_code"] = generate_credit_code("339900", rng=credit_codes)
        orgs.create_department(spec.code, spec.name, name_en=spec.name_en,
                               region_code=regions_testing.CITY, **extra)
        for code, name in spec.positions:
            orgs.create_position(spec.code, code=code, name=name)
    licences.load_catalogue()
