"""Formatting for catalogue pages: pounds to the penny, unit prices to four places, query strings,
facet checkboxes."""

from __future__ import annotations

import html
from decimal import Decimal

from django import template
from django.http import QueryDict
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

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


@register.simple_tag
def facet_checkboxes(values, name: str, selected) -> SafeString:
    """One NHS.UK checkbox per facet value (`catalogue.selectors.FacetValue`), ticked when selected.
    Built in Python, every value escaped, rather than by a template loop: a top-level category's
    supplier facet has hundreds of values, and the loop was most of a first view's rendering."""
    name = escape(name)
    items = []
    for value in values:
        # The standard library's escape, which Django's wraps (the same five characters), without the
        # lazy-string check and SafeString per call: hundreds of values a page.
        key, label = html.escape(str(value.value)), html.escape(str(value.label))
        checked = " checked" if value.value in selected else ""
        items.append(
            f'<div class="nhsuk-checkboxes__item"><input class="nhsuk-checkboxes__input" id="{name}-{key}"'
            f' name="{name}" type="checkbox" value="{key}"{checked}><label class="nhsuk-label'
            f' nhsuk-checkboxes__label" for="{name}-{key}">{label} ({int(value.count)})</label></div>\n'
        )
    return mark_safe("".join(items))  # noqa: S308 - every value above is escaped
