"""The full-text index of the database in use: an FTS5 table over search_document (external
content) on SQLite; a generated tsvector column with a GIN index on PostgreSQL."""

from django.db import migrations

SQLITE = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(title_tokens, tokens, pinyin, tags, "
    "content='search_document', content_rowid='id', "
    "tokenize=\"unicode61 remove_diacritics 0 tokenchars '_'\", prefix='1 2 3')",
]
SQLITE_REVERSE = ["DROP TABLE IF EXISTS search_fts"]
POSTGRES = [
    "ALTER TABLE search_document ADD COLUMN tsv tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple', title_tokens), 'A') || "
    "setweight(to_tsvector('simple', tokens), 'B') || "
    "setweight(to_tsvector('simple', pinyin), 'C') || "
    "setweight(to_tsvector('simple', tags), 'D')) STORED",
    "CREATE INDEX search_document_tsv_idx ON search_document USING gin (tsv)",
]
POSTGRES_REVERSE = ["DROP INDEX IF EXISTS search_document_tsv_idx",
                    "ALTER TABLE search_document DROP COLUMN IF EXISTS tsv"]


def _run(statements: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [
        migrations.RunPython(_run({"sqlite": SQLITE, "postgresql": POSTGRES}),
                             _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE})),
    ]
