"""Objections (信用异议) and credit repair (信用修复), each reviewed by the deciding
authority (or the credit department) within a time limit in working days.

An objection says a record is wrong: from the moment it is filed the record or list entry is
off publicity (暂停公示), until the reviewer upholds it (the record is revoked, the entry
removed) or dismisses it (publication resumes). Repair says the subject has put things
right: once the minimum period of publicity has passed and with a credit commitment, the
reviewer may end publicity early. Only the subject — the person, or the representative or a
managing agent of the enterprise — may file either.
"""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import service as audit
from yiwang.enablement.workflow import service as workflow
from yiwang.platform.orgs import service as orgs
from yiwang.support.credit import searching
from yiwang.support.credit.models import (
    Dispute,
    DisputeKind,
    DisputeState,
    ListEntry,
    ListType,
    Publication,
    Record,
    RecordKind,
    Severity,
)
from yiwang.support.credit.records import add_months
from yiwang.support.credit.subjects import codes_of, error, key_of, on_ledger
from yiwang.support.notify import service as notify

STATEMENT_LIMIT = 2000
ENDED = (Publication.REVOKED, Publication.REMOVED, Publication.REPAIRED)


def _speaks_for(user: Any, target: Record | ListEntry) -> bool:
    keys = {key_of(c) for c in codes_of(user)}
    return target.subject.key in keys


def repair_from(target: Record | ListEntry) -> date | None:
    """The first day repair may be asked for (the minimum period of publicity), or None
    when the target cannot be repaired (a licence, a red list entry, an unrepairable list)."""
    if isinstance(target, Record):
        if target.kind != RecordKind.PENALTY:
            return None
        months = (settings.YIWANG_CREDIT_SERIOUS_REPAIR_MONTHS
                  if target.severity == Severity.SERIOUS
                  else settings.YIWANG_CREDIT_GENERAL_REPAIR_MONTHS)
        return add_months(target.decided_on, int(months))
    if target.list_type != ListType.BLACK or not target.repairable:
        return None
    return add_months(target.publish_from, int(settings.YIWANG_CREDIT_BLACK_REPAIR_MONTHS))


def _number(kind: str) -> str:
    prefix = "YY" if kind == DisputeKind.OBJECTION else "XF"
    return f"{prefix}{timezone.localdate():%Y%m%d}{secrets.randbelow(10**8):08d}"


def _target_fields(target: Record | ListEntry) -> dict[str, Any]:
    return {"record": target} if isinstance(target, Record) else {"entry": target}


def _model(target: Record | ListEntry) -> type[Record] | type[ListEntry]:
    return Record if isinstance(target, Record) else ListEntry


def _clean_statement(text: str, field: str, message: str) -> str:
    text = (text or "").strip()
    if not text:
        raise error(message, "required", field)
    if len(text) > STATEMENT_LIMIT:
        raise error(_("不能超过 %(n)d 个字。") % {"n": STATEMENT_LIMIT}, "too_long", field)
    return text


def _file(user: Any, target: Record | ListEntry, kind: str, *, statement: str,
          corrections: str = "", commitment: bool = False) -> Dispute:
    now = timezone.now()
    days = int(settings.YIWANG_CREDIT_OBJECTION_DAYS if kind == DisputeKind.OBJECTION
               else settings.YIWANG_CREDIT_REPAIR_DAYS)
    dispute = Dispute(kind=kind, subject=target.subject, authority_code=target.authority_code,
                      filed_by=user, statement=statement, corrections=corrections,
                      commitment=commitment, due_at=workflow.add_working_days(now, days),
                      **_target_fields(target))
    for _attempt in range(3):
        dispute.number = _number(kind)
        try:
            with transaction.atomic(), audit.together():
                dispute.save()
                if kind == DisputeKind.OBJECTION and not _model(target).objects.filter(
                        pk=target.pk).exclude(publication__in=ENDED).update(
                        publication=Publication.SUSPENDED,
                        publication_note=_("信用主体提出异议,暂停公示"),
                        row_version=F("row_version") + 1):
                    # revoked, repaired or removed meanwhile: nothing to suspend
                    raise _Ended
                on_ledger(f"credit.{kind}_filed", {
                    "dispute": dispute.number, "target": _ref(target),
                    "authority": target.authority_code})
                audit.record(f"credit.{kind}_filed", dispute, actor=user,
                             detail={"target": _ref(target)})
                target.refresh_from_db()
                searching.sync(target)
            break
        except _Ended:
            raise error(_("这条信息已不再公示,无需提出异议。"), "ended") from None
        except IntegrityError:
            if Dispute.objects.filter(kind=kind, state=DisputeState.PENDING,
                                      **_target_fields(target)).exists():
                raise error(_("这条信息已有一件待处理的申请,请等待处理结果。"),
                            "pending") from None
    else:  # pragma: no cover - three random numbers of one day collided
        raise error(_("系统繁忙,请稍后再试。"), "busy")
    target.refresh_from_db()
    return dispute


class _Ended(Exception):
    """The target left publicity while the objection was being filed."""


def _ref(target: Record | ListEntry) -> str:
    return f"{'record' if isinstance(target, Record) else 'entry'}:{target.pk}"


def file_objection(user: Any, target: Record | ListEntry, *, statement: str) -> Dispute:
    """The subject objects to a record or list entry; publication is suspended at once."""
    if not _speaks_for(user, target):
        raise error(_("只有信用主体本人(或企业的法定代表人、获授权的经办人)可以提出异议。"),
                    "forbidden")
    if target.publication in ENDED:
        raise error(_("这条信息已不再公示,无需提出异议。"), "ended")
    statement = _clean_statement(statement, "statement",
                                 _("请写明异议的理由:哪一项信息有误,正确的是什么。"))
    if Dispute.objects.filter(kind=DisputeKind.OBJECTION, state=DisputeState.PENDING,
                              **_target_fields(target)).exists():
        raise error(_("这条信息已有一件待处理的异议,请等待处理结果。"), "pending")
    if Dispute.objects.filter(kind=DisputeKind.OBJECTION, state=DisputeState.DISMISSED,
                              **_target_fields(target)).exists():
        # a dismissed objection may not suspend publication again and again
        raise error(_("对这条信息的异议已经核实处理,不能重复提出。如有新的证据,请联系决定机关"
                      "或申请行政复议。"), "decided")
    return _file(user, target, DisputeKind.OBJECTION, statement=statement)


def file_repair(user: Any, target: Record | ListEntry, *, statement: str, corrections: str,
                commitment: bool) -> Dispute:
    """The subject asks for credit repair after putting things right."""
    if not _speaks_for(user, target):
        raise error(_("只有信用主体本人(或企业的法定代表人、获授权的经办人)可以申请信用修复。"),
                    "forbidden")
    if target.publication in ENDED:
        raise error(_("这条信息已不再公示,无需申请信用修复。"), "ended")
    first = repair_from(target)
    if first is None:
        raise error(_("这类信息不适用信用修复。"), "not_repairable")
    if timezone.localdate() < first:
        raise error(_("最短公示期满后才能申请信用修复:请于 %(day)s 以后再申请。") % {
            "day": first.isoformat()}, "too_early")
    corrections = _clean_statement(corrections, "corrections",
                                   _("请写明已经履行的义务和纠正失信行为的情况。"))
    statement = _clean_statement(statement, "statement", _("请写明申请信用修复的理由。"))
    if not commitment:
        raise error(_("申请信用修复须作出信用承诺。"), "commitment", "commitment")
    if Dispute.objects.filter(kind=DisputeKind.REPAIR, state=DisputeState.PENDING,
                              **_target_fields(target)).exists():
        raise error(_("这条信息已有一件待处理的修复申请,请等待处理结果。"), "pending")
    return _file(user, target, DisputeKind.REPAIR, statement=statement,
                 corrections=corrections, commitment=True)


def reviewer_codes(user: Any) -> list[str] | None:
    """The authorities whose disputes ``user`` reviews (None: every one)."""
    if user.is_superuser:
        return None
    codes = orgs.unit_codes_of(user)
    if settings.YIWANG_CREDIT_DEPARTMENT in codes:
        return None
    return codes


def list_disputes(*, authority_codes: list[str] | None = None, state: str = "",
                  kind: str = "") -> QuerySet[Dispute]:
    rows = Dispute.objects.select_related("subject", "record", "entry")
    if authority_codes is not None:
        rows = rows.filter(authority_code__in=authority_codes)
    if state:
        rows = rows.filter(state=state)
    if kind:
        rows = rows.filter(kind=kind)
    pending_first = Case(When(state=DisputeState.PENDING, then=Value(0)), default=Value(1))
    return rows.order_by(pending_first, "due_at", "id")


def disputes_of(user: Any) -> QuerySet[Dispute]:
    keys = [k for k in (key_of(c) for c in codes_of(user)) if k]
    return (Dispute.objects.select_related("subject", "record", "entry")
            .filter(Q(filed_by=user) | Q(subject__key__in=keys)).order_by("-filed_at"))


def decide_dispute(user: Any, dispute: Dispute, *, upheld: bool, note: str,
                   expected_version: int | None = None) -> Dispute:
    """Decide an objection or repair. Upheld objection: the record is revoked (the entry
    removed); dismissed: publication resumes. Granted repair: publicity ends now; refused:
    nothing changes. The filer is told either way, with the reviewer's note."""
    codes = reviewer_codes(user)
    if not user.has_perm("credit.review_dispute") or (
            codes is not None and dispute.authority_code not in codes):
        raise error(_("您无权处理该部门的信用异议和修复申请。"), "forbidden")
    note = (note or "").strip()
    if not note:
        raise error(_("请填写办理意见:申请人会看到它。"), "required", "note")
    if len(note) > STATEMENT_LIMIT:
        raise error(_("不能超过 %(n)d 个字。") % {"n": STATEMENT_LIMIT}, "too_long", "note")
    version = dispute.row_version if expected_version is None else expected_version
    target = dispute.target
    model = _model(target)
    now = timezone.now()
    state = DisputeState.UPHELD if upheld else DisputeState.DISMISSED
    with transaction.atomic(), audit.together():
        changed = Dispute.objects.filter(pk=dispute.pk, state=DisputeState.PENDING,
                                         row_version=version).update(
            state=state, decided_at=now, decided_by=user, decision_note=note,
            row_version=version + 1)
        if not changed:
            raise error(_("该申请刚被其他人处理过,请刷新后再看。"), "conflict")
        live = model.objects.filter(pk=target.pk).exclude(publication__in=ENDED)
        extra: dict[str, Any] = {}
        if isinstance(target, ListEntry):
            extra = {"removed_on": now.date()}
        if dispute.kind == DisputeKind.OBJECTION and upheld:
            ended = Publication.REVOKED if isinstance(target, Record) else Publication.REMOVED
            live.update(publication=ended, publication_note=_("异议成立:%(note)s") % {
                "note": note[:200]}, row_version=F("row_version") + 1, **extra)
        elif dispute.kind == DisputeKind.OBJECTION:
            live.filter(publication=Publication.SUSPENDED).update(
                publication=Publication.PUBLISHED, publication_note="",
                row_version=F("row_version") + 1)
        elif upheld:
            live.update(publication=Publication.REPAIRED,
                        publication_note=_("信用修复,提前停止公示"),
                        row_version=F("row_version") + 1, **extra)
        on_ledger(f"credit.{dispute.kind}_decided", {
            "dispute": dispute.number, "target": _ref(target), "outcome": state,
            "authority": dispute.authority_code, "at": now.isoformat(timespec="seconds")})
        audit.record(f"credit.{dispute.kind}_decided", dispute, actor=user,
                     detail={"outcome": state, "target": _ref(target)})
        target.refresh_from_db()
        searching.sync(target)
        label = _("信用异议") if dispute.kind == DisputeKind.OBJECTION else _("信用修复申请")
        outcome = (_("异议成立") if dispute.kind == DisputeKind.OBJECTION else _("准予修复")
                   ) if upheld else (_("异议不成立") if dispute.kind == DisputeKind.OBJECTION
                                     else _("不予修复"))
        notify.notify(dispute.filed_by_id, kind="credit.dispute_decided",
                      title=_("您的%(label)s %(number)s 已办结") % {
                          "label": label, "number": dispute.number},
                      body=_("办理结果:%(outcome)s。办理意见:%(note)s") % {
                          "outcome": outcome, "note": note[:500]},
                      link="/credit/mine/", sms=True)
    dispute.refresh_from_db()
    return dispute
