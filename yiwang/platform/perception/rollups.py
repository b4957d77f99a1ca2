"""Roll-ups and retention of readings (降采样与保存期): the hourly and daily roll-ups
recomputed from a dirty-hour mark (late readings included), and the deletion of raw
readings and hourly roll-ups past their retention. Reached through ``service.py``."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from yiwang.platform.perception.ingest import HOUR_MS, ROLLUP_KEY
from yiwang.platform.perception.models import Period, Reading, Rollup, RollupMark

DAY_MS = 86_400_000


def _day_offset_ms() -> int:
    """Days of the daily roll-up start at local midnight (China has no daylight saving)."""
    offset = timezone.now().astimezone(ZoneInfo(settings.TIME_ZONE)).utcoffset() or timedelta()
    return int(offset.total_seconds() * 1000)


_ROLLUP_HOURS = """
INSERT INTO perception_rollup
    (device_id, metric, period, bucket, count, total, minimum, maximum, last_ts, last_value)
SELECT g.device_id, g.metric, 'h', g.bucket, g.n, g.total, g.lo, g.hi, g.last_ts, r.value
FROM (SELECT device_id, metric, ts - (ts %% 3600000) AS bucket, COUNT(*) AS n,
             SUM(value) AS total, MIN(value) AS lo, MAX(value) AS hi, MAX(ts) AS last_ts
      FROM perception_reading WHERE ts >= %s AND ts < %s
      GROUP BY device_id, metric, ts - (ts %% 3600000)) g
JOIN perception_reading r
  ON r.device_id = g.device_id AND r.metric = g.metric AND r.ts = g.last_ts
WHERE 1 = 1
ON CONFLICT (device_id, metric, period, bucket) DO UPDATE SET
    count = excluded.count, total = excluded.total, minimum = excluded.minimum,
    maximum = excluded.maximum, last_ts = excluded.last_ts, last_value = excluded.last_value
"""

_ROLLUP_DAYS = """
INSERT INTO perception_rollup
    (device_id, metric, period, bucket, count, total, minimum, maximum, last_ts, last_value)
SELECT g.device_id, g.metric, 'd', g.bucket, g.n, g.total, g.lo, g.hi, g.last_ts, h.last_value
FROM (SELECT device_id, metric, bucket - ((bucket + %s) %% 86400000) AS bucket,
             SUM(count) AS n, SUM(total) AS total, MIN(minimum) AS lo, MAX(maximum) AS hi,
             MAX(last_ts) AS last_ts
      FROM perception_rollup WHERE period = 'h' AND bucket >= %s AND bucket < %s
      GROUP BY device_id, metric, bucket - ((bucket + %s) %% 86400000)) g
JOIN perception_rollup h
  ON h.device_id = g.device_id AND h.metric = g.metric AND h.period = 'h'
     AND h.last_ts = g.last_ts AND h.bucket = g.last_ts - (g.last_ts %% 3600000)
WHERE 1 = 1
ON CONFLICT (device_id, metric, period, bucket) DO UPDATE SET
    count = excluded.count, total = excluded.total, minimum = excluded.minimum,
    maximum = excluded.maximum, last_ts = excluded.last_ts, last_value = excluded.last_value
"""


def roll_up(now: datetime | None = None) -> dict[str, int]:
    """Recompute the hourly and daily roll-ups of every hour that received readings since
    the last run (late readings included); idempotent."""
    now_ms = int((now or timezone.now()).timestamp() * 1000)
    current_hour = now_ms - now_ms % HOUR_MS
    offset = _day_offset_ms()
    with transaction.atomic():
        mark = RollupMark.objects.select_for_update().filter(key=ROLLUP_KEY).first()
        if mark is None or mark.dirty_from is None:
            return {"hours": 0, "days": 0}
        start = mark.dirty_from
        day_start = start - ((start + offset) % DAY_MS)
        end = current_hour + HOUR_MS
        with connection.cursor() as cursor:
            cursor.execute(_ROLLUP_HOURS, [start, end])
            hours = cursor.rowcount
            cursor.execute(_ROLLUP_DAYS, [offset, day_start, end, offset])
            days = cursor.rowcount
        mark.dirty_from = current_hour if current_hour >= start else start
        mark.rolled_at = timezone.now()
        mark.save(update_fields=["dirty_from", "rolled_at"])
    return {"hours": max(hours, 0), "days": max(days, 0)}


def prune(now: datetime | None = None, *, chunk_hours: int = 6) -> dict[str, int]:
    """Delete raw readings older than ``YIWANG_PERCEPTION_RAW_DAYS`` and hourly roll-ups
    older than ``YIWANG_PERCEPTION_HOURLY_DAYS`` (rolled up first), a few hours of data per
    transaction so ingestion is never blocked for long."""
    roll_up(now)
    now_ms = int((now or timezone.now()).timestamp() * 1000)
    raw_before = now_ms - int(settings.YIWANG_PERCEPTION_RAW_DAYS) * DAY_MS
    hourly_before = now_ms - int(settings.YIWANG_PERCEPTION_HOURLY_DAYS) * DAY_MS
    deleted = 0
    oldest = Reading.objects.order_by("ts").values_list("ts", flat=True).first()
    while oldest is not None and oldest < raw_before:
        upto = min(raw_before, oldest + chunk_hours * HOUR_MS)
        with transaction.atomic():
            count, _detail = Reading.objects.filter(ts__lt=upto).delete()
        deleted += count
        oldest = Reading.objects.order_by("ts").values_list("ts", flat=True).first()
    with transaction.atomic():
        hourly, _detail = Rollup.objects.filter(period=Period.HOUR,
                                                bucket__lt=hourly_before).delete()
    return {"readings": deleted, "hourly": hourly}
