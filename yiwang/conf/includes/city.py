"""City management (一网统管): office hours for time limits, de-duplication of reports."""

from __future__ import annotations

from yiwang.conf.env import env

_GROUP = "City management"

YIWANG_OFFICE_HOURS = env(
    "YIWANG_OFFICE_HOURS", "08:30-12:00,13:30-18:00", group=_GROUP,
    doc="Office periods of a working day (HH:MM-HH:MM, comma-separated): time limits in "
        "working hours count only these, on the working calendar's working days.",
)
YIWANG_CASE_DEDUP_METRES = env(
    "YIWANG_CASE_DEDUP_METRES", 50.0, group=_GROUP,
    doc="A new report of the same category within this many metres of an open case is "
        "recorded as a duplicate of it (and its reporter follows that case).",
)
YIWANG_CASE_DEDUP_HOURS = env(
    "YIWANG_CASE_DEDUP_HOURS", 72.0, group=_GROUP,
    doc="Only cases reported within this many hours count as the same problem.",
)
YIWANG_CASE_VERIFY_METRES = env(
    "YIWANG_CASE_VERIFY_METRES", 100.0, group=_GROUP,
    doc="An inspector's verification photo must be taken within this many metres of the "
        "case's place.",
)
