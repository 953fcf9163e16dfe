from django.apps import AppConfig


class PurchasingConfig(AppConfig):
    name = "purchasing"
    verbose_name = "Purchasing"

    def ready(self) -> None:
        from catalogue.panels import register_product_panel
        from purchasing.panels import ADD_TO_BASKET

        register_product_panel(ADD_TO_BASKET)
