"""Social credit (社会信用): publicity periods, repair, objections and risk classes."""

from __future__ import annotations

from yiwang.conf.env import env

_GROUP = "Credit"

YIWANG_CREDIT_DEPARTMENT = env(
    "YIWANG_CREDIT_DEPARTMENT", "fgw", group=_GROUP,
    doc="The department that coordinates the credit platform (the development and reform "
        "commission's credit office): its reviewers handle objections and repairs of every "
        "authority.",
)
YIWANG_CREDIT_GENERAL_PUBLICITY_MONTHS = env(
    "YIWANG_CREDIT_GENERAL_PUBLICITY_MONTHS", 12, group=_GROUP,
    doc="Months a penalty for general dishonesty (一般失信行为) is published.",
)
YIWANG_CREDIT_SERIOUS_PUBLICITY_MONTHS = env(
    "YIWANG_CREDIT_SERIOUS_PUBLICITY_MONTHS", 36, group=_GROUP,
    doc="Months a penalty for serious dishonesty (严重失信行为) is published.",
)
YIWANG_CREDIT_GENERAL_REPAIR_MONTHS = env(
    "YIWANG_CREDIT_GENERAL_REPAIR_MONTHS", 3, group=_GROUP,
    doc="Minimum months of publicity before a general penalty may be repaired.",
)
YIWANG_CREDIT_SERIOUS_REPAIR_MONTHS = env(
    "YIWANG_CREDIT_SERIOUS_REPAIR_MONTHS", 12, group=_GROUP,
    doc="Minimum months of publicity before a serious penalty may be repaired.",
)
YIWANG_CREDIT_BLACK_REPAIR_MONTHS = env(
    "YIWANG_CREDIT_BLACK_REPAIR_MONTHS", 12, group=_GROUP,
    doc="Minimum months on a black list before repair may be asked for.",
)
YIWANG_CREDIT_LIST_MAX_YEARS = env(
    "YIWANG_CREDIT_LIST_MAX_YEARS", 5, group=_GROUP,
    doc="The longest a red or black list entry may last, in years.",
)
YIWANG_CREDIT_OBJECTION_DAYS = env(
    "YIWANG_CREDIT_OBJECTION_DAYS", 7, group=_GROUP,
    doc="Working days to decide an objection (异议).",
)
YIWANG_CREDIT_REPAIR_DAYS = env(
    "YIWANG_CREDIT_REPAIR_DAYS", 10, group=_GROUP,
    doc="Working days to decide an application for credit repair.",
)
YIWANG_CREDIT_INSPECTION_RATIOS = env(
    "YIWANG_CREDIT_INSPECTION_RATIOS", "A:0.03,B:0.05,C:0.10,D:0.30", group=_GROUP,
    doc="Share of each risk class drawn for random inspections (双随机), class:ratio.",
)
