"""The database session store with its one per-request query built once.

``SESSION_ENGINE = "yiwang.support.identity.session_store"`` behaves as Django's
``django.contrib.sessions.backends.db``: the same table, the same rows, the same answers. Only
reading a session on each request is cheaper: its SQL is written once per process instead of
being compiled by the ORM every time (about as long as running it on SQLite).
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connections, router
from django.utils import timezone

_sql: dict[str, str] = {}


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self) -> Any:
        key = self.session_key
        if not key:  # no valid key: as the ORM's lookup of None, nothing found
            self._session_key = None
            return None
        model = self.model
        alias = router.db_for_read(model)
        connection = connections[alias]
        sql = _sql.get(alias)
        if sql is None:
            qn = connection.ops.quote_name
            meta = model._meta
            column = {field.name: qn(str(field.column)) for field in meta.concrete_fields}
            sql = _sql[alias] = " ".join([
                "SELECT", column["session_data"], "FROM", qn(meta.db_table),
                "WHERE", column["session_key"], "= %s AND", column["expire_date"], "> %s",
            ])
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(sql, [key, now])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        # load() reads only session_data; the instance is as the ORM's but for expire_date.
        return model(session_key=key, session_data=row[0])
