"""What the catalogue keeps for every buyer alike in the shared cache (`common.caching`): categories,
product pages' public part (the product, its category path, its buyable offers with supplier and
tiers), pages of listed products with their offers, facet counts, a category page's rendered filters,
search results and the offers their cards' "Add to basket" prices.

One namespace, `catalogue`, whose version moves on the commit of every change buyers could see: the
browse data's refresh (`catalogue.browse_data`: every offer, product, supplier and category change,
`offers_apply`, the daily task), tiers, and categories created or deleted. Keys carry today's date,
so an offer reaching or passing one of its dates is not shown from yesterday's entries.

Never kept here: any buyer's price. Pages keep the offers and price them for the acting buyer through
`catalogue.strategy` on every request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.utils import timezone

from common.caching import shared_cached, shared_changed

T = TypeVar("T")

NAMESPACE = "catalogue"


def catalogue_changed() -> None:
    """Something buyers browse changed: the shared entries go when the transaction commits."""
    shared_changed(NAMESPACE)


def catalogue_cached(key: tuple, compute: Callable[[], T], *, also: tuple[str, ...] = ()) -> T:
    """`compute()` kept for every buyer under `key`, today's date and the catalogue's version (and the
    versions of the namespaces `also` names, e.g. the search index's)."""
    return shared_cached((NAMESPACE, *also), (timezone.localdate().isoformat(), *key), compute)
