"""What the catalogue keeps for every buyer alike in the shared cache (`common.caching`): categories,
product pages' public part (the product, its category path, its buyable offers with supplier and
tiers), pages of listed products with their offers, facet counts, a category page's rendered filters,
search results and the offers their cards' "Add to basket" prices.

One namespace, `catalogue`, whose version moves on the commit of every change buyers could see: the
browse data's refresh (`catalogue.browse_data`: every offer, product, supplier and category change,
`offers_apply`, the daily task), tiers, and categories created or deleted. Keys carry today's date,
so an offer reaching or passing one of its dates is not shown from yesterday's entries. A category
looked up by its slug with its ancestors is kept under its own, `catalogue-categories`, which only a
category's save or delete moves (`categories_cached`): a category page after an offer changed does
not look its category up again.

Never kept under a key every buyer reads: any buyer's price. Pages keep the offers and price them
for the acting buyer through `catalogue.strategy`. What a page rendered with one buyer's prices (a
category page's rows, a product's offers table, search cards, an API page) may be kept for that buyer
alone (`buyer_cached`): the key names the buyer (its model and id), and the entry sits under the
catalogue's version and those of every namespace the strategy's price sources read
(`Strategy.shared_namespaces`: contract prices, pooled prices), so any change of an offer or of a
trust's prices drops it. A source that names no namespace turns this off (every request prices).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.db import models
from django.utils import timezone

from common.caching import SharedEntry, shared_cached, shared_changed

T = TypeVar("T")

NAMESPACE = "catalogue"


def catalogue_changed() -> None:
    """Something buyers browse changed: the shared entries go when the transaction commits."""
    shared_changed(NAMESPACE)


# A category looked up by its slug, with its ancestors: changed only by a category's save or delete
# (which move both namespaces), so kept through the offer and product changes that move the
# catalogue's many times a day.
CATEGORIES_NAMESPACE = "catalogue-categories"


def categories_changed() -> None:
    """A category was created, renamed, moved or deleted: the categories' entries go on commit."""
    shared_changed(CATEGORIES_NAMESPACE)


def categories_cached(key: tuple, compute: Callable[[], T]) -> T:
    """`compute()` (categories alone: no product, offer or count) kept for every buyer under `key` and
    the categories' version."""
    return shared_cached((CATEGORIES_NAMESPACE,), key, compute)


def catalogue_cached(key: tuple, compute: Callable[[], T], *, also: tuple[str, ...] = ()) -> T:
    """`compute()` kept for every buyer under `key`, today's date and the catalogue's version (and the
    versions of the namespaces `also` names, e.g. the search index's)."""
    return shared_cached((NAMESPACE, *also), (timezone.localdate().isoformat(), *key), compute)


def catalogue_entry(key: tuple) -> SharedEntry:
    """The entry `catalogue_cached` would keep under `key`, for a caller that computes its value in
    parts (a category page's facets: the supplier counts are counted beside the page's other work)."""
    return SharedEntry((NAMESPACE,), (timezone.localdate().isoformat(), *key))


def buyer_key(buyer: models.Model | None) -> tuple:
    """Who prices are for, in a cache key: the model and id (a trust and a patient never share one)."""
    if buyer is None:
        return ("anyone",)
    return (buyer._meta.label_lower, buyer.pk)


def buyer_cached(
    buyer: models.Model | None, key: tuple, compute: Callable[[], T], *, also: tuple[str, ...] = ()
) -> T:
    """`compute()` (something priced for `buyer`) kept for this buyer alone under `key`, today's date,
    the catalogue's version and the price sources' namespaces' versions; computed every time when a
    source names none (see `Strategy.shared_namespaces`). `also`: more namespaces, as for
    `catalogue_cached`."""
    from catalogue.strategy import default_strategy  # the strategy's modules read this one's callers

    namespaces = default_strategy().shared_namespaces()
    if namespaces is None or (buyer is not None and buyer.pk is None):
        return compute()
    return catalogue_cached(("priced", *buyer_key(buyer), *key), compute, also=(*also, *namespaces))
