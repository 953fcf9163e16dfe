"""Purchasing's "Add to basket" for a buyer on the catalogue's product page and on each search result
card (catalogue.panels)."""

from __future__ import annotations

from catalogue.panels import CardAction, ProductPanel


def _context(request, product):
    from purchasing.views import product_panel_context

    return product_panel_context(request, product)


ADD_TO_BASKET = ProductPanel("add-to-basket", "purchasing/includes/add_to_basket_panel.html", _context)


def _card_context(request, product_ids):
    from purchasing.views import card_action_context

    return card_action_context(request, product_ids)


ADD_TO_BASKET_CARD = CardAction("add-to-basket", "purchasing/includes/add_to_basket_card.html", _card_context)
