"""PostgreSQL: a bitmap of documents per facet value, so facet counts of many matches are exact and
cheap (see search/backends/database/postgres.py). SQLite counts facets from the document rows."""

from django.db import migrations

POSTGRES_FORWARD = [
    # True once the row's facet values are in search_facetbitmap; any write sets it back to false.
    "ALTER TABLE search_searchdocument ADD COLUMN in_bitmaps boolean NOT NULL DEFAULT false",
    # Bit i of a value's bitmap is the document whose id is first_id + i.
    """CREATE TABLE search_facetbitmapbase (
        object_type varchar(50) PRIMARY KEY,
        first_id bigint NOT NULL,
        blocks integer NOT NULL,
        built_at timestamptz NOT NULL DEFAULT now()
    )""",
    # lz4: a few hundred bitmaps of tens of kilobytes are read per broad search; lz4 decompresses
    # them several times faster than the default pglz.
    """CREATE TABLE search_facetbitmap (
        object_type varchar(50) NOT NULL,
        facet_value_id integer NOT NULL,
        bits bit varying COMPRESSION lz4 NOT NULL,
        PRIMARY KEY (object_type, facet_value_id)
    )""",
]
POSTGRES_BACKWARD = [
    "DROP TABLE IF EXISTS search_facetbitmap",
    "DROP TABLE IF EXISTS search_facetbitmapbase",
    "ALTER TABLE search_searchdocument DROP COLUMN IF EXISTS in_bitmaps",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0002_engine_indexes")]

    operations = [migrations.RunPython(_run(POSTGRES_FORWARD), _run(POSTGRES_BACKWARD))]
