"""Public facade of the social credit platform (社会信用).

Departments collect their administrative licence and penalty decisions here for double
publicity (双公示: :func:`publish_record`; applications publish their licensing decisions
through :func:`record_licence`), and list subjects on red and black lists by recorded
decisions (:func:`list_subject`). Publicity (:func:`public_records`, :func:`public_entries`)
shows what is in force today, with natural persons masked; a black-list entry is off on its
expiry date and removed by the daily job (:func:`expire_entries`). The subject may object
(:func:`file_objection`, which suspends publication at once) or ask for repair
(:func:`file_repair`); reviewers decide (:func:`decide_dispute`). Services call
:func:`check` during review (联合奖惩). Market regulation reads risk classes A/B/C/D from
configurable rules (:func:`classify`, :func:`save_rules`). Every change is on the ledger.

Who may do what: anyone reads publicity; a subject (the person, or an enterprise's
representative or managing agent) reads their own credit and files disputes; officials with
``credit.publish_record`` / ``credit.manage_list`` write for their own departments;
``credit.review_dispute`` decides disputes of their departments (the credit department's
reviewers: all); ``credit.check_credit`` checks anyone; ``credit.manage_risk_rules`` edits
the rules.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet

from yiwang.support.credit.check import CreditCheck, check
from yiwang.support.credit.disputes import (
    decide_dispute,
    disputes_of,
    file_objection,
    file_repair,
    list_disputes,
    repair_from,
    reviewer_codes,
)
from yiwang.support.credit.lists import (
    ListingInput,
    expire_entries,
    list_subject,
    public_entries,
    remove_entry,
)
from yiwang.support.credit.models import (
    Dispute,
    DisputeKind,
    DisputeState,
    LicensingCategory,
    ListEntry,
    ListType,
    PenaltyCategory,
    Publication,
    Record,
    RecordKind,
    RiskClass,
    RiskRules,
    Severity,
    Subject,
    SubjectKind,
)
from yiwang.support.credit.records import (
    RecordInput,
    public_fields,
    public_records,
    publish_record,
    record_licence,
    revoke_record,
)
from yiwang.support.credit.risk import (
    FACTS,
    check_rules,
    classify,
    classify_all,
    current_rules,
    save_rules,
)
from yiwang.support.credit.subjects import codes_of, find_subject, parse_code, subjects_of

__all__ = [
    "FACTS",
    "CreditCheck",
    "Dispute",
    "DisputeKind",
    "DisputeState",
    "LicensingCategory",
    "ListEntry",
    "ListType",
    "ListingInput",
    "PenaltyCategory",
    "Publication",
    "Record",
    "RecordInput",
    "RecordKind",
    "RiskClass",
    "RiskRules",
    "Severity",
    "Subject",
    "SubjectKind",
    "check",
    "check_rules",
    "classify",
    "classify_all",
    "codes_of",
    "current_rules",
    "decide_dispute",
    "department_entries",
    "department_records",
    "disputes_of",
    "expire_entries",
    "file_objection",
    "file_repair",
    "find_subject",
    "inspection_ratios",
    "list_disputes",
    "list_subject",
    "parse_code",
    "public_entries",
    "public_fields",
    "public_records",
    "publish_record",
    "record_licence",
    "remove_entry",
    "repair_from",
    "reviewer_codes",
    "revoke_record",
    "save_rules",
    "search_public",
    "subject_summary",
    "subjects_of",
    "sync_index",
]


def sync_index(today: Any = None) -> int:
    """Put list entries whose publication starts today into unified search, and take out
    entries and records whose publicity has ended (the daily job ``credit.sync_index``)."""
    from yiwang.support.credit import searching

    return searching.sync_dates(today)


def search_public(q: str) -> Q:
    """A filter on subjects by a credit code (exact) or part of a published name."""
    text = (q or "").strip()[:64]
    if not text:
        return Q()
    upper = text.upper()
    return Q(subject__credit_code=upper) | Q(subject__name_masked__icontains=text)


def department_records(codes: list[str] | None, *, kind: str = "", publication: str = "",
                       q: str = "") -> QuerySet[Record]:
    """Records of departments (None: all) for the workbench, newest first."""
    rows = Record.objects.select_related("subject")
    if codes is not None:
        rows = rows.filter(authority_code__in=codes)
    if kind:
        rows = rows.filter(kind=kind)
    if publication:
        rows = rows.filter(publication=publication)
    if q:
        rows = rows.filter(search_public(q) | Q(doc_no__icontains=q.strip()[:64]))
    return rows.order_by("-decided_on", "-id")


def department_entries(codes: list[str] | None, *, list_type: str = "",
                       publication: str = "", q: str = "") -> QuerySet[ListEntry]:
    """List entries of departments (None: all) for the workbench, newest first."""
    rows = ListEntry.objects.select_related("subject")
    if codes is not None:
        rows = rows.filter(authority_code__in=codes)
    if list_type:
        rows = rows.filter(list_type=list_type)
    if publication:
        rows = rows.filter(publication=publication)
    if q:
        rows = rows.filter(search_public(q) | Q(decision_no__icontains=q.strip()[:64]))
    return rows.order_by("-publish_from", "-id")


def inspection_ratios() -> dict[str, float]:
    """The share of each risk class drawn for random inspections."""
    ratios: dict[str, float] = {}
    for part in str(settings.YIWANG_CREDIT_INSPECTION_RATIOS).split(","):
        name, _sep, value = part.partition(":")
        try:
            ratios[name.strip().upper()] = float(value)
        except ValueError:
            continue
    return {c: ratios.get(c, 0.0) for c in RiskClass.values}


def subject_summary(subject: Subject) -> dict[str, Any]:
    """Public counts of a subject (for the publicity page)."""
    return {"records": public_records().filter(subject=subject).count(),
            "entries": public_entries().filter(subject=subject).count()}
