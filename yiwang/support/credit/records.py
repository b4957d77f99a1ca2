"""双公示: administrative licence and penalty decisions, collected from the departments
(entered on the workbench, posted to the API, or — for licences — published by the
applications that issue them) and published for a period fixed by their kind and severity.

Due process first: a record needs a legal basis, a decision document number, a decision date
and its deciding authority, or it is refused with a message per field and nothing is saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import service as audit
from yiwang.platform.orgs import service as orgs
from yiwang.support.credit import searching
from yiwang.support.credit.models import (
    LicensingCategory,
    PenaltyCategory,
    Publication,
    Record,
    RecordKind,
    Severity,
)
from yiwang.support.credit.subjects import (
    check_subject,
    digest,
    error,
    may_write,
    on_ledger,
    subject_for,
)

TEXT_LIMITS = {"doc_name": 128, "doc_no": 64, "content": 2000, "legal_basis": 2000,
               "licence_name": 128, "licence_no": 128, "violation_type": 128, "facts": 4000,
               "revoked_licence": 200, "note": 255, "representative": 64}


@dataclass
class RecordInput:
    """What a department reports of one decision (the data standard's fields)."""

    kind: str
    code: str  # the subject's credit code or ID number
    name: str
    doc_no: str
    decided_on: date | None
    legal_basis: str
    content: str
    categories: list[str]
    doc_name: str = ""
    representative: str = ""
    licence_name: str = ""
    licence_no: str = ""
    violation_type: str = ""
    facts: str = ""
    fine_wan: str | Decimal | None = None
    confiscated_wan: str | Decimal | None = None
    revoked_licence: str = ""
    severity: str = ""
    valid_from: date | None = None
    valid_until: date | None = None
    publish_until: date | None = None
    note: str = ""
    source_ref: str = ""


def publication_months(severity: str) -> int:
    """How long a penalty is published (公示期), by severity, in months."""
    if severity == Severity.SERIOUS:
        return int(settings.YIWANG_CREDIT_SERIOUS_PUBLICITY_MONTHS)
    return int(settings.YIWANG_CREDIT_GENERAL_PUBLICITY_MONTHS)


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def _amount(value: Any, field: str, errors: dict[str, list[str]]) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors[field] = [_("请填写以万元计的金额,例如 0.5 表示 5000 元。")]
        return None
    if not amount.is_finite() or amount < 0 or amount >= Decimal(10**8):
        errors[field] = [_("金额应在 0 到 1 亿万元之间。")]
        return None
    return amount.quantize(Decimal("0.000001"))


def _check(data: RecordInput, today: date) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if data.kind not in RecordKind.values:
        errors["kind"] = [_("类别只能是行政许可或行政处罚。")]
    for field, message in (("doc_no", _("请填写决定文书号。")),
                           ("legal_basis", _("没有法律依据的信用信息不能归集:请写明依据的"
                                             "法律、法规、规章及条款。")),
                           ("content", _("请填写许可内容或处罚内容。"))):
        if not str(getattr(data, field) or "").strip():
            errors[field] = [message]
    for field, limit in TEXT_LIMITS.items():
        if len(str(getattr(data, field) or "")) > limit:
            errors[field] = [_("不能超过 %(n)d 个字。") % {"n": limit}]
    if data.decided_on is None:
        errors["decided_on"] = [_("请填写决定日期。")]
    elif data.decided_on > today:
        errors["decided_on"] = [_("决定日期不能晚于今天。")]
    allowed = (LicensingCategory.values if data.kind == RecordKind.LICENSING
               else PenaltyCategory.values)
    if not data.categories:
        errors["categories"] = [_("请选择至少一个类别。")]
    elif any(c not in allowed for c in data.categories):
        errors["categories"] = [_("类别不在数据标准的取值范围内。")]
    if data.kind == RecordKind.PENALTY:
        if not data.facts.strip():
            errors["facts"] = [_("请写明违法事实。")]
        if data.severity not in Severity.values:
            errors["severity"] = [_("请选择一般失信行为或严重失信行为。")]
        if PenaltyCategory.FINE in data.categories and not str(data.fine_wan or "").strip():
            errors["fine_wan"] = [_("处罚类别含罚款时请填写罚款金额。")]
    if data.valid_from and data.valid_until and data.valid_until < data.valid_from:
        errors["valid_until"] = [_("有效期至不能早于有效期自。")]
    return errors


def publish_record(data: RecordInput, *, authority_code: str, actor: Any = None,
                   source_code: str = "") -> Record:
    """Collect and publish one decision of ``authority_code`` (a department code).

    Validates every field (a message per field), creates the subject on first use, fixes the
    end of publicity (a penalty: its decision date plus the months of its severity; a
    licence: its validity), appends ``credit.record_published`` to the ledger and audits it.
    The same decision (authority, kind, document number) reported twice is refused."""
    today = timezone.localdate()
    errors = _check(data, today)
    fine = _amount(data.fine_wan, "fine_wan", errors)
    if fine is not None and fine <= 0 and PenaltyCategory.FINE in data.categories:
        errors["fine_wan"] = [_("罚款金额应大于 0。")]
    confiscated = _amount(data.confiscated_wan, "confiscated_wan", errors)
    authority = orgs.get_department(authority_code)
    if authority is None:
        errors["authority"] = [_("决定机关 %(code)s 不存在。") % {"code": authority_code}]
    elif not may_write(actor, authority_code):
        errors["authority"] = [_("只能报送本部门作出的决定。")]
    source = orgs.get_department(source_code) if source_code else authority
    try:
        check_subject(data.code, data.name)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    assert authority is not None and data.decided_on is not None
    if Record.objects.filter(kind=data.kind, authority_code=authority.code,
                             doc_no=data.doc_no.strip()).exists():
        raise error(_("决定文书号 %(no)s 的信息已经归集,不能重复报送;如需更正请先撤销原记录。")
                    % {"no": data.doc_no.strip()}, "duplicate", "doc_no")
    until = data.publish_until
    if until is None and data.kind == RecordKind.PENALTY:
        until = add_months(data.decided_on, publication_months(data.severity)) - timedelta(
            days=1)
    if until is None and data.kind == RecordKind.LICENSING:
        until = data.valid_until
    record = Record(
        kind=data.kind, representative=data.representative.strip(),
        doc_name=(data.doc_name.strip() or (_("行政许可决定书") if data.kind == "licensing"
                                            else _("行政处罚决定书"))),
        doc_no=data.doc_no.strip(), category=";".join(data.categories),
        content=data.content.strip(), legal_basis=data.legal_basis.strip(),
        licence_name=data.licence_name.strip(), licence_no=data.licence_no.strip(),
        violation_type=data.violation_type.strip(), facts=data.facts.strip(),
        fine_wan=fine, confiscated_wan=confiscated,
        revoked_licence=data.revoked_licence.strip(),
        severity=data.severity if data.kind == RecordKind.PENALTY else "",
        decided_on=data.decided_on, valid_from=data.valid_from or data.decided_on,
        valid_until=data.valid_until, publish_until=until,
        authority_code=authority.code, authority_name=authority.name,
        authority_credit_code=authority.credit_code,
        source_name=(source or authority).name,
        source_credit_code=(source or authority).credit_code,
        source_ref=data.source_ref[:64], note=data.note.strip(),
        created_by=actor if getattr(actor, "pk", None) else None)
    try:
        with transaction.atomic(), audit.together():
            _save_record(record, data, until, actor)
    except IntegrityError:  # the same decision reported at the same moment
        raise error(_("决定文书号 %(no)s 的信息已经归集,不能重复报送。") % {
            "no": record.doc_no}, "duplicate", "doc_no") from None
    return record


def _save_record(record: Record, data: RecordInput, until: date | None, actor: Any) -> None:
    record.subject = subject = subject_for(data.code, data.name)
    record.save()
    record.ledger_hash = on_ledger("credit.record_published", {
        "record": record.pk, "kind": record.kind, "subject": subject.key,
        "authority": record.authority_code, "doc_no_sha256": digest({"no": record.doc_no}),
        "decided_on": record.decided_on.isoformat(),
        "publish_until": until.isoformat() if until else None,
        "content_sha256": digest(public_fields(record))})
    Record.objects.filter(pk=record.pk).update(ledger_hash=record.ledger_hash)
    audit.record("credit.record_published", record, actor=actor,
                 detail={"kind": record.kind, "authority": record.authority_code,
                         "subject": subject.pk})
    searching.sync(record)


def _wan(amount: Decimal | None) -> str | None:
    return None if amount is None else format(amount.normalize(), "f")


def public_fields(record: Record) -> dict[str, Any]:
    """The fields publicity shows, masked for a natural person."""
    return {
        "kind": record.kind, "name": record.subject.name_masked,
        "code": record.subject.public_code, "subject_kind": record.subject.kind,
        "doc_name": record.doc_name, "doc_no": record.doc_no, "category": record.category,
        "content": record.content, "legal_basis": record.legal_basis,
        "licence_name": record.licence_name, "licence_no": record.licence_no,
        "violation_type": record.violation_type, "facts": record.facts,
        "fine_wan": _wan(record.fine_wan),
        "confiscated_wan": _wan(record.confiscated_wan),
        "revoked_licence": record.revoked_licence,
        "decided_on": record.decided_on.isoformat(),
        "valid_from": record.valid_from.isoformat() if record.valid_from else None,
        "valid_until": record.valid_until.isoformat() if record.valid_until else None,
        "publish_until": record.publish_until.isoformat() if record.publish_until else None,
        "authority": record.authority_name,
        "authority_credit_code": record.authority_credit_code,
        "source": record.source_name,
    }


def public_records(today: date | None = None) -> QuerySet[Record]:
    """Records on publicity today: published, not suspended or ended, within their period."""
    today = today or timezone.localdate()
    return (Record.objects.select_related("subject")
            .filter(publication=Publication.PUBLISHED, decided_on__lte=today)
            .filter(Q(publish_until__isnull=True) | Q(publish_until__gte=today)))


def revoke_record(record: Record, *, reason: str, actor: Any,
                  expected_version: int | None = None) -> Record:
    """The authority revokes a record (its decision was annulled or reported in error)."""
    reason = (reason or "").strip()
    if not reason:
        raise error(_("请写明撤销原因。"), "required", "reason")
    if not may_write(actor, record.authority_code):
        raise error(_("只能撤销本部门作出的决定。"), "forbidden")
    version = record.row_version if expected_version is None else expected_version
    with transaction.atomic(), audit.together():
        changed = Record.objects.filter(pk=record.pk, row_version=version).exclude(
            publication=Publication.REVOKED).update(
            publication=Publication.REVOKED, publication_note=reason[:255],
            row_version=version + 1)
        if not changed:
            raise error(_("该记录刚被其他人处理过或已撤销,请刷新后再看。"), "conflict")
        on_ledger("credit.record_revoked", {"record": record.pk, "authority":
                                            record.authority_code})
        audit.record("credit.record_revoked", record, actor=actor,
                     detail={"reason": reason[:200]})
        record.refresh_from_db()
        searching.sync(record)
    return record


def record_licence(*, code: str, name: str, matter_name: str, legal_basis: str,
                   application_number: str, licence_name: str, licence_no: str,
                   decided_on: date, valid_until: date | None, authority_code: str,
                   category: str = LicensingCategory.ORDINARY, actor: Any = None
                   ) -> Record | None:
    """Publish the licensing decision of an approved application (行政许可 双公示) in a
    savepoint of the caller's transaction; idempotent per application number. A decision
    that cannot be published (the matter states no legal basis, the holder's code is not
    valid) is not published and the refusal is audited: it never undoes the approval."""
    found = Record.objects.filter(kind=RecordKind.LICENSING, authority_code=authority_code,
                                  doc_no=application_number).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return publish_record(RecordInput(
                kind=RecordKind.LICENSING, code=code, name=name, doc_no=application_number,
                decided_on=decided_on, legal_basis=legal_basis, content=matter_name,
                categories=[category], licence_name=licence_name, licence_no=licence_no,
                valid_until=valid_until, source_ref=application_number),
                authority_code=authority_code, actor=None)
    except ValidationError as exc:
        audit.record("credit.record_refused", ("credit.record", application_number),
                     actor=actor, detail={"fields": sorted(exc.message_dict),
                                          "authority": authority_code})
        return None
