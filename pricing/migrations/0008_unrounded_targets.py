"""Savings are computed against the target and median unrounded (12 places), not the four-place
figures shown. Existing figures were computed against rounded targets: every product is marked stale
and every period's trust totals are summed afresh at the next refresh."""

import django.db.models.functions.comparison
from django.db import migrations, models


def recompute_everything(apps, schema_editor):
    ProductStats = apps.get_model("pricing", "ProductStats")
    StaleProduct = apps.get_model("pricing", "StaleProduct")
    Period = apps.get_model("pricing", "Period")
    ProductStats.objects.update(target_ppu=models.F("ppu_p10"), median_ppu=models.F("ppu_median"))
    stale = set(StaleProduct.objects.values_list("period_id", "product_id"))
    StaleProduct.objects.bulk_create(
        [
            StaleProduct(period_id=period_id, product_id=product_id)
            for period_id, product_id in ProductStats.objects.values_list("period_id", "product_id")
            if (period_id, product_id) not in stale
        ],
        batch_size=5000,
    )
    Period.objects.update(trust_totals_resum=True)


class Migration(migrations.Migration):
    dependencies = [
        ("pricing", "0007_pair_total_covering_unique_index"),
    ]

    operations = [
        migrations.RemoveField(model_name="productstats", name="target_f"),
        migrations.RemoveField(model_name="productstats", name="median_f"),
        migrations.AddField(
            model_name="productstats",
            name="target_ppu",
            field=models.DecimalField(decimal_places=12, default=0, max_digits=30),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="productstats",
            name="median_ppu",
            field=models.DecimalField(decimal_places=12, default=0, max_digits=30),
            preserve_default=False,
        ),
        migrations.RunPython(recompute_everything, migrations.RunPython.noop),
        migrations.AddField(
            model_name="productstats",
            name="target_f",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.comparison.Cast("target_ppu", models.FloatField()),
                output_field=models.FloatField(),
            ),
        ),
        migrations.AddField(
            model_name="productstats",
            name="median_f",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.comparison.Cast("median_ppu", models.FloatField()),
                output_field=models.FloatField(),
            ),
        ),
    ]
