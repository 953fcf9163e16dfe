"""The "contract" price source: a trust's negotiated prices, offered to the pricing strategy.

Registered with `catalogue.strategy.register_price_source` in `purchasing.apps`. Each strategy gets
its own copy (`for_strategy`), which loads the buyer's live negotiated prices on the day once (from the
shared cache under the trust and the day, else one query: `selectors.live_contract_prices`) and
answers every offer of a page, a basket or a checkout from memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from catalogue.models import Offer
from catalogue.strategy import Candidate
from organisations.models import Organisation
from purchasing.agreements.selectors import CONTRACT_PRICES, LiveContractPrice, live_contract_prices

CONTRACT = "contract"
CONTRACT_LABEL = "Your contract price"


class NegotiatedPriceSource:
    """A trust's negotiated price for an offer, for any quantity, on the days it is valid."""

    name = CONTRACT
    # Every write of negotiated prices moves it (purchasing.signals, contract_prices_changed).
    shared_namespaces = (CONTRACT_PRICES,)

    def __init__(self) -> None:
        self._loaded: dict[tuple[int, dt.date], dict[int, LiveContractPrice]] = {}

    def for_strategy(self) -> NegotiatedPriceSource:
        return NegotiatedPriceSource()

    def candidates(self, *, offer: Offer, buyer: Any, quantity: int, on_date: dt.date) -> Iterable[Candidate]:
        # Only trusts hold negotiated prices: patients and anonymous list prices never ask the database.
        if not isinstance(buyer, Organisation) or not buyer.is_trust:
            return []
        key = (buyer.pk, on_date)
        if key not in self._loaded:
            self._loaded[key] = live_contract_prices(trust_id=buyer.pk, on_date=on_date)
        found = self._loaded[key].get(offer.pk)
        if found is None:
            return []
        return [Candidate(CONTRACT, found.pack_price, label=CONTRACT_LABEL, reference=found.reference)]
