"""The pooled price source: a trust that committed to a round which met its minimum pays the
round's final pack price for that round's offer during the round's delivery window.

Registered with the catalogue's strategy in `purchasing.apps` (`register_price_source`), so the
basket, pages and API price it like any other source, and the buyer sees "Your pooled round price"
with the round's reference. The price is data (the round and its commitment), never an edit of the
list price.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from catalogue.models import Offer
from catalogue.strategy import Candidate
from common.caching import shared_changed
from organisations.models import Organisation
from purchasing.rounds.selectors import POOLED_PRICES, pooled_prices_of_trust

POOLED = "pooled"
LABEL = "Your pooled round price"
_MEMO = "_pooled_prices"
# Moved on when a round closes in this process, so a trust's memo of its pooled prices (kept on the
# Organisation object, which lives for one request) is never read after a close it has not seen.
_generation = 0


def pooled_changed() -> None:
    """A round closed: this process's memos and every trust's kept pooled prices go."""
    global _generation
    _generation += 1
    shared_changed(POOLED_PRICES)


def _prices(trust: Organisation, on_date: dt.date) -> dict[int, tuple[Decimal, str]]:
    """The trust's pooled prices on `on_date` by offer id: one query per trust and date while the
    object lives (a page pricing many offers for one trust asks once)."""
    memo = trust.__dict__.setdefault(_MEMO, {})
    key = (on_date, _generation)
    if key not in memo:
        memo.clear()
        memo[key] = pooled_prices_of_trust(trust_id=trust.pk, on_date=on_date)
    return memo[key]


class PooledPriceSource:
    name = POOLED
    # Moved by every round or commitment write (purchasing.signals) and each close (pooled_changed).
    shared_namespaces = (POOLED_PRICES,)

    def candidates(self, *, offer: Offer, buyer: Any, quantity: int, on_date: dt.date) -> Iterable[Candidate]:
        if not isinstance(buyer, Organisation) or not buyer.is_trust or buyer.pk is None:
            return []
        found = _prices(buyer, on_date).get(offer.pk)
        if found is None:
            return []
        price, reference = found
        return [Candidate(POOLED, price, label=LABEL, reference=reference)]
