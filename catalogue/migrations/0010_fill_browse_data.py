# Fills Offer.buyable, one ProductBrowse row per product and the categories' facet counts from the
# offers as they stand (catalogue.browse_data.product_browse_rebuild, with this migration's models).

from django.db import migrations


def fill(apps, schema_editor):
    from catalogue.browse_data import product_browse_rebuild

    product_browse_rebuild(
        offer_model=apps.get_model("catalogue", "Offer"),
        product_model=apps.get_model("catalogue", "Product"),
        browse_model=apps.get_model("catalogue", "ProductBrowse"),
        facet_model=apps.get_model("catalogue", "CategoryFacetCount"),
    )


class Migration(migrations.Migration):

    dependencies = [
        ("catalogue", "0009_category_facet_count"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
