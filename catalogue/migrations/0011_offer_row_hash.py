# Offer.row_hash: a digest of each offer's own terms and tiers (catalogue.row_hashes), compared with
# a re-uploaded file's rows in one join. Filled here for the offers already saved, with this
# migration's models, so the first re-upload after it recognises its unchanged rows.

from django.db import migrations, models


def fill(apps, schema_editor):
    from catalogue.row_hashes import offer_row_hashes_refresh

    offer_row_hashes_refresh(
        offer_model=apps.get_model("catalogue", "Offer"),
        tier_model=apps.get_model("catalogue", "VolumeTier"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0010_fill_browse_data"),
    ]

    operations = [
        migrations.AddField(
            model_name="offer",
            name="row_hash",
            field=models.CharField(blank=True, db_default="", default="", editable=False, max_length=32),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
