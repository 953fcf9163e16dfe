"""Pricing's panel on the catalogue's product page: what peer trusts pay (catalogue.panels)."""

from __future__ import annotations

from django.http import HttpRequest

from catalogue.models import Product
from catalogue.panels import ProductPanel
from pricing.templatetags.pricing_tags import peer_prices


def peer_prices_context(request: HttpRequest, product: Product) -> dict:
    return peer_prices({"request": request}, product)


PEER_PRICES = ProductPanel("peer-prices", "pricing/includes/peer_prices.html", peer_prices_context)
