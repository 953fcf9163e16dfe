from django.apps import AppConfig


class TopUpsConfig(AppConfig):
    name = "personal_budgets.topups"
    label = "personal_budgets_topups"
    verbose_name = "Personal budgets: card top-ups"

    def ready(self) -> None:
        from payments.registry import register_payment_listener, register_reconciliation_source
        from personal_budgets.topups import selectors, services
        from purchasing.services import register_order_listener

        # A card payment's changes post or void the order's money and send or cancel the order.
        register_payment_listener(services.payment_changed)
        # payments_reconcile and the finance page compare each card payment with the ledger.
        register_reconciliation_source(selectors.ledger_figures, name="ledger")
        # A paid order the supplier refuses (or that is cancelled before it is accepted): the card
        # part goes back to the card. After the budgets' own listener (INSTALLED_APPS order).
        register_order_listener(services.order_transitioned)
