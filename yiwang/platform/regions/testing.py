"""Test helpers other apps' tests may use: synthetic geometry and a small region tree."""

from __future__ import annotations

from typing import Any

from yiwang.platform.regions import service

# A five-level chain in the demo prefecture (33 99, see docs/adr/0006-demo-city-codes.md).
PROVINCE = "330000000000"
CITY = "339900000000"
DISTRICT = "339901000000"
STREET = "339901001000"
COMMUNITY = "339901001001"


def box(min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> dict[str, Any]:
    """A GeoJSON Polygon for a lon/lat rectangle (counter-clockwise)."""
    return {"type": "Polygon", "coordinates": [[
        [min_lon, min_lat], [max_lon, min_lat], [max_lon, max_lat], [min_lon, max_lat],
        [min_lon, min_lat],
    ]]}


def make_chain(geometry: bool = True) -> dict[str, service.Region]:
    """Create province → city → district → street → community (each a nested box around
    lon 120.0–120.2, lat 30.0–30.2) and return them by level."""
    names = {PROVINCE: "示例省", CITY: "示例市", DISTRICT: "东城区", STREET: "东湖街道",
             COMMUNITY: "湖畔社区"}
    margins = {PROVINCE: 0.4, CITY: 0.3, DISTRICT: 0.2, STREET: 0.1, COMMUNITY: 0.0}
    made = {}
    for code, name in names.items():
        m = margins[code]
        region = service.create_region(
            code, name, geometry=box(120.0 - m, 30.0 - m, 120.2 + m, 30.2 + m) if geometry
            else None,
        )
        made[region.level] = region
    return made


def tile_grids(community: str, nx: int, ny: int, *, lon0: float = 120.0, lat0: float = 30.0,
               step: float = 0.01) -> list[dict[str, Any]]:
    """Rows for ``service.load_grids``: an nx × ny tiling of squares of ``step`` degrees,
    numbered row by row from the south-west corner (001, 002, …)."""
    rows = []
    for j in range(ny):
        for i in range(nx):
            number = j * nx + i + 1
            rows.append({
                "code": f"{community}{number:03d}",
                "name": f"第{number}网格",
                "geometry": box(lon0 + i * step, lat0 + j * step, lon0 + (i + 1) * step,
                                lat0 + (j + 1) * step),
            })
    return rows
