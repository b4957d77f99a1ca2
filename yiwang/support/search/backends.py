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

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings
from django.db import connection
from django.utils.module_loading import import_string

from yiwang.support.search.text import Query

TITLE_WEIGHT, BODY_WEIGHT, PINYIN_WEIGHT = 10.0, 1.0, 3.0
BUDGET = 2000  # documents ranked per query at most (a few microseconds each)
COUNT_CAP = 10_000  # totals are exact up to this, then "10,000+"
FACET_DEPTH = 1000  # facets count the best this many results
DF_SECONDS = 300.0
_df_cache: dict[tuple[str, str], tuple[int, float]] = {}


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
    capped: bool = False  # the total is at least this, or facets count the best results
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

    @staticmethod
    def _tags(filters: Filters | None) -> str:
        """The filters as tag terms ANDed to an expression (so they use the index)."""
        tags = []
        if filters is not None:
            tags += [f"k_{filters.kind}"] if filters.kind else []
            tags += [f"d_{filters.department}"] if filters.department else []
            tags += [f"a_{filters.audience}"] if filters.audience else []
        return "".join(f" AND tags : {_quote(t)}" for t in tags)

    def _match(self, query: Query, filters: Filters | None) -> str:
        if query.pinyin:
            expression = f"pinyin : {_quote(query.tokens[0])}*"
        else:
            expression = "{title_tokens tokens} : (" + " OR ".join(
                _quote(t) for t in query.terms) + ")"
        return expression + self._tags(filters)

    def _capped(self, cursor: Any, expression: str, cap: int) -> int:
        cursor.execute("SELECT count(*) FROM (SELECT rowid FROM search_fts WHERE search_fts "
                       "MATCH %s LIMIT %s)", [expression, cap + 1])
        return int(cursor.fetchone()[0])

    def _df(self, cursor: Any, column: str, term: str) -> int:
        """How many documents hold ``term`` (in ``column``: both, or the title), counted up
        to the budget and kept for a few minutes."""
        key = (column, term)
        found = _df_cache.get(key)
        if found is not None and time.monotonic() - found[1] < DF_SECONDS:
            return found[0]
        count = self._capped(cursor, f"{{{column}}} : {_quote(term)}", BUDGET)
        if len(_df_cache) > 50_000:
            _df_cache.clear()
        _df_cache[key] = (count, time.monotonic())
        return count

    def _candidates(self, cursor: Any, query: Query) -> tuple[str, bool | None]:
        """The expression whose matches are ranked, and whether it is every match.

        BM25 reads the whole document list of every word in the expression (for its
        weight) and then scores each match, so a query whose words are common is not
        ranked over all its matches: the candidates are the documents holding its rarer
        words (cheapest first, up to ``BUDGET`` documents) and those with its other words
        in their title (titles weigh ten times the body). A document that holds only
        common words, and only in its body, is counted in the total but not ranked — BM25
        would have put it far down anyway. When every word is that common (a query of
        "公司" alone), nothing is ranked: ``None`` says the newest documents holding all
        the words (or any, when none holds all) come first."""
        both = "{title_tokens tokens}"
        every = f"{both} : (" + " OR ".join(_quote(t) for t in query.terms) + ")"
        counts = {t: self._df(cursor, "title_tokens tokens", t) for t in query.terms}
        if sum(counts.values()) <= BUDGET:
            return every, True
        parts, spent = [], 0
        for term in sorted(query.terms, key=lambda t: counts[t]):
            if counts[term] and spent + counts[term] <= BUDGET:
                parts.append(f"{both} : {_quote(term)}")
                spent += counts[term]
        for term in query.terms:
            if spent >= BUDGET or f"{both} : {_quote(term)}" in parts:
                continue
            in_titles = self._df(cursor, "title_tokens", term)
            if in_titles and spent + in_titles <= BUDGET:
                parts.append(f"{{title_tokens}} : {_quote(term)}")
                spent += in_titles
        if not parts:  # every word is common, even in titles: not ranked (see search())
            together = f"{both} : (" + " AND ".join(_quote(t) for t in query.terms) + ")"
            return (together if self._capped(cursor, together, 0) else every), None
        return "(" + " OR ".join(parts) + ")", False

    def search(self, query: Query, filters: Filters, *, offset: int, limit: int,
               facets: bool = True) -> Hits:
        rank = f"bm25(search_fts, {TITLE_WEIGHT}, {BODY_WEIGHT}, {PINYIN_WEIGHT}, 0.0)"
        with connection.cursor() as cursor:
            everything: bool | None = True
            if query.pinyin:
                candidates = self._match(query, None)
            else:
                candidates, everything = self._candidates(cursor, query)
            # the total is counted over every match (not only the ranked candidates), up to
            # COUNT_CAP; facets over the best FACET_DEPTH candidates, read with the page
            # in one ranked query when there is no kind or department filter
            total = self._capped(cursor, self._match(query, filters), COUNT_CAP)
            unfiltered = Filters(audience=filters.audience)
            order, outer = "score", "f.score"
            if everything is None:  # newest first: BM25 would read every word's list
                rank, order, outer = "rowid", "rowid DESC", "f.rowid DESC"
            sql = ("SELECT f.rowid, d.kind, d.department_code, d.department_name FROM "
                   f"(SELECT rowid, {rank} AS score FROM search_fts WHERE search_fts MATCH %s "
                   f"ORDER BY {order} LIMIT %s) f JOIN search_document d ON d.id = f.rowid "
                   f"ORDER BY {outer}")
            if facets and filters == unfiltered and offset + limit <= FACET_DEPTH:
                cursor.execute(sql, [candidates + self._tags(filters), FACET_DEPTH])
                best = cursor.fetchall()
                ids = [row[0] for row in best[offset:offset + limit]]
            else:
                cursor.execute(
                    f"SELECT rowid FROM search_fts WHERE search_fts MATCH %s ORDER BY "
                    f"{'rowid DESC' if everything is None else rank} LIMIT %s OFFSET %s",
                    [candidates + self._tags(filters), limit, offset])
                ids = [row[0] for row in cursor.fetchall()]
                if not facets:
                    return Hits(ids=ids, total=min(total, COUNT_CAP),
                                capped=total > COUNT_CAP)
                cursor.execute(sql, [candidates + self._tags(unfiltered), FACET_DEPTH])
                best = cursor.fetchall()
            groups: Counter[tuple[str, str, str]] = Counter(
                (kind, department, name) for _pk, kind, department, name in best)
            flat = [(k, d, n, count) for (k, d, n), count in groups.items()]
        found = _facets(ids, flat, filters)
        found.total = min(total, COUNT_CAP)
        found.capped = total > COUNT_CAP or (everything is not True and total > FACET_DEPTH)
        return found

    def suggest(self, query: Query, *, limit: int) -> list[int]:
        """Documents whose title (or its pinyin) completes what is typed: the first
        matches found, not ranked — ranking a one-character prefix would read most titles;
        the caller orders them."""
        if query.pinyin:
            expression = f"pinyin : {_quote(query.tokens[0])}*"
        else:
            *whole, last = query.tokens or [""]
            parts = [_quote(t) for t in whole] + [f"{_quote(last)}*"]
            expression = "title_tokens : (" + " AND ".join(parts) + ")"
        with connection.cursor() as cursor:
            cursor.execute("SELECT rowid FROM search_fts WHERE search_fts MATCH %s LIMIT %s",
                           [f"({expression}) NOT tags : k_credit", limit * 4])
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
