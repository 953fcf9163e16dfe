from django.apps import AppConfig


class PricingConfig(AppConfig):
    name = "pricing"
    verbose_name = "Price analytics"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from common.imports import ImportKind, register_import_kind
        from organisations.permissions import trusts_for
        from pricing import imports, services

        register_import_kind(
            ImportKind(
                name=imports.KIND,
                columns=imports.COLUMNS,
                importer=imports.purchase_history_importer,
                organisations_for=trusts_for,
                after_success=services.purchase_history_imported,
            )
        )

        from catalogue.models import Product
        from catalogue.panels import register_product_panel
        from pricing.analytics import product_deleted
        from pricing.panels import PEER_PRICES

        register_product_panel(PEER_PRICES)

        # Deleting a product drops its rollup rows and figures without going through the rollup's
        # writer; the trusts' totals must then be summed afresh rather than adjusted by difference.
        post_delete.connect(product_deleted, sender=Product, dispatch_uid="pricing-product-deleted")
