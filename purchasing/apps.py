from django.apps import AppConfig


class PurchasingConfig(AppConfig):
    name = "purchasing"
    verbose_name = "Purchasing"

    def ready(self) -> None:
        from catalogue.panels import register_card_action, register_product_panel
        from purchasing.panels import ADD_TO_BASKET, ADD_TO_BASKET_CARD

        register_product_panel(ADD_TO_BASKET)
        register_card_action(ADD_TO_BASKET_CARD)
