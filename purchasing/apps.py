from django.apps import AppConfig


class PurchasingConfig(AppConfig):
    name = "purchasing"
    verbose_name = "Purchasing"

    def ready(self) -> None:
        from catalogue.panels import register_card_action, register_product_panel
        from catalogue.strategy import register_price_source
        from purchasing.agreements import services as agreement_services  # noqa: F401 (audit kinds)
        from purchasing.agreements.sources import NegotiatedPriceSource
        from purchasing.panels import ADD_TO_BASKET, ADD_TO_BASKET_CARD, PROPOSE_ROUND
        from purchasing.rounds.pooled import PooledPriceSource

        register_product_panel(ADD_TO_BASKET)
        register_card_action(ADD_TO_BASKET_CARD)
        register_product_panel(PROPOSE_ROUND)
        # Negotiated prices enter the one pricing strategy as the "contract" source, and a closed
        # round's pooled price as "pooled", for the trusts that committed to it (purchasing.rounds).
        register_price_source(NegotiatedPriceSource())
        register_price_source(PooledPriceSource())
        # Kept prices per trust dropped when negotiated prices, rounds or commitments change.
        from purchasing import signals  # noqa: F401
