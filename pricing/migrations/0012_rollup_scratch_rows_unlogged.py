"""On PostgreSQL, the rollup's scratch rows (pricing_dirtypair) are no longer written to the WAL.

A write of lines notes what it changes in the rollup there and consumes the rows in the same
transaction (pricing/sql/pair_totals_apply.sql), so the table is empty whenever no write is running:
the one thing an unlogged table gives up, its rows after a crash (PostgreSQL empties it), is nothing
here, and a standby needs none of them. A day's lines wrote about 83,000 WAL records (7 MB) for
these rows alone, and each write's WAL brings the next checkpoint nearer, after which every page a
write changes first goes to the WAL whole. The table is empty, so the change rewrites nothing.
SQLite has no such thing and is left as it is.
"""

from django.db import migrations

from common.migration_operations import RunSQLOn


class Migration(migrations.Migration):
    dependencies = [("pricing", "0011_rollup_indexes_a_write_feeds")]

    operations = [
        RunSQLOn(
            "postgresql",
            "ALTER TABLE pricing_dirtypair SET UNLOGGED",
            "ALTER TABLE pricing_dirtypair SET LOGGED",
        )
    ]
