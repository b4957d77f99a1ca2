"""Public facade of the audit app (审计): record and search audit events.

Every write to a yiwang model is recorded automatically (see ``signals.py``); service
functions that reveal personal data unmasked call :func:`record_personal_read`; sign-ins
and other security events call :func:`record`. Events carry the request context (actor,
zone, address, request id) bound by the middleware.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, connections, models, router, transaction
from django.db.models import Q, QuerySet
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

from yiwang.core import context
from yiwang.core.audit.models import AppendOnlyError, AuditEvent
from yiwang.core.masking.service import mask_text

__all__ = [
    "AppendOnlyError",
    "AuditEvent",
    "AuditFilter",
    "holds_personal_data",
    "purge_older_than",
    "record",
    "record_personal_read",
    "search",
    "together",
]

SYSTEM = "system"


def _actor(actor: Any) -> tuple[str, str]:
    user = actor if actor is not None else context.current().user
    if user is None:
        return SYSTEM, SYSTEM
    if not getattr(user, "is_authenticated", False):
        return "", "anonymous"
    return str(user.pk), str(user.get_username())


def holds_personal_data(obj: models.Model | type[models.Model]) -> bool:
    """Whether a model (or an instance of it) has a field marked ``personal_data``, such
    as the encrypted fields of ``yiwang.core.crypto``."""
    return any(getattr(f, "personal_data", False) for f in obj._meta.concrete_fields)


def _object(obj: Any) -> tuple[str, str, str]:
    if obj is None:
        return "", "", ""
    if isinstance(obj, models.Model):
        meta = obj._meta
        # A record holding personal data is named by type and id only: its str() is
        # often a person's name, which mask_text cannot recognise.
        label = "" if holds_personal_data(obj) else mask_text(str(obj))[:200]
        return f"{meta.app_label}.{meta.model_name}", str(obj.pk), label
    if isinstance(obj, tuple) and len(obj) == 2:
        return str(obj[0]), str(obj[1]), ""
    raise TypeError("obj must be a model instance or an (object_type, object_id) pair")


def _masked(value: Any) -> Any:
    """``value`` with every string in it masked, however deeply nested."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {str(k): _masked(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_masked(v) for v in value]
    return value


def record(
    action: str,
    obj: Any = None,
    *,
    actor: Any = None,
    personal_data: bool = False,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event.

    ``obj`` is a model instance or an ``(object_type, object_id)`` pair. ``actor`` defaults
    to the signed-in user of the current request ("system" outside requests). ``detail``
    must not contain unmasked personal data: free text in it is masked.
    """
    actor_id, actor_label = _actor(actor)
    object_type, object_id, object_repr = _object(obj)
    ctx = context.current()
    clean_detail = _masked(detail or {})
    event = AuditEvent(
        actor_id=actor_id,
        actor_label=actor_label[:150],
        action=action[:64],
        object_type=object_type[:100],
        object_id=object_id[:64],
        object_repr=object_repr,
        zone=ctx.zone if ctx.zone != "-" else "",
        address=ctx.address or None,
        request_id=ctx.request_id if ctx.request_id != "-" else "",
        personal_data=personal_data,
        detail=clean_detail,
    )
    pending = _batch.get()
    if pending is not None:
        pending.append(event)
        return event
    return _insert(event)


_batch: ContextVar[list[AuditEvent] | None] = ContextVar("audit_events", default=None)


def together() -> AbstractContextManager[None]:
    """Inside: :func:`record` (and the automatic records of writes) collects the events, and
    the block's end writes them with one ``INSERT``, in order — a write that records several
    events pays for one statement. The events get their ids then, not before.

    Open it just inside ``transaction.atomic()``, with the same extent: should the block
    raise, nothing is written, as the transaction is rolled back anyway; an event is never
    written outside the transaction of the write it records. Nested blocks join the outer
    one."""
    return context.collecting(_batch, _insert_many)


_insert_sql: dict[str, tuple[list[Any], str]] = {}


def _prepared_insert(alias: str) -> tuple[list[Any], str]:
    prepared = _insert_sql.get(alias)
    if prepared is None:
        db = connections[alias]
        meta = AuditEvent._meta
        quote = db.ops.quote_name
        fields = [f for f in meta.concrete_fields if not f.primary_key]
        columns = ", ".join(quote(str(f.column)) for f in fields)
        sql = " ".join(["INSERT INTO", quote(str(meta.db_table)), f"({columns})",
                        "VALUES", f"({', '.join(['%s'] * len(fields))})"])
        if db.features.can_return_columns_from_insert:
            sql += " RETURNING " + quote(str(meta.pk.column))
        prepared = _insert_sql[alias] = (fields, sql)
    return prepared


def _insert(event: AuditEvent) -> AuditEvent:
    """``event.save()`` with its INSERT written once per process, not built by the ORM each
    time (a write has several events; building the query cost more than running it).

    Fields prepare their values as ``save()`` has them (defaults, JSON, addresses); the model
    signals are sent as ``save()`` sends them; the new id is set on ``event``.
    """
    alias = router.db_for_write(AuditEvent, instance=event)
    db = connections[alias]
    meta = AuditEvent._meta
    fields, sql = _prepared_insert(alias)
    pre_save.send(sender=AuditEvent, instance=event, raw=False, using=alias, update_fields=None)
    values = [f.get_db_prep_save(f.pre_save(event, True), db) for f in fields]
    with transaction.mark_for_rollback_on_error(using=alias), db.cursor() as cursor:
        cursor.execute(sql, values)
        if db.features.can_return_columns_from_insert:
            row = cursor.fetchone()
            new_pk = row[0] if row else None
        else:
            new_pk = db.ops.last_insert_id(cursor, str(meta.db_table), str(meta.pk.column))
    setattr(event, meta.pk.attname, new_pk)
    event._state.adding = False
    event._state.db = alias
    post_save.send(sender=AuditEvent, instance=event, created=True, update_fields=None,
                   raw=False, using=alias)
    return event


def _insert_many(events: list[AuditEvent]) -> None:
    """:func:`_insert` of several events in one multi-row ``INSERT`` (each chunk of at most
    100 rows), the signals sent for each as ``save()`` sends them."""
    alias = router.db_for_write(AuditEvent, instance=events[0])
    db = connections[alias]
    if len(events) == 1 or not db.features.can_return_columns_from_insert:
        for event in events:
            _insert(event)
        return
    meta = AuditEvent._meta
    fields, single = _prepared_insert(alias)
    head, _, tail = single.partition(" VALUES ")
    row_sql, _, suffix = tail.partition(" RETURNING ")
    for start in range(0, len(events), 100):
        chunk = events[start:start + 100]
        values: list[Any] = []
        for event in chunk:
            pre_save.send(sender=AuditEvent, instance=event, raw=False, using=alias,
                          update_fields=None)
            values += [f.get_db_prep_save(f.pre_save(event, True), db) for f in fields]
        sql = f"{head} VALUES {', '.join([row_sql] * len(chunk))} RETURNING {suffix}"
        with transaction.mark_for_rollback_on_error(using=alias), db.cursor() as cursor:
            cursor.execute(sql, values)
            # Rows come back in the order of VALUES (what bulk_create relies on too).
            pks = [row[0] for row in cursor.fetchall()]
        for event, pk in zip(chunk, pks, strict=True):
            setattr(event, meta.pk.attname, pk)
            event._state.adding = False
            event._state.db = alias
            post_save.send(sender=AuditEvent, instance=event, created=True,
                           update_fields=None, raw=False, using=alias)


def record_personal_read(obj: Any, fields: list[str], *, purpose: str = "",
                         actor: Any = None) -> AuditEvent:
    """Record that ``fields`` of ``obj`` were shown unmasked (个人信息查看)."""
    return record("personal_data.read", obj, actor=actor, personal_data=True,
                  detail={"fields": sorted(fields), "purpose": purpose})


@dataclass(frozen=True)
class AuditFilter:
    """Search criteria for auditors; every criterion is optional."""

    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    request_id: str = ""
    since: datetime | None = None
    until: datetime | None = None
    personal_only: bool = False


def search(criteria: AuditFilter) -> QuerySet[AuditEvent]:
    """Events matching ``criteria``, newest first (paginate the result)."""
    events = AuditEvent.objects.all()
    if criteria.actor:
        events = events.filter(Q(actor_label=criteria.actor) | Q(actor_id=criteria.actor))
    if criteria.action:
        events = events.filter(action__startswith=criteria.action)
    if criteria.object_type:
        events = events.filter(object_type=criteria.object_type)
    if criteria.object_id:
        events = events.filter(object_id=criteria.object_id)
    if criteria.request_id:
        events = events.filter(request_id=criteria.request_id)
    if criteria.since:
        events = events.filter(occurred_at__gte=criteria.since)
    if criteria.until:
        events = events.filter(occurred_at__lt=criteria.until)
    if criteria.personal_only:
        events = events.filter(personal_data=True)
    return events.order_by("-occurred_at", "-id")


@transaction.atomic
def purge_older_than(days: int) -> int:
    """Delete events older than ``days`` (retention; at least 180 days, as the
    Cybersecurity Law requires logs to be kept six months). Records the purge itself."""
    if days < 180:
        raise ValueError("audit events must be kept at least 180 days")
    cutoff = timezone.now() - timedelta(days=days)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL yiwang.audit_maintenance = 'on'")
        else:
            cursor.execute("INSERT INTO audit_maintenance (open) VALUES (1)")
        cursor.execute("DELETE FROM audit_auditevent WHERE occurred_at < %s", [cutoff])
        deleted = cursor.rowcount
        if connection.vendor != "postgresql":
            cursor.execute("DELETE FROM audit_maintenance WHERE rowid = last_insert_rowid()")
    record("audit.purge", detail={"older_than_days": days, "deleted": deleted})
    return int(deleted)
