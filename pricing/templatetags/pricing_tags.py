"""`{% load pricing_tags %}{% peer_prices product %}`: what other trusts pay, for the product page and basket.

Self-contained: it finds the trust the request acts for (`organisations.acting`), so the catalogue
can include it without importing pricing.
"""

from __future__ import annotations

from django import template

from organisations.acting import acting_for
from organisations.models import OrganisationKind
from pricing import selectors

register = template.Library()


@register.inclusion_tag("pricing/includes/peer_prices.html", takes_context=True)
def peer_prices(context: template.Context, product) -> dict:
    request = context.get("request")
    trust = acting_for(request, kind=OrganisationKind.TRUST).trust if request is not None else None
    if trust is None:
        # Peer prices are for NHS trusts' buyers; others see nothing.
        return {"peer": None, "product": product, "trust": None}
    return {"peer": selectors.peer_prices(product=product, trust=trust), "product": product, "trust": trust}
