"""Product-page panels: the extension point through which higher apps add to a product's page.

The catalogue knows nothing of the apps above it (pricing now; purchasing and personal budgets
next). Each registers a panel once, in its AppConfig.ready, and the product page shows every panel
that has something for the person looking, in the order registered:

    register_product_panel(ProductPanel("peer-prices", "pricing/includes/peer_prices.html", context))

`context(request, product)` returns the panel template's context, or None to show nothing. So
every arrow between the apps is a Python import the layers contract can see, not a template tag
loaded by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from catalogue.models import Product


@dataclass(frozen=True)
class ProductPanel:
    name: str
    template: str
    context: Callable[[HttpRequest, Product], dict | None]


@dataclass(frozen=True)
class ShownPanel:
    name: str
    html: SafeString


_PANELS: dict[str, ProductPanel] = {}


def register_product_panel(panel: ProductPanel) -> None:
    """Add (or replace, by name) a panel on every product page."""
    _PANELS[panel.name] = panel


def unregister_product_panel(name: str) -> None:
    _PANELS.pop(name, None)


def product_panels(*, request: HttpRequest, product: Product) -> list[ShownPanel]:
    """The panels with something to show this person for this product, rendered with their own
    template and context (autoescaped like any page)."""
    shown = []
    for panel in _PANELS.values():
        context = panel.context(request, product)
        if context is not None:
            shown.append(ShownPanel(panel.name, render_to_string(panel.template, context, request=request)))
    return shown
