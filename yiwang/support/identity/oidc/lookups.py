"""Single-row reads on the token hot paths (refresh, client credentials, userinfo).

Building a query through the ORM costs more than running it: for these wide models with
joins, about a millisecond per query, several times per token request, where the benchmark
budget of a whole refresh is four. These lookups run fixed SQL (built once per model and
connection) through a cursor and turn the row into model instances with
``Model.from_db``, applying the same converters the ORM applies (dates, UUIDs, JSON,
decrypted personal data). Only reads by unique keys live here; writes use the ORM.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Model
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from yiwang.support.identity.models import AccountSession
from yiwang.support.identity.oidc.models import Authorization, RelyingParty

AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()

Converter = Callable[[Any, Any, Any], Any]


class _Shape:
    """How to select one model's columns under a table alias and rebuild instances."""

    def __init__(self, model: type[Model], alias: str) -> None:
        quote = connection.ops.quote_name
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.attnames = [f.attname for f in self.fields]
        self.columns = ", ".join(f"{quote(alias)}.{quote(str(f.column))}" for f in self.fields)
        expressions = [f.get_col(alias) for f in self.fields]
        self.converters: list[list[tuple[Converter, Any]]] = [
            [(c, e) for c in (connection.ops.get_db_converters(e)
                              + e.get_db_converters(connection))]
            for e in expressions
        ]

    def build(self, row: Sequence[Any]) -> Any:
        if row[0] is None and self.attnames[0] == "id":  # the LEFT JOIN found nothing
            return None
        values = []
        for value, converters in zip(row, self.converters, strict=True):
            for convert, expression in converters:
                value = convert(value, expression, connection)
            values.append(value)
        return self.model.from_db(connection.alias, self.attnames, values)


_shapes: dict[tuple[str, str, str], _Shape] = {}
_lock = threading.Lock()


def _shape(model: type[Model], alias: str) -> _Shape:
    # Per database vendor: the converters are the backend's pure functions (they receive
    # the connection they work for as an argument), the same for every connection.
    key = (connection.vendor, model._meta.label, alias)
    found = _shapes.get(key)
    if found is None:
        found = _Shape(model, alias)
        with _lock:
            _shapes[key] = found
    return found


def _table(model: type[Model], alias: str) -> str:
    quote = connection.ops.quote_name
    return f"{quote(model._meta.db_table)} {quote(alias)}"


def _column(model: type[Model], alias: str, field_name: str) -> str:
    quote = connection.ops.quote_name
    column = getattr(model._meta.get_field(field_name), "column", None)
    return f"{quote(alias)}.{quote(str(column))}"


def _param(model: type[Model], field_name: str, value: Any) -> Any:
    field = model._meta.get_field(field_name)
    return field.get_db_prep_value(value, connection)  # type: ignore[union-attr]


def _row(sql: str, params: list[Any]) -> Sequence[Any] | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found: Sequence[Any] | None = cursor.fetchone()
    return found


def relying_party(client_id: str) -> RelyingParty | None:
    """The relying party with this client id."""
    shape = _shape(RelyingParty, "rp")
    row = _row(f"SELECT {shape.columns} FROM {_table(RelyingParty, 'rp')} "  # noqa: S608
               f"WHERE {_column(RelyingParty, 'rp', 'client_id')} = %s",
               [_param(RelyingParty, "client_id", client_id)])
    return shape.build(row) if row else None


def access_token(checksum: str) -> Any:
    """The access token with this checksum, with its relying party and person."""
    user_model = get_user_model()
    parts = [_shape(AccessToken, "t"), _shape(RelyingParty, "rp"), _shape(user_model, "u")]
    row = _row(
        f"SELECT {', '.join(p.columns for p in parts)} "  # noqa: S608
        f"FROM {_table(AccessToken, 't')} "
        f"LEFT JOIN {_table(RelyingParty, 'rp')} ON {_column(RelyingParty, 'rp', 'id')} = "
        f"{_column(AccessToken, 't', 'application')} "
        f"LEFT JOIN {_table(user_model, 'u')} ON {_column(user_model, 'u', 'id')} = "
        f"{_column(AccessToken, 't', 'user')} "
        f"WHERE {_column(AccessToken, 't', 'token_checksum')} = %s",
        [checksum])
    if row is None:
        return None
    token, rp, person = _split(row, parts)
    token.application = rp
    token.user = person
    return token


def refresh_token(checksum: str) -> Any:
    """The refresh token with this checksum (the live row first, should a revoked one share
    it), with its access token and person."""
    user_model = get_user_model()
    parts = [_shape(RefreshToken, "r"), _shape(AccessToken, "t"), _shape(user_model, "u")]
    revoked = _column(RefreshToken, "r", "revoked")
    row = _row(
        f"SELECT {', '.join(p.columns for p in parts)} "  # noqa: S608
        f"FROM {_table(RefreshToken, 'r')} "
        f"LEFT JOIN {_table(AccessToken, 't')} ON {_column(AccessToken, 't', 'id')} = "
        f"{_column(RefreshToken, 'r', 'access_token')} "
        f"LEFT JOIN {_table(user_model, 'u')} ON {_column(user_model, 'u', 'id')} = "
        f"{_column(RefreshToken, 'r', 'user')} "
        f"WHERE {_column(RefreshToken, 'r', 'token_checksum')} = %s "
        f"ORDER BY CASE WHEN {revoked} IS NULL THEN 0 ELSE 1 END, {revoked} DESC",
        [checksum])
    if row is None:
        return None
    token, access, person = _split(row, parts)
    token.access_token = access
    token.user = person
    return token


def authorization(family: Any, *, person: Any = None) -> Authorization | None:
    """The authorization of a token family with its session (whose person is ``person``,
    when that is given, to spare a read)."""
    parts = [_shape(Authorization, "a"), _shape(AccountSession, "s")]
    row = _row(
        f"SELECT {', '.join(p.columns for p in parts)} "  # noqa: S608
        f"FROM {_table(Authorization, 'a')} "
        f"JOIN {_table(AccountSession, 's')} ON {_column(AccountSession, 's', 'id')} = "
        f"{_column(Authorization, 'a', 'session')} "
        f"WHERE {_column(Authorization, 'a', 'family')} = %s",
        [_param(Authorization, "family", family)])
    if row is None:
        return None
    found, session = _split(row, parts)
    if person is not None and session.user_id == person.pk:
        session.user = person
    found.session = session
    return found


def family_of_access_token(access_token_id: int) -> Any:
    """The refresh-token family an access token belongs to, or None."""
    row = _row(f"SELECT {_column(RefreshToken, 'r', 'token_family')} "  # noqa: S608
               f"FROM {_table(RefreshToken, 'r')} "
               f"WHERE {_column(RefreshToken, 'r', 'access_token')} = %s", [access_token_id])
    if row is None or row[0] is None:
        return None
    field = RefreshToken._meta.get_field("token_family")
    value = row[0]
    for convert in connection.ops.get_db_converters(field.get_col("r")):
        value = convert(value, field.get_col("r"), connection)
    return value


def _split(row: Sequence[Any], parts: list[_Shape]) -> list[Any]:
    built, start = [], 0
    for part in parts:
        end = start + len(part.fields)
        built.append(part.build(row[start:end]))
        start = end
    return built


def insert(obj: Model) -> Model:
    """INSERT ``obj`` (a new token row) with fixed SQL instead of ``save()``'s query building.

    Fields prepare their values as in ``save()`` (``auto_now``, the token checksum). Model
    signals are not sent: this is only for DOT's token models, which no receiver watches.
    """
    meta = obj._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    values = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    quote = connection.ops.quote_name
    pk = meta.pk
    assert pk is not None
    table, key = str(meta.db_table), str(pk.column)
    columns = ", ".join(quote(str(f.column)) for f in fields)
    sql = (f"INSERT INTO {quote(table)} ({columns}) "  # noqa: S608
           f"VALUES ({', '.join(['%s'] * len(fields))})")
    with connection.cursor() as cursor:
        if connection.features.can_return_columns_from_insert:
            cursor.execute(f"{sql} RETURNING {quote(key)}", values)
            row = cursor.fetchone()
            new_pk = row[0] if row else None
        else:
            cursor.execute(sql, values)
            new_pk = connection.ops.last_insert_id(cursor, table, key)
    setattr(obj, pk.attname, new_pk)
    obj._state.adding = False
    obj._state.db = connection.alias
    return obj
