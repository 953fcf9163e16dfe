"""PostgreSQL: cached broad results carried over a compaction instead of emptied by it.

Each cached result now records the search it answers (`search`: its analysed words, filters, price
bounds and order, enough to build its statement again) and whether it was read or made since the last
compaction (`used`). A compaction folds the corrections for the rows written since into every result
used in the generation it closes (see search/backends/database/postgres.py), so the first search
after it is answered from the cache too. SQLite has none of this.
"""

from django.db import migrations

POSTGRES_FORWARD = [
    "ALTER TABLE search_resultcache ADD COLUMN search jsonb",
    "ALTER TABLE search_resultcache ADD COLUMN used boolean NOT NULL DEFAULT true",
]
POSTGRES_BACKWARD = [
    "ALTER TABLE search_resultcache DROP COLUMN IF EXISTS used",
    "ALTER TABLE search_resultcache DROP COLUMN IF EXISTS search",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0004_broad_result_cache")]

    operations = [migrations.RunPython(_run(POSTGRES_FORWARD), _run(POSTGRES_BACKWARD))]
