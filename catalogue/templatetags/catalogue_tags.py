"""Formatting for catalogue pages: pounds to the penny, unit prices to four places, query strings,
facet checkboxes, where a price comes from, a category page's product cards."""

from __future__ import annotations

import html
from decimal import Decimal

from django import template
from django.http import QueryDict
from django.urls import reverse
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


def _price_source(label: str, reference: str) -> str:
    if not label:
        return ""
    source = (
        '<br><strong class="nhsuk-tag nhsuk-tag--green nhsuk-u-margin-top-1 mp-price-source">'
        f"{html.escape(label)}</strong>"
    )
    if reference:
        source += f' <span class="nhsuk-body-s mp-muted">{html.escape(reference)}</span>'
    return source


@register.simple_tag
def price_source(label: str, reference: str = "") -> SafeString:
    """Where a buyer's price comes from when it is not the list price or a volume tier: a price
    source's label ("Your contract price") and its reference; nothing for the list price."""
    return mark_safe(_price_source(label, reference))  # noqa: S308 - both values escaped


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


@register.simple_tag
def product_cards(rows: list[dict]) -> SafeString:
    """A category page's products priced for one buyer (`catalogue.browse.views.priced_products`):
    one NHS.UK card each, with its cheapest price for the buyer and where it comes from. Built in
    Python, every value escaped, rather than by a template loop with an include and a URL lookup per
    card, which was most of the time a first view spent rendering its products."""
    cards = []
    for row in rows:
        product, cheapest = row["product"], row["cheapest"]
        url = html.escape(reverse("catalogue:product-detail", kwargs={"slug": product.slug}))
        place = html.escape(product.category.path)
        if product.manufacturer:
            place += f" · {html.escape(product.manufacturer)}"
        price = ""
        if cheapest:
            offers = _plural(row["offer_count"], "offer")
            suppliers = _plural(row["supplier_count"], "supplier")
            price = (
                '\n        <p class="nhsuk-body-s">From <span class="mp-price">'
                f"{gbp_unit(cheapest.unit_price)}</span> {html.escape(per_unit(product.unit_of_measure))}"
                f" ({gbp(cheapest.pack_price)} for {int(cheapest.units_per_pack)}, excluding VAT)"
                f"{_price_source(cheapest.source_label, cheapest.source_reference)}"
                f" · {offers} from {suppliers}</p>"
            )
        name = html.escape(product.name)
        cards.append(
            '      <li class="nhsuk-card"><div class="nhsuk-card__content">\n'
            f'        <h2 class="nhsuk-card__heading nhsuk-heading-s"><a href="{url}">{name}</a></h2>\n'
            f'        <p class="nhsuk-body-s mp-muted">{place}</p>{price}\n      </div></li>\n'
        )
    return mark_safe(f'    <ul class="nhsuk-list">\n{"".join(cards)}    </ul>\n')  # noqa: S308 - escaped above
