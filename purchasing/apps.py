from django.apps import AppConfig


class PurchasingConfig(AppConfig):
    name = "purchasing"
    verbose_name = "Purchasing"

    def ready(self) -> None:
        from catalogue.panels import register_product_panel
        from catalogue.strategy import register_price_source
        from purchasing.panels import ADD_TO_BASKET
        from purchasing.rounds.pooled import PooledPriceSource

        register_product_panel(ADD_TO_BASKET)
        # A closed round's pooled price, for the trusts that committed to it (purchasing.rounds).
        register_price_source(PooledPriceSource())
