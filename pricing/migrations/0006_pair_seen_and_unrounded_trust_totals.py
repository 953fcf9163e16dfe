"""Trusts' totals adjusted by difference: rollup rows as last counted, unrounded sums, a re-sum flag.

Totals stored before this migration have no unrounded sums (and writes made since their last refresh
were not kept as PairSeen rows), so every existing period is flagged for its trusts' totals to be
summed afresh at its next refresh.
"""

import django.db.models.deletion
from django.db import migrations, models


def flag_existing_periods(apps, schema_editor) -> None:
    apps.get_model("pricing", "Period").objects.update(trust_totals_resum=True)


class Migration(migrations.Migration):

    dependencies = [
        ('catalogue', '0005_offer_unit_price_exact_on_sqlite'),
        ('organisations', '0001_initial'),
        ('pricing', '0005_leaner_line_indexes'),
    ]

    operations = [
        migrations.AddField(
            model_name='period',
            name='trust_totals_resum',
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(flag_existing_periods, migrations.RunPython.noop),
        migrations.AddField(
            model_name='trustsavings',
            name='savings_median_unrounded',
            field=models.FloatField(default=0),
        ),
        migrations.AddField(
            model_name='trustsavings',
            name='savings_target_unrounded',
            field=models.FloatField(default=0),
        ),
        migrations.AddField(
            model_name='trustsavings',
            name='spend_unrounded',
            field=models.FloatField(default=0),
        ),
        migrations.CreateModel(
            name='PairSeen',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('units', models.DecimalField(decimal_places=3, max_digits=24, null=True)),
                ('spend', models.DecimalField(decimal_places=7, max_digits=24, null=True)),
                ('period', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='pricing.period')),
                ('product', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='catalogue.product')),
                ('trust', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='organisations.organisation')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('period', 'product', 'trust'), name='pair_seen_unique')],
            },
        ),
    ]
