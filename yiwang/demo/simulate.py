"""A day (or days) in the life of the demo city, through the platform's own service
functions: sensors report through ingestion (their rules raise alarms, and alarms open
cases), citizens, inspectors, the 12345 hotline and Open311 apps report problems where
problems happen (a few busy grids, the street-order and litter classes most), the command
centre files and dispatches, departments handle — mostly on time, some late, some returned
— inspectors verify on site, and citizens evaluate. Every case event is recorded at its
simulated time, so the cockpit's trends and rates have a history.

    yiwang simulate city --hours 24 [--seed 7] [--reports-per-hour 6]
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from yiwang.industry.city import service as city
from yiwang.platform.perception import service as perception
from yiwang.platform.regions import service as regions

Tick = Callable[[int], None]
PHOTO_OWNER = "demo:simulator"
SOURCES = [("citizen", 45), ("inspector", 35), ("hotline", 15), ("open311", 5)]
HEAVY = ("city.e.street_order.vending", "city.e.environment.litter",
         "city.e.street_order.parking", "city.e.ads.posters", "city.e.environment.piled_materials")
TITLES = {"city.e.street_order.vending": "路边流动摊贩占道经营",
          "city.e.environment.litter": "路面有暴露垃圾",
          "city.e.street_order.parking": "非机动车乱停放堵塞人行道",
          "city.e.ads.posters": "墙面电杆张贴小广告",
          "city.e.environment.piled_materials": "人行道上堆放建筑材料"}


@dataclass
class Outcome:
    readings: int = 0
    alarms: int = 0
    detections: int = 0
    reports: int = 0
    closed: int = 0
    skipped: list[str] = field(default_factory=list)


def _people() -> dict[str, list[Any]]:
    users = get_user_model().objects.filter(is_active=True)
    return {
        "dispatchers": list(users.filter(groups__name="城管指挥中心").order_by("id")),
        "inspectors": list(users.filter(groups__name="网格监督员").order_by("id")),
        "operators": list(users.filter(groups__name="12345 话务员").order_by("id")),
        "citizens": list(users.filter(account_type="citizen").order_by("id")[:50]),
    }


def _photo(owner: Any, rng: random.Random) -> str:
    """A small generated JPEG (the demo has no cameras in people's hands)."""
    import io

    from PIL import Image, ImageDraw

    from yiwang.core.uploads import service as uploads

    picture = Image.new("RGB", (160, 120), tuple(rng.randrange(90, 200) for _ in range(3)))
    draw = ImageDraw.Draw(picture)
    draw.rectangle((40, 50, 120, 100), fill=tuple(rng.randrange(0, 90) for _ in range(3)))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=70)
    # owned by the simulator, not the person: they must not count against anyone's uploads
    return uploads.accept_upload(buffer.getvalue(), filename="photo.jpg",
                                 owner_key=PHOTO_OWNER, purpose="city.photo",
                                 personal=False, actor=owner).token


def simulate_readings(start: datetime, end: datetime, rng: random.Random,
                      tick: Tick | None = None) -> tuple[int, int]:
    """Every active device reports at its interval from ``start`` to ``end``; water levels
    rise in a rain storm in the afternoon, a manhole cover tilts now and then, noise follows
    the day. Returns (readings stored, alarms raised)."""
    devices = list(perception.list_devices(None).filter(active=True))
    stored = raised = 0
    batch: list[dict[str, Any]] = []
    storm = start + (end - start) * rng.uniform(0.4, 0.7)

    def flush() -> None:
        nonlocal stored, raised
        if batch:
            result = perception.ingest_readings(batch, source="simulator")
            stored += result.accepted
            raised += len(result.raised)
            batch.clear()

    for device in devices:
        t = start + timedelta(seconds=rng.uniform(0, device.interval))
        wet = rng.random() < 0.25  # a low spot that floods in the storm
        loose = rng.random() < 0.1
        while t <= end:
            hours = (t - storm).total_seconds() / 3600
            hour = timezone.localtime(t).hour
            values: dict[str, float] = {"battery": round(max(5.0, 95 - rng.random()), 1)}
            if device.type.code == "water_level":
                rain = 30 * math.exp(-hours * hours) if wet else 4 * math.exp(-hours * hours)
                values["level"] = round(max(0.0, rain + rng.uniform(0, 1.5)), 1)
            elif device.type.code == "manhole":
                values["tilt"] = round(rng.uniform(12, 30) if loose and abs(hours) < 1
                                       else rng.uniform(0, 2), 1)
            elif device.type.code == "air":
                values = {"pm25": round(rng.uniform(15, 60), 1),
                          "noise": round(rng.uniform(45, 62) + (16 if 6 <= hour <= 21
                                                                and rng.random() < 0.03
                                                                else 0), 1)}
            batch.append({"device": device.code, "ts": int(t.timestamp() * 1000),
                          "values": values})
            if len(batch) >= 2000:
                flush()
            t += timedelta(seconds=device.interval)
        if tick:
            tick(1)
    flush()
    return stored, raised


def simulate_cases(start: datetime, end: datetime, per_hour: float, rng: random.Random,
                   tick: Tick | None = None) -> tuple[int, int, list[str]]:
    """Reports from citizens, inspectors, the hotline and apps, and their handling, at
    their simulated times. Returns (reports, cases closed, problems skipped)."""
    people = _people()
    if not people["dispatchers"]:
        return 0, 0, ["no dispatchers: load the demo city first (yiwang demo)"]
    grids = list(regions.all_grids())
    busy = rng.sample(grids, max(1, len(grids) // 20))
    categories = [c for major in city.category_tree() for c in major["children"]]
    weights = [8 if c.code in HEAVY else 1 for c in categories]
    total = int((end - start).total_seconds() / 3600 * per_hour)
    reports = closed = 0
    skipped: list[str] = []
    for _n in range(total):
        at = start + (end - start) * rng.random()
        grid = rng.choice(busy) if rng.random() < 0.4 else rng.choice(grids)
        category = rng.choices(categories, weights)[0]
        source = rng.choices([s for s, _w in SOURCES], [w for _s, w in SOURCES])[0]
        lon = rng.uniform(grid.min_lon, grid.max_lon)
        lat = rng.uniform(grid.min_lat, grid.max_lat)
        reporter = rng.choice(people["citizens"]) if source == "citizen" and \
            people["citizens"] else None
        actor = rng.choice(people["inspectors"]) if source == "inspector" and \
            people["inspectors"] else (rng.choice(people["operators"]) if source == "hotline"
                                       and people["operators"] else None)
        owner = reporter or actor
        try:
            reported = city.report(
                source=source, category_code=category.code,
                title=TITLES.get(category.code, category.name), lon=lon, lat=lat,
                address=f"{grid.name}附近", reporter=reporter, actor=actor,
                reporter_name="来电市民" if source == "hotline" else "",
                photos=[_photo(owner, rng)] if owner is not None else [],
                photo_owner=PHOTO_OWNER, at=at)
            reports += 1
            if reported.duplicate_of is None and _handle(reported.case, at, end, people, rng):
                closed += 1
        except (ValidationError, PermissionDenied, city.Conflict) as exc:
            skipped.append(f"{category.code}: {exc}")
        if tick:
            tick(1)
    return reports, closed, skipped


def _handle(case: Any, at: datetime, end: datetime, people: dict[str, list[Any]],
            rng: random.Random) -> bool:
    """Take a case as far as the simulated clock allows; True when it was closed."""
    step = at
    if case.state == "reported":
        step += timedelta(minutes=rng.uniform(3, 40))
        if step > end:
            return False
        dispatcher = rng.choice(people["dispatchers"])
        if rng.random() < 0.04:
            city.transition(case, "not_file", actor=dispatcher, note="经核实不属于城市管理问题",
                            at=step)
            return False
        case = city.transition(case, "file", actor=dispatcher, at=step)
    if case.state != "dispatched" or case.due_at is None:
        return False
    handler = case.assignee
    if handler is None:
        return False
    span = case.due_at - step
    late = rng.random() < 0.12
    step = step + span * (rng.uniform(1.1, 1.6) if late else rng.uniform(0.2, 0.9))
    if step > end:
        return False
    case = city.transition(case, "accept", actor=handler, at=step)
    case = city.transition(case, "handle", actor=handler, note="已处置完毕，现场恢复",
                           photos=[_photo(handler, rng)], photo_owner=PHOTO_OWNER, at=step)
    step += timedelta(minutes=rng.uniform(20, 180))
    inspector = case.inspector or (rng.choice(people["inspectors"])
                                   if people["inspectors"] else None)
    if step > end or inspector is None:
        return False
    if rng.random() < 0.06:
        city.transition(case, "verify_fail", actor=inspector, note="现场仍有问题，需返工",
                        photos=[_photo(inspector, rng)], photo_owner=PHOTO_OWNER,
                        lon=case.lon, lat=case.lat, at=step)
        return False
    case = city.transition(case, "verify_pass", actor=inspector,
                           photos=[_photo(inspector, rng)], photo_owner=PHOTO_OWNER,
                           lon=case.lon, lat=case.lat, at=step)
    if case.source == "hotline" and people["operators"]:
        # 答复 then 回访: the operator tells the caller what was done, and calls back
        operator = rng.choice(people["operators"])
        step += timedelta(minutes=rng.uniform(10, 120))
        if step <= end:
            city.transition(case, "reply", actor=operator, at=step,
                            note="您反映的问题已由责任单位处置完毕，经现场核查已结案")
            step += timedelta(hours=rng.uniform(2, 30))
            if step <= end:
                city.transition(case, "evaluate", actor=operator, at=step,
                                satisfaction=rng.choice((5, 5, 4, 4, 3, 2)),
                                note="回访：来电人对处理结果表示认可")
    elif case.reporter_id and rng.random() < 0.5:
        step += timedelta(hours=rng.uniform(1, 20))
        if step <= end:
            city.transition(case, "evaluate", actor=case.reporter,
                            satisfaction=rng.choice((5, 5, 5, 4, 4, 3)), at=step)
    return True


def simulate_video(end: datetime, tick: Tick | None = None) -> int:
    """Video inspection of each active camera whose stream is a file (the demo's synthetic
    videos), as if its last minutes were just recorded; returns the detections."""
    from pathlib import Path

    from yiwang.enablement.ai import service as ai

    found = 0
    for camera in perception.list_cameras(None, active_only=True):
        if Path(camera.stream_url).is_file():
            with suppress(ValidationError):  # an unreadable file: that camera shows nothing
                found += len(ai.read_stream(camera, fps=1,
                                            started=end - timedelta(minutes=2)))
        if tick:
            tick(1)
    return found


def simulate_city(hours: float, *, seed: int = 7, per_hour: float = 6.0,
                  end: datetime | None = None,
                  progress: Callable[[str, int], Tick] | None = None) -> Outcome:
    """The last ``hours`` of city life, ending now (or at ``end``). The simulator is not a
    person: the per-person upload rate is lifted while it runs."""
    from django.test.utils import override_settings

    with override_settings(YIWANG_UPLOADS_PER_10_MINUTES=0):
        return _simulate(hours, seed=seed, per_hour=per_hour, end=end, progress=progress)


def _simulate(hours: float, *, seed: int, per_hour: float, end: datetime | None,
              progress: Callable[[str, int], Tick] | None) -> Outcome:
    end = end or timezone.now()
    start = end - timedelta(hours=hours)
    rng = random.Random(seed)
    outcome = Outcome()
    devices = perception.list_devices(None).filter(active=True).count()
    tick = progress("感知读数 readings", devices) if progress else None
    outcome.readings, outcome.alarms = simulate_readings(start, end, rng, tick)
    total = int(hours * per_hour)
    tick = progress("案卷 cases", total) if progress else None
    outcome.reports, outcome.closed, outcome.skipped = simulate_cases(start, end, per_hour,
                                                                      rng, tick)
    cameras = perception.list_cameras(None, active_only=True).count()
    tick = progress("视频巡检 video", cameras) if progress else None
    outcome.detections = simulate_video(end, tick)
    return outcome


DEMO_HOURS = 24 * 7 - 1  # raw readings are kept 7 days: the week just inside that
DEMO_REPORTS_PER_HOUR = 3.0


def simulate_demo_week(progress: Callable[[str, int], Tick] | None = None) -> Outcome | None:
    """The demo's last week of city life, once (None when the city already has cases)."""
    if city.Case.objects.exists():
        return None
    return simulate_city(DEMO_HOURS, per_hour=DEMO_REPORTS_PER_HOUR, progress=progress)
