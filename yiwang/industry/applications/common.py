"""Helpers shared by the applications modules: errors, the timeline, the compare-and-swap
on ``row_version`` and the applicant's masked name."""

from __future__ import annotations

from contextlib import AbstractContextManager
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext as _

from yiwang.core import context
from yiwang.core.masking.service import mask_name
from yiwang.industry.applications.models import Application, Event, State


def error(message: str, code: str, field: str | None = None) -> ValidationError:
    if field:
        return ValidationError({field: [ValidationError(message, code=code)]})
    return ValidationError(message, code=code)


def stale() -> ValidationError:
    return ValidationError(_("该办件刚刚已被他人处理或已更新,您的操作没有生效。请刷新页面查看最新"
                             "状态后再操作。"), code="stale")


def swap_version(app_pk: int, expected_version: int | None, *,
                 start_review: datetime | None = None) -> None:
    """Compare-and-swap: bump the application's ``row_version`` if it is still
    ``expected_version`` (any version when None); raise :func:`stale` otherwise.
    ``start_review``: in the same ``UPDATE``, move a submitted application into review,
    updated at this time (the state as it stands in the row decides, not as it was read).

    One conditional ``UPDATE``: on PostgreSQL it takes the row lock, so of two officials
    acting at once the second waits, then finds the version changed; on SQLite transactions
    begin IMMEDIATE, so they run one after the other and the second finds it changed too.
    Written out once per process rather than compiled by the ORM each time: every write of
    the lifecycle makes it.
    """
    sql = "UPDATE {table} SET {version} = {version} + 1"
    params: list[Any] = []
    if start_review is not None:
        # SET expressions read the row as it was: the state tested is the old one.
        sql += (", {state} = CASE WHEN {state} = %s THEN %s ELSE {state} END"
                ", {updated} = CASE WHEN {state} = %s THEN %s ELSE {updated} END")
        at = _UPDATED_AT.get_db_prep_save(start_review, connection)
        params += [State.SUBMITTED.value, State.IN_REVIEW.value, State.SUBMITTED.value, at]
    sql += " WHERE {pk} = %s"
    params.append(app_pk)
    if expected_version is not None:
        sql += " AND {version} = %s"
        params.append(expected_version)
    with connection.cursor() as cursor:
        cursor.execute(sql.format(**_columns()), params)
        changed = cursor.rowcount
    if changed == 0:
        raise stale()


_UPDATED_AT = Application._meta.get_field("updated_at")
_quoted: dict[str, dict[str, str]] = {}


def _columns() -> dict[str, str]:
    names = _quoted.get(connection.alias)
    if names is None:
        quote = connection.ops.quote_name
        meta = Application._meta
        names = _quoted[connection.alias] = {
            "table": quote(meta.db_table), "pk": quote(str(meta.pk.column)),
            "version": quote("row_version"), "state": quote("state"),
            "updated": quote("updated_at")}
    return names


def locked(app_pk: int) -> Application:
    """The application, its row locked until the transaction ends (PostgreSQL)."""
    return Application.objects.select_for_update().get(pk=app_pk)


_batch: ContextVar[list[Event] | None] = ContextVar("applications_events", default=None)


def events_together() -> AbstractContextManager[None]:
    """Inside: :func:`add_event` collects the timeline's events, and the block's end writes
    them with one ``INSERT`` (a decision adds up to three). Open it just inside the
    transaction, with the same extent: on an exception nothing is written, as the
    transaction is rolled back anyway. Nested blocks join the outer one."""
    return context.collecting(_batch, Event.objects.bulk_create)


def add_event(app: Application, kind: str, title: str, *, at: datetime, actor: Any = None,
              actor_label: str = "", note: str = "", public: bool = True) -> Event:
    """Add an event to the application's timeline (written at the end of an enclosing
    :func:`events_together`, else at once)."""
    event = Event(application=app, at=at, kind=kind, title=title,
                  actor=actor if getattr(actor, "is_authenticated", False) else None,
                  actor_label=actor_label, note=note, public=public)
    pending = _batch.get()
    if pending is not None:
        pending.append(event)
    else:
        event.save(force_insert=True)
    return event


def masked_applicant(user: Any, acting_name: str = "") -> str:
    """How lists show the applicant: the enterprise's name (public), else the person's name
    masked (张*三)."""
    if acting_name:
        return acting_name[:64]
    name = (getattr(user, "real_name", "") or getattr(user, "display_name", "")
            or user.get_username())
    return mask_name(name)[:64]


def official_label(user: Any) -> str:
    return (getattr(user, "display_name", "") or user.get_username())[:128]
