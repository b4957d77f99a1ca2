"""一网统管 in the demo city: the standard case categories and who answers for them, the
command centre's people (dispatchers, grid inspectors on duty for the grids, the cockpit's
leaders, a 12345 operator), sensors with their alarm rules, the GIS layers of city
components and points of interest, and an Open311 client. Idempotent, from a fixed seed.
Thirty days of city life are added by ``yiwang simulate city`` (the demo runs it once).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from yiwang.demo import geography
from yiwang.industry.city import service as city
from yiwang.platform.orgs import service as orgs
from yiwang.platform.perception import service as perception
from yiwang.platform.regions import service as regions
from yiwang.support.gis import service as gis

Progress = Callable[[str, int], Callable[[int], None]]
SEED = "city"

#: (category code, department) — city-wide responsibilities for the standard table
ANSWERS = [
    ("city.c.public", "cgj"), ("city.c.public.water_pipe", "slj"),
    ("city.c.public.hydrant", "gaj"), ("city.c.traffic", "zjj"), ("city.c.environment", "cgj"),
    ("city.c.greening", "cgj"), ("city.e.environment", "cgj"),
    ("city.e.environment.sewage", "slj"), ("city.e.environment.waste_water", "slj"),
    ("city.e.ads", "cgj"), ("city.e.construction", "zjj"), ("city.e.emergency", "gaj"),
    ("city.e.emergency.waterlogging", "slj"), ("city.e.street_order", "cgj"),
    ("city.e.other", "cgj"), ("city.e.other.noise", "sthj"),
]
GROUPS = {
    "城管指挥中心": ["city.dispatch_case", "perception.view_device", "perception.change_alarm",
               "ai.change_detection"],
    "网格监督员": ["city.verify_case"],
    "12345 话务员": ["city.take_calls"],
    "数字驾驶舱": ["city.view_cockpit"],
    "感知设备管理员": ["perception.view_device", "perception.change_device",
                "perception.change_alarm"],
}
DEVICE_TYPES = [
    ("water_level", "积水监测仪", "Waterlogging gauge", 300,
     [{"key": "level", "name": "积水深度", "unit": "cm", "min": 0, "max": 300},
      {"key": "battery", "name": "电量", "unit": "%", "min": 0, "max": 100}]),
    ("manhole", "井盖监测器", "Manhole cover sensor", 600,
     [{"key": "tilt", "name": "倾角", "unit": "°", "min": 0, "max": 90},
      {"key": "battery", "name": "电量", "unit": "%", "min": 0, "max": 100}]),
    ("air", "空气质量监测站", "Air quality station", 300,
     [{"key": "pm25", "name": "PM2.5", "unit": "μg/m³", "min": 0, "max": 1000},
      {"key": "noise", "name": "噪声", "unit": "dB", "min": 20, "max": 140}]),
]
RULES = [
    # name, kind, metric, type, operator, value, clear, seconds, severity, category
    ("道路积水超警戒", "threshold", "level", "water_level", "gt", 15.0, 10.0, None, "critical",
     "city.e.emergency.waterlogging"),
    ("井盖倾斜或移位", "threshold", "tilt", "manhole", "gt", 10.0, 5.0, None, "major",
     "city.c.public.manhole"),
    ("噪声超标", "threshold", "noise", "air", "gt", 75.0, 70.0, None, "minor",
     "city.e.other.noise"),
    ("设备离线", "absence", "", "water_level", "gt", None, None, 3600, "warning", ""),
]
LAYERS = [
    # code, name, name_en, kind, per grid, category
    ("manholes", "井盖", "Manholes", "component", 0.5, "city.c.public.manhole"),
    ("streetlights", "路灯", "Street lights", "component", 0.8, "city.c.public.streetlight"),
    ("bins", "垃圾箱", "Litter bins", "component", 0.4, "city.c.environment.bin"),
    ("hydrants", "消防栓", "Fire hydrants", "component", 0.2, "city.c.public.hydrant"),
]
POIS = [("schools", "学校", "Schools", 8), ("hospitals", "医院", "Hospitals", 4),
        ("parks", "公园", "Parks", 6)]
DEVICES_PER_TYPE = {"water_level": 24, "manhole": 30, "air": 8}
SIDEWALK = [[0, 120], [320, 120], [320, 240], [0, 240]]
CAMERAS = [
    # code, name, what the simulated video shows: (arrives at s, box, BGR colour), walkers
    ("CAM-001", "人民路菜场口", ((20, (120, 150, 60, 40), (30, 60, 200)),), 3),  # a stall
    ("CAM-002", "文化路学校门口", ((20, (200, 160, 24, 14), (110, 118, 125)),), 2),  # unsure
    ("CAM-003", "滨江广场", (), 4),  # people walking by: nothing to find
]


def _members(department: str, position: str) -> list[Any]:
    return [m.user for m in orgs.members_of(department)
            if m.position is not None and m.position.code == position]


@transaction.atomic
def load_categories_and_people() -> None:
    city.load_categories()
    city_code = geography.CITY[0]
    for category, department in ANSWERS:
        have = {r.department.code for r in orgs.responsible_for(city_code, category)
                if r.category and r.category.code == category}
        if department not in have:
            orgs.assign_responsibility(department, city_code, category_code=category)
    users = get_user_model().objects
    members = {
        "城管指挥中心": _members("cgj", "dispatcher"),
        "网格监督员": _members("cgj", "grid_inspector"),
        "12345 话务员": _members("zwfw", "window"),
        "数字驾驶舱": [m.user for d in orgs.list_departments() for m in orgs.members_of(d)
                      if m.position is not None and m.position.code == "head"]
        + list(users.filter(username="admin")),
        "感知设备管理员": _members("slj", "head") + _members("cgj", "section_chief"),
    }
    for name, perms in GROUPS.items():
        group, _created = Group.objects.get_or_create(name=name)
        for dotted in perms:
            app_label, codename = dotted.split(".")
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label,
                                                         codename=codename))
        group.user_set.add(*members[name])
    inspectors = members["网格监督员"]
    grids = list(regions.all_grids().values_list("code", flat=True))
    for i, grid in enumerate(grids):
        if inspectors:
            city.assign_duty(grid, inspectors[i % len(inspectors)], "inspector")


def _point_in(grid: Any, rng: random.Random) -> tuple[float, float]:
    return (round(rng.uniform(grid.min_lon, grid.max_lon), 6),
            round(rng.uniform(grid.min_lat, grid.max_lat), 6))


@transaction.atomic
def load_perception(rng: random.Random) -> None:
    for code, name, name_en, interval, metrics in DEVICE_TYPES:
        if not perception.DeviceType.objects.filter(code=code).exists():
            perception.create_device_type(code, name, metrics, name_en=name_en,
                                          interval_seconds=interval)
    if not perception.Gateway.objects.filter(code="GW-SLJ").exists():
        perception.register_gateway("GW-SLJ", "水务物联网关", department_code="slj")
    grids = list(regions.all_grids())
    owner = {"water_level": "slj", "manhole": "cgj", "air": "sthj"}
    names = {code: name for code, name, _en, _interval, _metrics in DEVICE_TYPES}
    for type_code, count in DEVICES_PER_TYPE.items():
        for n in range(1, count + 1):
            code = f"{type_code.upper().replace('_', '-')}-{n:03d}"
            grid = rng.choice(grids)
            lon, lat = _point_in(grid, rng)
            if perception.Device.objects.filter(code=code).exists():
                continue
            perception.register_device(
                code, f"{names[type_code]}{n:03d}",
                type_code=type_code, department_code=owner[type_code], lon=lon, lat=lat,
                address=f"{grid.name}", gateway_code="GW-SLJ" if type_code == "water_level"
                else None)
    for name, kind, metric, type_code, op, value, clear, seconds, severity, category in RULES:
        if not perception.Rule.objects.filter(name=name).exists():
            perception.create_rule(name, kind=kind, metric=metric, type_code=type_code,
                                   operator=op, value=value, clear_value=clear,
                                   seconds=seconds, severity=severity, category_code=category)


def load_cameras(rng: random.Random) -> None:
    """Three street cameras of the city-management bureau whose streams are synthetic videos
    in the data directory (what a real camera shows is up to it: see ``street_video``)."""
    from pathlib import Path

    from django.conf import settings

    from yiwang.enablement.ai.testing import street_video

    folder = Path(settings.DATA_DIR) / "demo-video"
    folder.mkdir(parents=True, exist_ok=True)
    grids = list(regions.all_grids())
    for code, name, objects, walkers in CAMERAS:
        grid = rng.choice(grids)
        lon, lat = _point_in(grid, rng)
        path = folder / f"{code}.avi"
        if not path.exists():
            street_video(str(path), seconds=90, objects=objects, walkers=walkers)
        if perception.Camera.objects.filter(code=code).exists():
            continue
        zones = [{"name": "人行道禁止摆摊区", "polygon": SIDEWALK, "detect": "static_object",
                  "dwell_seconds": 30, "category_code": "city.e.street_order.vending"},
                 {"name": "人行道", "polygon": SIDEWALK, "detect": "crowding", "threshold": 12,
                  "category_code": "city.e.emergency"}]
        perception.register_camera(code, name, department_code="cgj", lon=lon, lat=lat,
                                   stream_url=str(path), zones=zones)


def load_gis(rng: random.Random) -> None:
    grids = list(regions.all_grids())
    for order, (code, name, name_en, kind, per_grid, category) in enumerate(LAYERS, start=1):
        gis.create_layer(code, name, kind=kind, name_en=name_en, category_code=category,
                         department_code="cgj", sort_order=order)
        rows = []
        for grid in grids:
            for k in range(int(per_grid) + (1 if rng.random() < per_grid % 1 else 0)):
                lon, lat = _point_in(grid, rng)
                rows.append({"code": f"{grid.code}-{k + 1}", "name": f"{name}{grid.name}{k + 1}",
                             "status": "good" if rng.random() > 0.05 else "damaged",
                             "geometry": {"type": "Point", "coordinates": [lon, lat]}})
        gis.load_features(code, rows)
    for order, (code, name, name_en, count) in enumerate(POIS, start=10):
        gis.create_layer(code, name, kind="poi", name_en=name_en, sort_order=order)
        rows = []
        for n in range(1, count + 1):
            grid = rng.choice(grids)
            lon, lat = _point_in(grid, rng)
            rows.append({"code": f"{code[:3].upper()}-{n:02d}", "name": f"示例{name}{n}号",
                         "geometry": {"type": "Point", "coordinates": [lon, lat]}})
        gis.load_features(code, rows)


def load_city(progress: Progress) -> None:
    """The whole city side of the demo (see the module's description)."""
    tick = progress("一网统管 city management", 3)
    rng = random.Random(f"{geography.SEED}:{SEED}")
    load_categories_and_people()
    tick(1)
    load_perception(rng)
    load_cameras(rng)
    tick(1)
    load_gis(rng)
    tick(1)
