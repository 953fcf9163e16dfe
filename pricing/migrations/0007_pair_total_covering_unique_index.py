"""On PostgreSQL, the rollup's unique index also carries the columns a refresh reads.

A refresh reads each period's rollup rows in (period, product, trust) order, twice. With lines,
units_f, spend_f and ppu in the unique index (INCLUDE), PostgreSQL reads them from the index alone
(an index-only scan) instead of visiting the table for every row: a full refresh of 15.7 million
rollup rows took about a fifth less time (bench/pricing_bench.py). The constraint keeps its name and
its key, so Django's view of it is unchanged; SQLite keeps the plain unique constraint.
The index is rebuilt under the table's lock: about 10 s for 15.7 million rollup rows, during which
anything that reads or writes the rollup waits (writes of purchase lines, the charts of product pages).
"""

from django.db import migrations

from common.migration_operations import RunSQLOn

COVERING = """
ALTER TABLE pricing_pairtotal DROP CONSTRAINT pair_total_unique;
ALTER TABLE pricing_pairtotal ADD CONSTRAINT pair_total_unique
    UNIQUE (period_id, product_id, trust_id) INCLUDE (lines, units_f, spend_f, ppu);
"""

PLAIN = """
ALTER TABLE pricing_pairtotal DROP CONSTRAINT pair_total_unique;
ALTER TABLE pricing_pairtotal ADD CONSTRAINT pair_total_unique UNIQUE (period_id, product_id, trust_id);
"""


class Migration(migrations.Migration):
    dependencies = [("pricing", "0006_pair_seen_and_unrounded_trust_totals")]

    operations = [RunSQLOn("postgresql", COVERING, PLAIN)]
