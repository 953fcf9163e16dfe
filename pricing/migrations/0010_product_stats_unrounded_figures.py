"""Each product's figures as PostgreSQL's refresh computed them, before rounding.

A refresh that computes the same doubles again (most products in a nightly full refresh) leaves the
row alone without converting its figures to numeric or writing it (pricing/sql/
product_stats.postgresql.sql). Empty for rows written before (and always on SQLite): the next refresh
fills them.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("pricing", "0009_rollup_changes_by_difference"),
    ]

    operations = [
        migrations.AddField(
            model_name="productstats",
            name="cv_unrounded",
            field=models.FloatField(null=True),
        ),
        migrations.AddField(
            model_name="productstats",
            name="median_unrounded",
            field=models.FloatField(null=True),
        ),
        migrations.AddField(
            model_name="productstats",
            name="p10_unrounded",
            field=models.FloatField(null=True),
        ),
        migrations.AddField(
            model_name="productstats",
            name="p90_unrounded",
            field=models.FloatField(null=True),
        ),
        migrations.AddField(
            model_name="productstats",
            name="ppu_max_unrounded",
            field=models.FloatField(null=True),
        ),
        migrations.AddField(
            model_name="productstats",
            name="ppu_min_unrounded",
            field=models.FloatField(null=True),
        ),
        migrations.AddField(
            model_name="productstats",
            name="savings_median_unrounded",
            field=models.FloatField(null=True),
        ),
        migrations.AddField(
            model_name="productstats",
            name="savings_target_unrounded",
            field=models.FloatField(null=True),
        ),
        migrations.AddField(
            model_name="productstats",
            name="spend_unrounded",
            field=models.FloatField(null=True),
        ),
        migrations.AddField(
            model_name="productstats",
            name="units_unrounded",
            field=models.FloatField(null=True),
        ),
    ]
