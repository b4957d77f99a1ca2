"""Receipt numbers (受理编号): ``YW-<region>-<yyyymmdd>-<serial>``, the serial counted per
region and day.

The region's row for the day is incremented with one conditional ``UPDATE … SET last =
last + 1`` (a row lock on PostgreSQL, the write lock on SQLite, where transactions begin
IMMEDIATE), then read back within the same transaction: two submissions at once never get
one number. The row is made on first use inside a savepoint; when a concurrent first
submission made it first (the unique region and day), this one increments that row instead.
"""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import F

from yiwang.industry.applications.models import ReceiptSequence


def next_serial(region_code: str, day: date) -> int:
    """The next serial of ``region_code`` on ``day``; call inside the caller's transaction."""
    for _attempt in range(3):
        updated = ReceiptSequence.objects.filter(region_code=region_code, day=day).update(
            last=F("last") + 1)
        if updated:
            return int(ReceiptSequence.objects.filter(region_code=region_code, day=day)
                       .values_list("last", flat=True).get())
        try:
            with transaction.atomic():
                ReceiptSequence.objects.create(region_code=region_code, day=day, last=1)
            return 1
        except IntegrityError:
            continue
    raise RuntimeError(f"no receipt sequence for region {region_code} on {day}")


def receipt_number(region_code: str, day: date) -> str:
    """A new receipt number for an application accepted in ``region_code`` on ``day``."""
    region = (region_code or "")[:6] or "000000"  # the county-level GB/T 2260 code
    serial = next_serial(region, day)
    return f"YW-{region}-{day:%Y%m%d}-{serial:06d}"
