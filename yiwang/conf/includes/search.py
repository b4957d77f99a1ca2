"""Unified search (统一搜索): the index backend."""

from __future__ import annotations

from yiwang.conf.env import env

_GROUP = "Search"

YIWANG_SEARCH_BACKEND = env(
    "YIWANG_SEARCH_BACKEND", "auto", group=_GROUP,
    doc="The full-text backend: `auto` (SQLite FTS5 on SQLite, PostgreSQL full text on "
        "PostgreSQL), `fts5`, `postgres`, or the dotted path of a plugin class (an "
        "OpenSearch or Meilisearch backend; see docs/search.md).",
)
