"""Applications (办件): the follow-up of bad evaluations (差评整改)."""

from __future__ import annotations

from yiwang.conf.env import ConfigError, env

_GROUP = "Applications"

YIWANG_RECTIFICATION_WORKING_DAYS = env(
    "YIWANG_RECTIFICATION_WORKING_DAYS", 15, group=_GROUP,
    doc="Working days (on the working calendar) a department has to follow up a bad "
        "evaluation (差评, 1 or 2 of 5) — record what it did and reply to the applicant. "
        "The national rules (国办发〔2019〕51号) set 15.",
)
if not 1 <= YIWANG_RECTIFICATION_WORKING_DAYS <= 365:
    raise ConfigError("YIWANG_RECTIFICATION_WORKING_DAYS",
                      f"must be between 1 and 365, got {YIWANG_RECTIFICATION_WORKING_DAYS}")
