from django.apps import AppConfig


class PurchasingConfig(AppConfig):
    name = "purchasing"
    verbose_name = "Purchasing"

    def ready(self) -> None:
        from catalogue.panels import register_card_action, register_product_panel
        from catalogue.strategy import register_price_source
        from purchasing.agreements import services as agreement_services  # noqa: F401 (audit kinds)
        from purchasing.agreements.sources import NegotiatedPriceSource
        from purchasing.panels import ADD_TO_BASKET, ADD_TO_BASKET_CARD

        register_product_panel(ADD_TO_BASKET)
        register_card_action(ADD_TO_BASKET_CARD)
        # Negotiated prices enter the one pricing strategy as the "contract" source.
        register_price_source(NegotiatedPriceSource())
