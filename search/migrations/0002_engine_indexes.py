"""Vendor-specific index structures: PostgreSQL full-text vector + trigram vocabulary; SQLite FTS5."""

from django.db import migrations

POSTGRES_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "ALTER TABLE search_searchdocument ADD COLUMN vector tsvector NOT NULL DEFAULT ''::tsvector",
    # fastupdate off: no pending list to scan at query time, so latency stays flat between vacuums.
    "CREATE INDEX search_document_vector ON search_searchdocument USING gin (vector) WITH (fastupdate = off)",
    "ALTER TABLE search_searchdocument ADD COLUMN facet_ids integer[] NOT NULL DEFAULT '{}'",
    "CREATE INDEX search_document_facet_ids ON search_searchdocument USING gin (facet_ids)",
    "CREATE INDEX search_term_trgm ON search_searchterm USING gin (term gin_trgm_ops)",
    "CREATE INDEX search_term_prefix ON search_searchterm (term text_pattern_ops)",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS search_term_prefix",
    "DROP INDEX IF EXISTS search_term_trgm",
    "DROP INDEX IF EXISTS search_document_facet_ids",
    "ALTER TABLE search_searchdocument DROP COLUMN IF EXISTS facet_ids",
    "DROP INDEX IF EXISTS search_document_vector",
    "ALTER TABLE search_searchdocument DROP COLUMN IF EXISTS vector",
]
SQLITE_FORWARD = [
    # rowid = search_searchdocument.id; columns a-d carry the text of weight A-D.
    "CREATE VIRTUAL TABLE search_fts USING fts5(a, b, c, d, tokenize = 'porter unicode61 remove_diacritics 2')",
]
SQLITE_BACKWARD = ["DROP TABLE IF EXISTS search_fts"]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        ),
    ]
