"""A write's changes to the rollup carry their differences (lines, units, spend to add to each row).

The rollup rows a write touches were recomputed from the lines through their index; now the write
notes what each line it writes adds and each line it replaces takes away, and
pricing/sql/pair_totals_apply.sql adds the sums to the rollup. DirtyPair holds only rows of a write
in progress (consumed in the same transaction), so the new columns need no backfill.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("pricing", "0008_unrounded_targets"),
    ]

    operations = [
        migrations.AddField(
            model_name="dirtypair",
            name="lines",
            field=models.IntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="dirtypair",
            name="spend",
            field=models.DecimalField(db_default=0, decimal_places=7, default=0, max_digits=24),
        ),
        migrations.AddField(
            model_name="dirtypair",
            name="units",
            field=models.DecimalField(db_default=0, decimal_places=3, default=0, max_digits=24),
        ),
    ]
