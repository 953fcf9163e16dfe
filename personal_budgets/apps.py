from django.apps import AppConfig


class PersonalBudgetsConfig(AppConfig):
    name = "personal_budgets"
    verbose_name = "Personal health budgets"

    def ready(self) -> None:
        from personal_budgets import selectors, services
        from purchasing.returns.services import register_return_listener
        from purchasing.services import register_buyer_reference, register_order_listener

        # Post or void an order's held money as purchasing moves the order (services.order_transitioned).
        register_order_listener(services.order_transitioned)
        # An accepted return gives the money back (services.return_accepted): wallet and card parts.
        register_return_listener(services.return_accepted)
        # A patient's order's documents name the budget it is paid from.
        register_buyer_reference(selectors.budget_reference)
