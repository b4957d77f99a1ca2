"""Credit publicity in unified search: a record or list entry is a search document while it
is on publicity (with its end date, so that search stops showing it on that day), and is
taken out when an objection suspends it or it is repaired, revoked or removed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.utils import timezone

from yiwang.support.credit.models import ListEntry, ListType, Publication, Record
from yiwang.support.search import service as search


def _url(subject: Any, fallback: str) -> str:
    return f"/credit/enterprises/{subject.credit_code}/" if subject.credit_code else fallback


def record_document(record: Record) -> search.DocumentInput:
    subject = record.subject
    return search.DocumentInput(
        key=f"credit:r{record.pk}", kind="credit",
        title=f"{subject.name_masked} {record.get_kind_display()} {record.doc_no}",
        body=" ".join(p for p in (record.content, record.category, record.violation_type,
                                  record.facts, record.licence_name, record.legal_basis,
                                  record.authority_name, subject.public_code) if p),
        url=f"/credit/records/{record.pk}/", department_code=record.authority_code,
        department_name=record.authority_name, published_on=record.decided_on,
        visible_until=record.publish_until + timedelta(days=1) if record.publish_until
        else None)


def entry_document(entry: ListEntry) -> search.DocumentInput:
    subject = entry.subject
    tab = "black" if entry.list_type == ListType.BLACK else "red"
    return search.DocumentInput(
        key=f"credit:e{entry.pk}", kind="credit",
        title=f"{subject.name_masked} {entry.list_name}",
        body=" ".join(p for p in (entry.get_list_type_display(), entry.reason,
                                  entry.legal_basis, entry.measures, entry.authority_name,
                                  subject.public_code) if p),
        url=_url(subject, f"/credit/?tab={tab}"), department_code=entry.authority_code,
        department_name=entry.authority_name, published_on=entry.publish_from,
        visible_until=entry.expires_on)


def _public(target: Record | ListEntry, today: Any = None) -> bool:
    today = today or timezone.localdate()
    if target.publication != Publication.PUBLISHED:
        return False
    if isinstance(target, Record):
        return target.decided_on <= today and (target.publish_until is None
                                               or target.publish_until >= today)
    return target.publish_from <= today < target.expires_on


def sync(target: Record | ListEntry, today: Any = None) -> None:
    """Put the target in the index or take it out, by whether it is on publicity."""
    if isinstance(target, Record):
        key = f"credit:r{target.pk}"
        made = record_document(target) if _public(target, today) else None
    else:
        key = f"credit:e{target.pk}"
        made = entry_document(target) if _public(target, today) else None
    if made is not None:
        search.index_documents([made])
    else:
        search.remove_documents([key])


def documents() -> Iterator[search.DocumentInput]:
    """Every record and entry on publicity today (the source for a full rebuild)."""
    from yiwang.support.credit.lists import public_entries
    from yiwang.support.credit.records import public_records

    for record in public_records().iterator(chunk_size=1000):
        yield record_document(record)
    for entry in public_entries().iterator(chunk_size=1000):
        yield entry_document(entry)


def sync_dates(today: Any = None) -> int:
    """What dates change without a write: list entries whose publication starts today or
    has ended, records whose publicity ended — put in or taken out of the index (the
    daily job, just after midnight)."""
    from datetime import timedelta

    from django.db.models import Q

    today = today or timezone.localdate()
    window = (today - timedelta(days=2), today)
    count = 0
    for entry in ListEntry.objects.select_related("subject").filter(
            Q(publish_from__range=window) | Q(expires_on__range=window)):
        sync(entry, today)
        count += 1
    for record in Record.objects.select_related("subject").filter(
            publish_until__range=(window[0] - timedelta(days=1), window[1])):
        sync(record, today)
        count += 1
    return count
