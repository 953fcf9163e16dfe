"""Formatting for catalogue pages: pounds to the penny, unit prices to four places, query strings."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.http import QueryDict

register = template.Library()


@register.filter
def gbp(amount: Decimal | None) -> str:
    """£1,234.50 (amounts are already rounded by the strategy; this only formats)."""
    if amount is None:
        return ""
    return f"£{amount:,.2f}"


@register.filter
def gbp_unit(amount: Decimal | None) -> str:
    """A price per unit: to four places where it has fractions of a penny (£0.0452), else £13.85."""
    if amount is None:
        return ""
    if amount == amount.quantize(Decimal("0.01")):
        return f"£{amount:,.2f}"
    return f"£{amount:,.4f}"


@register.filter
def per_unit(unit_of_measure: str) -> str:
    """'per item' for things sold singly (never 'per each'), or 'per pair' / 'per glove'."""
    return "per item" if unit_of_measure in ("", "each", "item") else f"per {unit_of_measure}"


@register.simple_tag
def query_with(query: QueryDict, **changes) -> str:
    """The current query string with some parameters replaced (or removed when given None)."""
    params = query.copy()
    for name, value in changes.items():
        if value is None or value == "":
            params.pop(name, None)
        else:
            params[name] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"
