"""The credit check (信用核查) that services call during review, for joint rewards and
punishments (联合奖惩): a black-listed party is flagged to the officer with the decision and
its legal basis; a red-listed one may get a fast lane (绿色通道, 容缺受理). Each check is
audited with its purpose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from yiwang.core.audit import service as audit
from yiwang.support.credit.models import ListEntry, ListType, Publication, RecordKind, Subject
from yiwang.support.credit.records import public_fields, public_records
from yiwang.support.credit.risk import classify
from yiwang.support.credit.subjects import find_subject, parse_code


@dataclass(frozen=True)
class CreditCheck:
    """What the officer sees: the subject's lists, recent penalties and risk class."""

    code_known: bool
    subject: Subject | None = None
    black: list[dict[str, Any]] = field(default_factory=list)
    red: list[dict[str, Any]] = field(default_factory=list)
    penalties: list[dict[str, Any]] = field(default_factory=list)
    under_objection: int = 0
    risk_class: str = ""
    risk_reason: str = ""

    @property
    def flagged(self) -> bool:
        return bool(self.black)

    @property
    def clean(self) -> bool:
        return not (self.black or self.penalties or self.under_objection)


def _entry(entry: Any) -> dict[str, Any]:
    return {"list_name": entry.list_name,
            "under_objection": entry.publication == Publication.SUSPENDED, "reason": entry.reason,
            "legal_basis": entry.legal_basis, "authority": entry.authority_name,
            "decision_no": entry.decision_no, "measures": entry.measures,
            "publish_from": entry.publish_from, "expires_on": entry.expires_on}


def check(code: str, *, purpose: str, actor: Any = None) -> CreditCheck:
    """Check the party a credit code or ID number names; ``purpose`` says why (e.g. the
    application number) and goes to the audit log with the result. Raises
    ``ValidationError`` for a code that is neither."""
    parse_code(code)  # an invalid code is a ValidationError, not an unknown subject
    subject = find_subject(code)
    if subject is None:
        result = CreditCheck(code_known=False)
    else:
        today = timezone.localdate()
        # for the officer, an entry under objection still stands (it is only off the
        # public pages): flagged, and marked as under objection
        entries = list(ListEntry.objects.filter(
            subject=subject, publication__in=[Publication.PUBLISHED, Publication.SUSPENDED],
            publish_from__lte=today, expires_on__gt=today))
        penalties = [public_fields(r) for r in public_records(today).filter(
            subject=subject, kind=RecordKind.PENALTY)[:20]]
        objections = (subject.records.filter(publication=Publication.SUSPENDED).count()
                      + subject.list_entries.filter(publication=Publication.SUSPENDED).count())
        risk_class, reason, _facts = classify(subject)
        result = CreditCheck(
            code_known=True, subject=subject,
            black=[_entry(e) for e in entries if e.list_type == ListType.BLACK],
            red=[_entry(e) for e in entries if e.list_type == ListType.RED],
            penalties=penalties, under_objection=objections, risk_class=risk_class,
            risk_reason=reason)
    audit.record("credit.checked", subject if subject is not None else None, actor=actor,
                 personal_data=subject is not None and subject.kind == "person",
                 detail={"purpose": purpose[:100], "found": result.code_known,
                         "flagged": result.flagged, "risk": result.risk_class})
    return result
