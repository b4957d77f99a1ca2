"""Test helpers other apps' tests may use: a small city with a department, a water-level
sensor type, devices on its grids and a threshold rule."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from yiwang.platform.orgs import service as orgs
from yiwang.platform.perception import service
from yiwang.platform.regions import service as regions
from yiwang.platform.regions import testing as region_testing

WATER = "water_level"
DEPARTMENT = "swj"  # 水务局
OTHER_DEPARTMENT = "cgj"  # 城管局


@dataclass
class City:
    regions: dict[str, Any]
    department: Any
    other_department: Any
    device_type: Any


def make_city() -> City:
    """Province → community with 4 × 4 grids (lon 120.00–120.04, lat 30.00–30.04), the
    water bureau and the city-management bureau, and a water-level sensor type."""
    chain = region_testing.make_chain()
    regions.load_grids(region_testing.tile_grids(region_testing.COMMUNITY, 4, 4))
    water = orgs.create_department(DEPARTMENT, "示例市水务局", region_code=region_testing.CITY)
    other = orgs.create_department(OTHER_DEPARTMENT, "示例市城市管理局",
                                   region_code=region_testing.CITY)
    device_type = service.create_device_type(
        WATER, "水位计", [{"key": "level", "name": "水位", "unit": "m", "min": -5, "max": 50},
                       {"key": "battery", "name": "电量", "unit": "%", "min": 0, "max": 100}],
        name_en="Water level gauge", interval_seconds=60)
    return City(chain, water, other, device_type)


def make_device(code: str = "WL-001", *, lon: float = 120.005, lat: float = 30.005,
                department: str = DEPARTMENT, **extra: Any) -> Any:
    return service.register_device(code, f"水位计{code}", type_code=WATER,
                                   department_code=department, lon=lon, lat=lat, **extra)


def now_ms() -> int:
    return int(time.time() * 1000)
