"""Single-row reads on the token hot paths (refresh, client credentials, userinfo).

Building a query through the ORM costs more than running it: for these wide models with
joins, about a millisecond per query, several times per token request, where the benchmark
budget of a whole refresh is four. These lookups run fixed SQL (built once per query and
database) on the default database's connection itself (not through Django's connection
proxy; the token models are not routed elsewhere), and turn the row into model instances
with ``Model.from_db``, applying the same converters the ORM applies (dates, UUIDs, JSON,
decrypted personal data). Only reads by unique keys, and the token INSERTs, live here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from yiwang.support.identity.models import AccountSession
from yiwang.support.identity.oidc.models import Authorization, RelyingParty

AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()

Converter = Callable[[Any, Any, Any], Any]


class _Shape:
    """How to select one model's columns under a table alias and rebuild instances."""

    def __init__(self, model: type[Model], alias: str, db: Any) -> None:
        quote = db.ops.quote_name
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.attnames = [f.attname for f in self.fields]
        self.columns = ", ".join(f"{quote(alias)}.{quote(str(f.column))}" for f in self.fields)
        expressions = [f.get_col(alias) for f in self.fields]
        self.converters: list[list[tuple[Converter, Any]]] = [
            [(c, e) for c in (db.ops.get_db_converters(e) + e.get_db_converters(db))]
            for e in expressions
        ]

    def build(self, row: Sequence[Any], db: Any) -> Any:
        if row[0] is None and self.attnames[0] == "id":  # the LEFT JOIN found nothing
            return None
        values = []
        for value, converters in zip(row, self.converters, strict=True):
            for convert, expression in converters:
                value = convert(value, expression, db)
            values.append(value)
        return self.model.from_db(db.alias, self.attnames, values)


class _Query:
    """A fixed SELECT over one or more shapes, built once per database vendor."""

    def __init__(self, shapes: list[_Shape], sql: str) -> None:
        self.shapes, self.sql = shapes, sql

    def row(self, db: Any, params: list[Any]) -> Sequence[Any] | None:
        with db.cursor() as cursor:
            cursor.execute(self.sql, params)
            found: Sequence[Any] | None = cursor.fetchone()
        return found

    def split(self, row: Sequence[Any], db: Any) -> list[Any]:
        built, start = [], 0
        for shape in self.shapes:
            end = start + len(shape.fields)
            built.append(shape.build(row[start:end], db))
            start = end
        return built


# Per database (alias and vendor): the SQL and the converters, which the rows of every
# connection to that database share.
_queries: dict[tuple[str, str, str], Any] = {}
_lock = threading.Lock()


def _db() -> Any:
    return connections[DEFAULT_DB_ALIAS]


def _cached(db: Any, name: str, build: Callable[[Any], Any]) -> Any:
    key = (db.alias, db.vendor, name)
    found = _queries.get(key)
    if found is None:
        found = build(db)
        with _lock:
            _queries[key] = found
    return found


def _one(name: str, build: Callable[[Any], _Query], params: list[Any]) -> list[Any] | None:
    """The instances of the one row query ``name`` (built by ``build`` on first use) finds
    with ``params``, one per shape; None when it finds none."""
    db = _db()
    query = _cached(db, name, build)
    row = query.row(db, params)
    return query.split(row, db) if row is not None else None


def _table(db: Any, model: type[Model], alias: str) -> str:
    quote = db.ops.quote_name
    return f"{quote(model._meta.db_table)} {quote(alias)}"


def _column(db: Any, model: type[Model], alias: str, field_name: str) -> str:
    quote = db.ops.quote_name
    column = getattr(model._meta.get_field(field_name), "column", None)
    return f"{quote(alias)}.{quote(str(column))}"


def _relying_party_query(db: Any) -> _Query:
    shape = _Shape(RelyingParty, "rp", db)
    return _Query([shape], f"SELECT {shape.columns} FROM {_table(db, RelyingParty, 'rp')} "  # noqa: S608
                           f"WHERE {_column(db, RelyingParty, 'rp', 'client_id')} = %s")


def relying_party(client_id: str) -> RelyingParty | None:
    """The relying party with this client id."""
    found = _one("relying_party", _relying_party_query, [client_id])
    return found[0] if found is not None else None


def _authorization_joins(db: Any, family: str) -> str:
    """LEFT JOINs of the authorization of token family ``family`` (a column) and its session,
    under the aliases ``a`` and ``s``."""
    return (
        f"LEFT JOIN {_table(db, Authorization, 'a')} ON {_column(db, Authorization, 'a', 'family')}"
        f" = {family} "
        f"LEFT JOIN {_table(db, AccountSession, 's')} ON {_column(db, AccountSession, 's', 'id')}"
        f" = {_column(db, Authorization, 'a', 'session')} ")


def _joined(found: Any, session: Any, person: Any) -> Any:
    """The authorization ``found`` with its ``session`` (whose person is ``person`` when
    the ids match, to spare a read), or None without either."""
    if found is None or session is None:  # (a session is never missing: CASCADE)
        return None
    if person is not None and session.user_id == person.pk:
        session.user = person
    found.session = session
    return found


def _attach(token: Any, person: Any, found: Any, session: Any) -> None:
    """Keep the authorization read with a token on it (see :func:`prefetched_authorization`)."""
    token._yiwang_authorization = _joined(found, session, person)


NOT_READ = object()


def prefetched_authorization(token: Any) -> Any:
    """The authorization :func:`access_token` or :func:`refresh_token` read along with
    ``token`` (None: it has none), or ``NOT_READ`` for a token read some other way."""
    return getattr(token, "_yiwang_authorization", NOT_READ)


def _access_token_query(db: Any) -> _Query:
    user_model = get_user_model()
    shapes = [_Shape(AccessToken, "t", db), _Shape(RelyingParty, "rp", db),
              _Shape(user_model, "u", db), _Shape(Authorization, "a", db),
              _Shape(AccountSession, "s", db)]
    return _Query(shapes, (
        f"SELECT {', '.join(p.columns for p in shapes)} "  # noqa: S608
        f"FROM {_table(db, AccessToken, 't')} "
        f"LEFT JOIN {_table(db, RelyingParty, 'rp')} ON {_column(db, RelyingParty, 'rp', 'id')} = "
        f"{_column(db, AccessToken, 't', 'application')} "
        f"LEFT JOIN {_table(db, user_model, 'u')} ON {_column(db, user_model, 'u', 'id')} = "
        f"{_column(db, AccessToken, 't', 'user')} "
        f"LEFT JOIN {_table(db, RefreshToken, 'r')} ON "
        f"{_column(db, RefreshToken, 'r', 'access_token')} = {_column(db, AccessToken, 't', 'id')} "
        f"{_authorization_joins(db, _column(db, RefreshToken, 'r', 'token_family'))}"
        f"WHERE {_column(db, AccessToken, 't', 'token_checksum')} = %s"))


def access_token(checksum: str) -> Any:
    """The access token with this checksum, with its relying party, person and (see
    :func:`prefetched_authorization`) the authorization of its refresh-token family."""
    read = _one("access_token", _access_token_query, [checksum])
    if read is None:
        return None
    token, rp, person, found, session = read
    token.application = rp
    token.user = person
    _attach(token, person, found, session)
    return token


def _refresh_token_query(db: Any) -> _Query:
    user_model = get_user_model()
    shapes = [_Shape(RefreshToken, "r", db), _Shape(AccessToken, "t", db),
              _Shape(user_model, "u", db), _Shape(Authorization, "a", db),
              _Shape(AccountSession, "s", db)]
    revoked = _column(db, RefreshToken, "r", "revoked")
    return _Query(shapes, (
        f"SELECT {', '.join(p.columns for p in shapes)} "  # noqa: S608
        f"FROM {_table(db, RefreshToken, 'r')} "
        f"LEFT JOIN {_table(db, AccessToken, 't')} ON {_column(db, AccessToken, 't', 'id')} = "
        f"{_column(db, RefreshToken, 'r', 'access_token')} "
        f"LEFT JOIN {_table(db, user_model, 'u')} ON {_column(db, user_model, 'u', 'id')} = "
        f"{_column(db, RefreshToken, 'r', 'user')} "
        f"{_authorization_joins(db, _column(db, RefreshToken, 'r', 'token_family'))}"
        f"WHERE {_column(db, RefreshToken, 'r', 'token_checksum')} = %s "
        f"ORDER BY CASE WHEN {revoked} IS NULL THEN 0 ELSE 1 END, {revoked} DESC"))


def refresh_token(checksum: str) -> Any:
    """The refresh token with this checksum (the live row first, should a revoked one share
    it), with its access token, person and (see :func:`prefetched_authorization`) the
    authorization of its family."""
    read = _one("refresh_token", _refresh_token_query, [checksum])
    if read is None:
        return None
    token, access, person, found, session = read
    token.access_token = access
    token.user = person
    _attach(token, person, found, session)
    return token


def _authorization_query(db: Any) -> _Query:
    shapes = [_Shape(Authorization, "a", db), _Shape(AccountSession, "s", db)]
    return _Query(shapes, (
        f"SELECT {', '.join(p.columns for p in shapes)} "  # noqa: S608
        f"FROM {_table(db, Authorization, 'a')} "
        f"JOIN {_table(db, AccountSession, 's')} ON {_column(db, AccountSession, 's', 'id')} = "
        f"{_column(db, Authorization, 'a', 'session')} "
        f"WHERE {_column(db, Authorization, 'a', 'family')} = %s"))


def authorization(family: Any, *, person: Any = None) -> Authorization | None:
    """The authorization of a token family with its session (whose person is ``person``,
    when that is given, to spare a read)."""
    field = Authorization._meta.get_field("family")
    read = _one("authorization", _authorization_query,
                [field.get_db_prep_value(family, _db())])
    if read is None:
        return None
    found, session = read
    return _joined(found, session, person)


def family_of_access_token(access_token_id: int) -> Any:
    """The refresh-token family an access token belongs to, or None."""
    db = _db()
    field = RefreshToken._meta.get_field("token_family")
    column = field.get_col("r")
    query = _cached(db, "family_of_access_token", lambda db: _Query([], (
        f"SELECT {_column(db, RefreshToken, 'r', 'token_family')} "  # noqa: S608
        f"FROM {_table(db, RefreshToken, 'r')} "
        f"WHERE {_column(db, RefreshToken, 'r', 'access_token')} = %s")))
    row = query.row(db, [access_token_id])
    if row is None or row[0] is None:
        return None
    value = row[0]
    for convert in db.ops.get_db_converters(column):
        value = convert(value, column, db)
    return value


def insert(obj: Model) -> Model:
    """INSERT ``obj`` (a new token row) with fixed SQL instead of ``save()``'s query building.

    Fields prepare their values as in ``save()`` (``auto_now``, the token checksum). Model
    signals are not sent: this is only for DOT's token models, which no receiver watches.
    """
    db = _db()
    meta = obj._meta
    fields, sql, key = _cached(db, f"insert:{meta.label}", lambda db: _insert_sql(db, meta))
    values = [f.get_db_prep_save(f.pre_save(obj, True), db) for f in fields]
    with db.cursor() as cursor:
        if db.features.can_return_columns_from_insert:
            cursor.execute(sql, values)
            row = cursor.fetchone()
            new_pk = row[0] if row else None
        else:
            cursor.execute(sql, values)
            new_pk = db.ops.last_insert_id(cursor, str(meta.db_table), key)
    setattr(obj, meta.pk.attname, new_pk)
    obj._state.adding = False
    obj._state.db = db.alias
    return obj


def _insert_sql(db: Any, meta: Any) -> tuple[list[Any], str, str]:
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    quote = db.ops.quote_name
    table, key = str(meta.db_table), str(meta.pk.column)
    columns = ", ".join(quote(str(f.column)) for f in fields)
    sql = (f"INSERT INTO {quote(table)} ({columns}) "  # noqa: S608
           f"VALUES ({', '.join(['%s'] * len(fields))})")
    if db.features.can_return_columns_from_insert:
        sql += f" RETURNING {quote(key)}"
    return fields, sql, key
