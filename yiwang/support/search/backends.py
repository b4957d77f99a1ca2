"""Search backends: the full-text index behind ``Document``, as plugins.

- ``fts5`` (SQLite, the default): an FTS5 table with ``search_document`` as its external
  content (title tokens, body tokens, pinyin, tags); ranked by BM25 with the title weighted
  10 to 1; filters are tag terms inside the MATCH expression, so they use the index.
- ``postgres``: a generated ``tsvector`` column over the same tokens (weights A–D) with a
  GIN index, ranked by ``ts_rank_cd``; filters are plain column conditions.

Both segment nothing: they index the tokens that ``text.py`` made, so a query means the
same thing on either. A backend for a very large corpus (OpenSearch, Meilisearch) implements
the same four methods against its own index — see docs/search.md.
"""

# ruff: noqa: S608 - the SQL is built from constants and column names; values are parameters
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings
from django.db import connection
from django.utils.module_loading import import_string

from yiwang.support.search.text import Query

TITLE_WEIGHT, BODY_WEIGHT, PINYIN_WEIGHT = 10.0, 1.0, 3.0


@dataclass(frozen=True)
class Filters:
    kind: str = ""
    department: str = ""
    audience: str = ""


@dataclass
class Hits:
    """A page of document ids (best first), the total, and the facet counts (by kind with
    the department filter applied, by department with the kind filter applied)."""

    ids: list[int]
    total: int
    kinds: dict[str, int] = field(default_factory=dict)
    departments: dict[str, int] = field(default_factory=dict)
    department_names: dict[str, str] = field(default_factory=dict)


class Backend(Protocol):
    name: str

    def add(self, rows: Sequence[dict[str, Any]]) -> None: ...

    def delete(self, rows: Sequence[dict[str, Any]]) -> None: ...

    def search(self, query: Query, filters: Filters, *, offset: int, limit: int,
               facets: bool = True) -> Hits: ...

    def suggest(self, query: Query, *, limit: int) -> list[int]: ...

    def rebuild(self) -> None: ...


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


class Fts5Backend:
    """SQLite FTS5 over ``search_document`` (external content)."""

    name = "fts5"
    COLUMNS = ("title_tokens", "tokens", "pinyin", "tags")

    def add(self, rows: Sequence[dict[str, Any]]) -> None:
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO search_fts(rowid, title_tokens, tokens, pinyin, tags) "
                "VALUES (%s, %s, %s, %s, %s)",
                [(r["id"], *(r[c] for c in self.COLUMNS)) for r in rows])

    def delete(self, rows: Sequence[dict[str, Any]]) -> None:
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO search_fts(search_fts, rowid, title_tokens, tokens, pinyin, tags)"
                " VALUES ('delete', %s, %s, %s, %s, %s)",
                [(r["id"], *(r[c] for c in self.COLUMNS)) for r in rows])

    def _match(self, query: Query, filters: Filters | None) -> str:
        if query.pinyin:
            expression = f"pinyin : {_quote(query.tokens[0])}*"
        else:
            expression = "{title_tokens tokens} : (" + " OR ".join(
                _quote(t) for t in query.terms) + ")"
        tags = []
        if filters is not None:
            tags += [f"k_{filters.kind}"] if filters.kind else []
            tags += [f"d_{filters.department}"] if filters.department else []
            tags += [f"a_{filters.audience}"] if filters.audience else []
        return expression + "".join(f" AND tags : {_quote(t)}" for t in tags)

    def search(self, query: Query, filters: Filters, *, offset: int, limit: int,
               facets: bool = True) -> Hits:
        rank = f"bm25(search_fts, {TITLE_WEIGHT}, {BODY_WEIGHT}, {PINYIN_WEIGHT}, 0.0)"
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT rowid FROM search_fts WHERE search_fts MATCH %s ORDER BY {rank} "
                "LIMIT %s OFFSET %s", [self._match(query, filters), limit, offset])
            ids = [row[0] for row in cursor.fetchall()]
            if not facets:
                cursor.execute("SELECT count(*) FROM search_fts WHERE search_fts MATCH %s",
                               [self._match(query, filters)])
                return Hits(ids=ids, total=int(cursor.fetchone()[0]))
            cursor.execute(
                "SELECT d.kind, d.department_code, max(d.department_name), count(*) "
                "FROM search_fts "
                "JOIN search_document d ON d.id = search_fts.rowid "
                "WHERE search_fts MATCH %s GROUP BY d.kind, d.department_code",
                [self._match(query, Filters(audience=filters.audience))])
            groups = cursor.fetchall()
        return _facets(ids, groups, filters)

    def suggest(self, query: Query, *, limit: int) -> list[int]:
        if query.pinyin:
            expression = f"pinyin : {_quote(query.tokens[0])}*"
        else:
            *whole, last = query.tokens or [""]
            parts = [_quote(t) for t in whole] + [f"{_quote(last)}*"]
            expression = "title_tokens : (" + " AND ".join(parts) + ")"
        rank = f"bm25(search_fts, {TITLE_WEIGHT}, {BODY_WEIGHT}, {PINYIN_WEIGHT}, 0.0)"
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT rowid FROM search_fts WHERE search_fts MATCH %s ORDER BY {rank} "
                "LIMIT %s", [f"({expression}) NOT tags : k_credit", limit])
            return [row[0] for row in cursor.fetchall()]

    def rebuild(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
            cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")


def _facets(ids: list[int], groups: list[tuple[str, str, str, int]], filters: Filters
            ) -> Hits:
    kinds: Counter[str] = Counter()
    departments: Counter[str] = Counter()
    names: dict[str, str] = {}
    total = 0
    for kind, department, name, count in groups:
        names[department] = name or department
        if not filters.department or department == filters.department:
            kinds[kind] += count
        if not filters.kind or kind == filters.kind:
            departments[department] += count
        if (not filters.kind or kind == filters.kind) and (
                not filters.department or department == filters.department):
            total += count
    departments.pop("", None)
    top = dict(departments.most_common(12))
    return Hits(ids=ids, total=total, kinds=dict(kinds), departments=top,
                department_names={d: names[d] for d in top})


class PostgresBackend:
    """PostgreSQL full text over the same tokens (the ``tsv`` generated column)."""

    name = "postgres"
    WEIGHTS = "'{0.0, 0.3, 0.1, 1.0}'"  # D (tags), C (pinyin), B (body), A (title)

    def add(self, rows: Sequence[dict[str, Any]]) -> None:
        """Nothing to do: ``tsv`` is generated from the row."""

    def delete(self, rows: Sequence[dict[str, Any]]) -> None:
        """Nothing to do: the row's deletion takes its ``tsv`` along."""

    @staticmethod
    def _tsquery(query: Query) -> str:
        def lexeme(term: str) -> str:
            return "'" + term.replace("\\", "").replace("'", "''") + "'"

        if query.pinyin:
            return lexeme(query.tokens[0]) + ":*C"
        return " | ".join(lexeme(t) for t in query.terms)

    def _where(self, filters: Filters) -> tuple[str, list[Any]]:
        sql, params = "", []
        for column, value in (("kind", filters.kind), ("department_code", filters.department),
                              ("audience", filters.audience)):
            if value:
                sql += f" AND d.{column} = %s"
                params.append(value)
        return sql, params

    def search(self, query: Query, filters: Filters, *, offset: int, limit: int,
               facets: bool = True) -> Hits:
        where, params = self._where(filters)
        tsquery = self._tsquery(query)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT d.id FROM search_document d, to_tsquery('simple', %s) q "
                f"WHERE d.tsv @@ q{where} ORDER BY ts_rank_cd({self.WEIGHTS}, d.tsv, q) DESC, "
                "d.id LIMIT %s OFFSET %s", [tsquery, *params, limit, offset])
            ids = [row[0] for row in cursor.fetchall()]
            if not facets:
                cursor.execute(f"SELECT count(*) FROM search_document d, "
                               f"to_tsquery('simple', %s) q WHERE d.tsv @@ q{where}",
                               [tsquery, *params])
                return Hits(ids=ids, total=int(cursor.fetchone()[0]))
            where, params = self._where(Filters(audience=filters.audience))
            cursor.execute(
                f"SELECT d.kind, d.department_code, max(d.department_name), count(*) "
                f"FROM search_document d, "
                f"to_tsquery('simple', %s) q WHERE d.tsv @@ q{where} "
                "GROUP BY d.kind, d.department_code", [tsquery, *params])
            groups = cursor.fetchall()
        return _facets(ids, groups, filters)

    def suggest(self, query: Query, *, limit: int) -> list[int]:
        if query.pinyin:
            tsquery = self._tsquery(query)
        else:
            *whole, last = query.tokens or [""]
            tsquery = " & ".join([*("'" + t.replace("'", "''") + "':A" for t in whole),
                                  "'" + last.replace("'", "''") + "':*A"])
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT d.id FROM search_document d, to_tsquery('simple', %s) q "
                f"WHERE d.tsv @@ q AND d.kind <> 'credit' "
                f"ORDER BY ts_rank_cd({self.WEIGHTS}, d.tsv, q) DESC, d.id LIMIT %s",
                [tsquery, limit])
            return [row[0] for row in cursor.fetchall()]

    def rebuild(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("REINDEX INDEX search_document_tsv_idx")


_backends: dict[str, Backend] = {}


def backend() -> Backend:
    """The configured backend (``YIWANG_SEARCH_BACKEND``: ``auto`` picks by database; or a
    dotted path to a plugin class)."""
    name = str(settings.YIWANG_SEARCH_BACKEND)
    if name == "auto":
        name = "postgres" if connection.vendor == "postgresql" else "fts5"
    found = _backends.get(name)
    if found is None:
        builtin: dict[str, type] = {"fts5": Fts5Backend, "postgres": PostgresBackend}
        found = builtin[name]() if name in builtin else import_string(name)()
        _backends[name] = found
    return found
