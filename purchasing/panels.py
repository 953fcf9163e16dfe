"""Purchasing's panel on the catalogue's product page: "Add to basket" for a buyer (catalogue.panels)."""

from __future__ import annotations

from catalogue.panels import ProductPanel


def _context(request, product):
    from purchasing.views import product_panel_context

    return product_panel_context(request, product)


ADD_TO_BASKET = ProductPanel("add-to-basket", "purchasing/includes/add_to_basket_panel.html", _context)
