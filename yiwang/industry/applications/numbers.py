"""Receipt numbers (受理编号): ``YW-<region>-<yyyymmdd>-<serial>``, the serial counted per
region and day.

The region's row for the day is incremented with one conditional ``UPDATE … SET last =
last + 1 … RETURNING last`` (a row lock on PostgreSQL, the write lock on SQLite, where
transactions begin IMMEDIATE): two submissions at once never get one number. The row is made
on first use inside a savepoint; when a concurrent first submission made it first (the unique
region and day), this one increments that row instead.

The increment is fixed SQL, written once per database: every submission takes a number, and
building the ORM's ``UPDATE`` and the ``SELECT`` that read it back cost more than the rest of
this module together. A database without ``UPDATE … RETURNING`` takes the ORM's two queries.
"""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Field

from yiwang.industry.applications.models import ReceiptSequence

_INCREMENT: dict[str, str] = {}


def _increment_sql() -> str:
    """``UPDATE … RETURNING`` for this database (by vendor: the SQL is the same for any
    connection of one vendor)."""
    sql = _INCREMENT.get(connection.vendor)
    if sql is None:
        meta, quote = ReceiptSequence._meta, connection.ops.quote_name
        last, region, day = (quote(str(cast("Field[Any, Any]", meta.get_field(name)).column))
                             for name in ("last", "region_code", "day"))
        sql = (f"UPDATE {quote(meta.db_table)} SET {last} = {last} + 1 "  # noqa: S608
               f"WHERE {region} = %s AND {day} = %s RETURNING {last}")
        _INCREMENT[connection.vendor] = sql
    return sql


def _increment(region_code: str, day: date) -> int | None:
    """The region's serial for the day, incremented; None when it has no row yet."""
    if not connection.features.can_return_columns_from_insert:  # no UPDATE … RETURNING
        updated = ReceiptSequence.objects.filter(region_code=region_code, day=day).update(
            last=F("last") + 1)
        if not updated:
            return None
        return int(ReceiptSequence.objects.filter(region_code=region_code, day=day)
                   .values_list("last", flat=True).get())
    with connection.cursor() as cursor:
        cursor.execute(_increment_sql(),
                       [region_code, connection.ops.adapt_datefield_value(day)])
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def next_serial(region_code: str, day: date) -> int:
    """The next serial of ``region_code`` on ``day``; call inside the caller's transaction."""
    for _attempt in range(3):
        serial = _increment(region_code, day)
        if serial is not None:
            return serial
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
