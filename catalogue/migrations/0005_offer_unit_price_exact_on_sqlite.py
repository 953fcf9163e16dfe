# SQLite divided whole-pound prices as integers (3.00 / 100 gave 0). A generated column cannot be
# altered in place, so it is dropped and added again with the new expression.

import django.db.models.functions.math
from django.db import migrations, models

import catalogue.models


class Migration(migrations.Migration):

    dependencies = [
        ('catalogue', '0004_category_tree'),
    ]

    operations = [
        migrations.RemoveField(model_name='offer', name='unit_price'),
        migrations.AddField(
            model_name='offer',
            name='unit_price',
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.math.Round(
                    catalogue.models.DecimalDivide(models.F('pack_price'), models.F('units_per_pack')), 4
                ),
                output_field=models.DecimalField(decimal_places=4, max_digits=18),
            ),
        ),
    ]
