"""Purchasing's "Add to basket" for a buyer on the catalogue's product page and on each search result
card (catalogue.panels), and "Propose a purchasing round" for a trust admin on the product page."""

from __future__ import annotations

from catalogue.panels import CardAction, ProductPanel


def _context(request, product):
    from purchasing.views import product_panel_context

    return product_panel_context(request, product)


ADD_TO_BASKET = ProductPanel("add-to-basket", "purchasing/includes/add_to_basket_panel.html", _context)


def _card_context(request, product_ids):
    from purchasing.views import card_action_context

    return card_action_context(request, product_ids)


# Its context is the acting trust's cheapest offer (the strategy's prices), the page's address and
# the user's role: kept per person and buyer (catalogue.panels).
ADD_TO_BASKET_CARD = CardAction(
    "add-to-basket", "purchasing/includes/add_to_basket_card.html", _card_context, per_person=True
)


def _propose_context(request, product):
    from purchasing.rounds.views import propose_panel_context

    return propose_panel_context(request, product)


# A trust admin proposes a purchasing round on the product (purchasing.rounds).
PROPOSE_ROUND = ProductPanel(
    "propose-round", "purchasing/rounds/includes/propose_panel.html", _propose_context
)
