"""Make the marketplace HomePage the default site's root, in place of Wagtail's welcome page."""

from django.db import migrations

HOME_PATH = "00010001"


def create_home_page(apps, schema_editor):
    ContentType = apps.get_model("contenttypes.ContentType")
    Page = apps.get_model("wagtailcore.Page")
    Site = apps.get_model("wagtailcore.Site")
    Locale = apps.get_model("wagtailcore.Locale")
    HomePage = apps.get_model("marketplace.HomePage")

    if HomePage.objects.exists():
        return
    welcome = Page.objects.filter(depth=2, path=HOME_PATH).first()
    locale_id = welcome.locale_id if welcome else Locale.objects.order_by("pk").values_list("pk", flat=True).first()
    if welcome is not None:
        # Wagtail's "Welcome to your new Wagtail site!" page; its Site goes with it (CASCADE).
        welcome.delete()

    content_type, _ = ContentType.objects.get_or_create(app_label="marketplace", model="homepage")
    home = HomePage.objects.create(
        title="Home",
        draft_title="Home",
        slug="home",
        content_type=content_type,
        path=HOME_PATH,
        depth=2,
        numchild=0,
        url_path="/home/",
        locale_id=locale_id,
        live=True,
        has_unpublished_changes=False,
        body=[],
    )
    Page.objects.filter(depth=1).update(numchild=1)
    Site.objects.filter(is_default_site=True).update(is_default_site=False)
    Site.objects.create(hostname="localhost", port=80, root_page_id=home.pk, is_default_site=True)


def remove_home_page(apps, schema_editor):
    HomePage = apps.get_model("marketplace.HomePage")
    HomePage.objects.filter(path=HOME_PATH).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0001_initial"),
        ("wagtailcore", "0002_initial_data"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create_home_page, remove_home_page)]
