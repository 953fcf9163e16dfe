from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "catalogue"
    verbose_name = "Catalogue"

    def ready(self) -> None:
        # Declares the product document and connects the on-commit indexing hooks.
        from catalogue import indexing

        indexing.register()
