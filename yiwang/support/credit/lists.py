"""Red and black lists (红黑名单): a subject is listed by a deciding authority's recorded
decision, on a stated legal basis, from a publication date to an expiry date. On the expiry
date the entry is off publicity (the public query compares dates, so no job has to run
first); the daily job then marks it removed and writes the removal on the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import service as audit
from yiwang.platform.orgs import service as orgs
from yiwang.support.credit import searching
from yiwang.support.credit.models import ListEntry, ListType, Publication
from yiwang.support.credit.records import add_months
from yiwang.support.credit.subjects import (
    check_subject,
    digest,
    error,
    may_write,
    on_ledger,
    subject_for,
)


@dataclass
class ListingInput:
    list_type: str
    list_name: str
    code: str
    name: str
    reason: str
    legal_basis: str
    decision_no: str
    decided_on: date | None
    publish_from: date | None
    expires_on: date | None
    measures: str = ""
    repairable: bool = True


def _check(data: ListingInput, today: date) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if data.list_type not in ListType.values:
        errors["list_type"] = [_("名单类型只能是红名单或黑名单。")]
    for field, message, limit in (
            ("list_name", _("请填写名单名称。"), 100),
            ("reason", _("请写明列入事由。"), 2000),
            ("legal_basis", _("没有认定依据不能列入名单:请写明依据的法律、法规及条款。"), 2000),
            ("decision_no", _("请填写认定文书号:没有认定决定不能列入名单。"), 64)):
        value = str(getattr(data, field) or "").strip()
        if not value:
            errors[field] = [message]
        elif len(value) > limit:
            errors[field] = [_("不能超过 %(n)d 个字。") % {"n": limit}]
    if len(data.measures) > 2000:
        errors["measures"] = [_("不能超过 %(n)d 个字。") % {"n": 2000}]
    if data.decided_on is None:
        errors["decided_on"] = [_("请填写认定日期。")]
    elif data.decided_on > today:
        errors["decided_on"] = [_("认定日期不能晚于今天。")]
    if data.publish_from is None:
        errors["publish_from"] = [_("请填写列入日期。")]
    elif data.decided_on and data.publish_from < data.decided_on:
        errors["publish_from"] = [_("列入日期不能早于认定日期。")]
    if data.expires_on is None:
        errors["expires_on"] = [_("请填写移出日期:名单信息须有有效期。")]
    elif data.publish_from and data.expires_on <= data.publish_from:
        errors["expires_on"] = [_("移出日期应晚于列入日期。")]
    elif data.publish_from and data.expires_on > add_months(
            data.publish_from, 12 * int(settings.YIWANG_CREDIT_LIST_MAX_YEARS)):
        errors["expires_on"] = [_("名单有效期不能超过 %(n)d 年。") % {
            "n": settings.YIWANG_CREDIT_LIST_MAX_YEARS}]
    return errors


def list_subject(data: ListingInput, *, authority_code: str, actor: Any = None) -> ListEntry:
    """List a subject on a red or black list by a decision of ``authority_code``."""
    today = timezone.localdate()
    errors = _check(data, today)
    authority = orgs.get_department(authority_code)
    if authority is None:
        errors["authority"] = [_("认定部门 %(code)s 不存在。") % {"code": authority_code}]
    elif not may_write(actor, authority_code):
        errors["authority"] = [_("只能按本部门的认定决定列入名单。")]
    try:
        check_subject(data.code, data.name)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    assert authority is not None and data.publish_from is not None
    assert data.expires_on is not None and data.decided_on is not None
    entry = ListEntry(
        list_type=data.list_type, list_name=data.list_name.strip(),
        reason=data.reason.strip(), legal_basis=data.legal_basis.strip(),
        decision_no=data.decision_no.strip(), decided_on=data.decided_on,
        authority_code=authority.code, authority_name=authority.name,
        measures=data.measures.strip(), publish_from=data.publish_from,
        expires_on=data.expires_on, repairable=data.repairable,
        created_by=actor if getattr(actor, "pk", None) else None)
    try:
        with transaction.atomic(), audit.together():
            entry.subject = subject = subject_for(data.code, data.name)
            entry.save()
            entry.ledger_hash = on_ledger("credit.listed", {
                "entry": entry.pk, "list": entry.list_type, "subject": subject.key,
                "authority": authority.code, "publish_from": entry.publish_from.isoformat(),
                "expires_on": entry.expires_on.isoformat(),
                "decision_sha256": digest({"no": entry.decision_no,
                                           "basis": entry.legal_basis})})
            ListEntry.objects.filter(pk=entry.pk).update(ledger_hash=entry.ledger_hash)
            audit.record("credit.listed", entry, actor=actor,
                         detail={"list": entry.list_type, "authority": authority.code,
                                 "subject": subject.pk})
            searching.sync(entry)
    except IntegrityError:
        raise error(_("该主体已按认定文书 %(no)s 列入名单。") % {"no": entry.decision_no},
                    "duplicate", "decision_no") from None
    return entry


def public_entries(today: date | None = None) -> QuerySet[ListEntry]:
    """Entries on publicity today: published, listed already and not yet expired."""
    today = today or timezone.localdate()
    return (ListEntry.objects.select_related("subject")
            .filter(publication=Publication.PUBLISHED, publish_from__lte=today,
                    expires_on__gt=today))


def remove_entry(entry: ListEntry, *, reason: str, actor: Any,
                 publication: str = Publication.REMOVED, expected_version: int | None = None,
                 ) -> ListEntry:
    """Take an entry off its list early (the authority revokes its decision)."""
    reason = (reason or "").strip()
    if not reason:
        raise error(_("请写明移出原因。"), "required", "reason")
    if not may_write(actor, entry.authority_code):
        raise error(_("只能移出本部门认定的名单信息。"), "forbidden")
    version = entry.row_version if expected_version is None else expected_version
    today = timezone.localdate()
    with transaction.atomic(), audit.together():
        changed = (ListEntry.objects.filter(pk=entry.pk, row_version=version)
                   .exclude(publication__in=[Publication.REMOVED, Publication.REVOKED,
                                             Publication.REPAIRED])
                   .update(publication=publication, removed_on=today,
                           publication_note=reason[:255], row_version=version + 1))
        if not changed:
            raise error(_("该名单信息刚被其他人处理过或已移出,请刷新后再看。"), "conflict")
        on_ledger("credit.delisted", {"entry": entry.pk, "authority": entry.authority_code,
                                      "on": today.isoformat(), "why": publication})
        audit.record("credit.delisted", entry, actor=actor,
                     detail={"reason": reason[:200], "publication": publication})
        entry.refresh_from_db()
        searching.sync(entry)
    return entry


def expire_entries(today: date | None = None) -> int:
    """Mark the entries whose expiry date has come as removed (移出), each on the ledger."""
    today = today or timezone.localdate()
    due = list(ListEntry.objects.filter(
        publication__in=[Publication.PUBLISHED, Publication.SUSPENDED],
        expires_on__lte=today).values_list("pk", "expires_on", "authority_code"))
    removed = 0
    for pk, expires_on, authority in due:
        with transaction.atomic(), audit.together():
            changed = ListEntry.objects.filter(
                pk=pk, publication__in=[Publication.PUBLISHED, Publication.SUSPENDED],
            ).update(publication=Publication.REMOVED, removed_on=expires_on,
                     publication_note=_("有效期届满,自动移出"),
                     row_version=F("row_version") + 1)
            if not changed:
                continue
            on_ledger("credit.delisted", {"entry": pk, "authority": authority,
                                          "on": expires_on.isoformat(), "why": "expired"})
            audit.record("credit.expired", ("credit.listentry", str(pk)),
                         detail={"expires_on": expires_on.isoformat()})
            searching.sync(ListEntry.objects.get(pk=pk))
            removed += 1
    return removed
