"""PostgreSQL: the results of broad searches kept between compactions, exact at any time.

search_resultcache holds, per broad query (many matches), its total, its best documents in order and
its facet counts, as of the last compaction (the state the facet bitmaps describe). Rows written or
deleted since are corrected for at read time: search_supersededdocument keeps the compacted state of
every row changed or deleted since (captured by the writer before it overwrites the row), and rows not
in the bitmaps are matched live. See search/backends/database/postgres.py. SQLite has none of this.
"""

from django.db import migrations

POSTGRES_FORWARD = [
    # Each compaction gets a new generation; a cached result is read only in the generation it was made.
    "ALTER TABLE search_facetbitmapbase ADD COLUMN generation bigserial NOT NULL",
    # A row as it was at the last compaction, kept from its first change or its deletion until the next.
    """CREATE TABLE search_supersededdocument (
        id bigint PRIMARY KEY,
        object_type varchar(50) NOT NULL,
        object_id bigint NOT NULL,
        title varchar(300) NOT NULL,
        price numeric(18, 4),
        facet_ids integer[] NOT NULL,
        vector tsvector NOT NULL
    )""",
    "CREATE INDEX search_superseded_type ON search_supersededdocument (object_type)",
    """CREATE TABLE search_resultcache (
        object_type varchar(50) NOT NULL,
        key text NOT NULL,
        generation bigint NOT NULL,
        total integer NOT NULL,
        top bigint[] NOT NULL,
        facet_value_ids integer[] NOT NULL,
        facet_counts integer[] NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (object_type, key)
    )""",
    # The rows written since the last compaction, read by every cached search: few, so a partial index.
    "CREATE INDEX search_document_not_in_bitmaps ON search_searchdocument (object_type, id) WHERE NOT in_bitmaps",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS search_document_not_in_bitmaps",
    "DROP TABLE IF EXISTS search_resultcache",
    "DROP TABLE IF EXISTS search_supersededdocument",
    "ALTER TABLE search_facetbitmapbase DROP COLUMN IF EXISTS generation",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0003_facet_bitmaps")]

    operations = [migrations.RunPython(_run(POSTGRES_FORWARD), _run(POSTGRES_BACKWARD))]
