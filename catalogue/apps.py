from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "catalogue"
    verbose_name = "Catalogue"

    def ready(self) -> None:
        # Declares the product document and connects the on-commit indexing hooks.
        from catalogue import (
            browse_data,
            indexing,
            row_hashes,
            services,  # noqa: F401 (declares the audit kinds catalogue records)
        )
        from catalogue.imports import importer
        from common.imports import ImportKind, register_import_kind
        from organisations.permissions import suppliers_for

        indexing.register()
        browse_data.register()
        row_hashes.register()
        register_import_kind(
            ImportKind(
                name=importer.KIND,
                columns=importer.COLUMNS,
                importer=importer.catalogue_importer,
                organisations_for=suppliers_for,
            )
        )
