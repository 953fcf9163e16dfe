# Fills Offer.buyable and one ProductBrowse row per product from the offers as they stand.

from django.db import migrations


def fill(apps, schema_editor):
    from catalogue.browse_data import product_browse_rebuild

    product_browse_rebuild(
        offer_model=apps.get_model("catalogue", "Offer"),
        product_model=apps.get_model("catalogue", "Product"),
        browse_model=apps.get_model("catalogue", "ProductBrowse"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0006_product_browse"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
