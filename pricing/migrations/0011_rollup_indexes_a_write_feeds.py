"""Fewer indexes for a write of lines to feed: every rollup row it changes is a new row version, with
an entry in each index of pricing_pairtotal (its covering unique index stops HOT updates).

A day's lines change about 27,000 rollup rows. The indexes on the product alone (pricing_pairtotal,
pricing_staleproduct) took a random leaf page for each; those on the trust alone and on (period,
trust) are now one, (trust, period); the scratch rows of pricing_dirtypair kept three indexes nothing
reads. Each new line took a random leaf page of the lines' (product, trust, order date) index, which
also carried the columns the rollup was once recomputed from (it is kept by difference now):
(product, trust) alone serves what remains, deduplicated into about a quarter of the pages. A deleted product's rollup rows and stale marks are now deleted by pricing.analytics.
product_deleted through the unique indexes (hence DO_NOTHING), not by a cascade's scan. On PostgreSQL
the new indexes are built under their tables' locks (tens of seconds each for 10 million lines and 15.7
million rollup rows in bench/pricing_bench.py), during which writes of purchase lines wait.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalogue', '0013_offer_browse_rows'),
        ('organisations', '0003_carers_act_for_patients'),
        ('pricing', '0010_product_stats_unrounded_figures'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='purchasehistoryline',
            index=models.Index(fields=['product', 'trust'], name='pricing_line_product_trust'),
        ),
        migrations.RemoveIndex(
            model_name='purchasehistoryline',
            name='pricing_line_pair_date',
        ),
        migrations.AddIndex(
            model_name='pairtotal',
            index=models.Index(fields=['trust', 'period'], name='pricing_pair_trust_period'),
        ),
        migrations.RemoveIndex(
            model_name='pairtotal',
            name='pricing_pair_period_trust',
        ),
        migrations.AlterField(
            model_name='dirtypair',
            name='period',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='pricing.period'),
        ),
        migrations.AlterField(
            model_name='dirtypair',
            name='product',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='catalogue.product'),
        ),
        migrations.AlterField(
            model_name='dirtypair',
            name='trust',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='organisations.organisation'),
        ),
        migrations.AlterField(
            model_name='pairtotal',
            name='product',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='catalogue.product'),
        ),
        migrations.AlterField(
            model_name='pairtotal',
            name='trust',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='organisations.organisation'),
        ),
        migrations.AlterField(
            model_name='staleproduct',
            name='period',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='pricing.period'),
        ),
        migrations.AlterField(
            model_name='staleproduct',
            name='product',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='catalogue.product'),
        ),
    ]
