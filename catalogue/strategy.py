"""The one place that says what a buyer pays for an offer (after django-oscar's partner/strategy.py).

A `Strategy` asks each of its price sources what they would charge this buyer for this offer
at this quantity, and the buyer pays the lowest. Sources here: the supplier's list price and
its volume tiers. Contract prices and pooled (aggregated purchasing) prices live in higher
layers; they plug in with `register_price_source` from their app's `ready()`, so the catalogue
never imports them. Every page and API prices offers through `buyer_price` / `Strategy.price`;
nothing else computes a price.

Works on prefetched tiers (`catalogue.selectors.tiers_prefetch`, or `prefetch_related("tiers")`) and
a loaded supplier and product (whether the offer is buyable is `catalogue.selectors.unbuyable_reasons`):
the tiers are read, never filtered, so pricing a page of offers costs no queries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from django.utils import timezone

from catalogue.models import Offer
from catalogue.selectors import TIERS_ATTR, unbuyable_reasons
from catalogue.types import BuyerPrice, PriceBreak
from common.errors import DomainError
from common.money import Money, Price, quantize_money, quantize_unit_price, to_decimal
from organisations.models import PatientProfile

LIST_PRICE = "list"
VOLUME_TIER = "volume_tier"


@dataclass(frozen=True)
class Candidate:
    """One source's price per pack (excluding VAT) for this buyer and quantity."""

    source: str
    pack_price: Decimal
    tier_min_packs: int | None = None
    # What the buyer is shown ("Your contract price") and what the price rests on (a contract or
    # round reference), kept on the order line so an order says where each price came from.
    label: str = ""
    reference: str = ""


class PriceSource(Protocol):
    """Something that may offer a buyer a price: list price, volume tier, contract, pooled round.

    `shared_namespaces`: the shared cache's namespaces (`common.caching`) whose versions move on every
    change of what the source reads beyond the offer itself (the offer, its tiers and supplier are the
    catalogue's namespace). A page may keep what it priced for one buyer under those versions
    (`catalogue.caching.buyer_cached`); a source that declares none keeps every page from doing so."""

    name: str
    shared_namespaces: tuple[str, ...]

    def candidates(
        self, *, offer: Offer, buyer: Any, quantity: int, on_date: dt.date
    ) -> Iterable[Candidate]: ...


def offer_tiers(offer: Offer) -> list[tuple[int, Decimal]]:
    """The offer's tiers, lowest minimum first, from a listing's prefetched list
    (`catalogue.selectors.tiers_prefetch`) or the prefetch cache when there is one (read directly:
    building the related manager for `offer.tiers.all()` costs more than the sort)."""
    tiers = offer.__dict__.get(TIERS_ATTR)
    if tiers is None:
        tiers = getattr(offer, "_prefetched_objects_cache", {}).get("tiers")
    if tiers is None:
        tiers = offer.tiers.all()
    return sorted((tier.min_packs, tier.pack_price) for tier in tiers)


class ListPriceSource:
    name = LIST_PRICE
    shared_namespaces: tuple[str, ...] = ()  # the offer's own price

    def candidates(self, *, offer: Offer, buyer: Any, quantity: int, on_date: dt.date) -> Iterable[Candidate]:
        return [Candidate(LIST_PRICE, offer.pack_price)]


class VolumeTierSource:
    """The highest tier whose minimum the quantity reaches."""

    name = VOLUME_TIER
    shared_namespaces: tuple[str, ...] = ()  # the offer's tiers

    def candidates(self, *, offer: Offer, buyer: Any, quantity: int, on_date: dt.date) -> Iterable[Candidate]:
        reached = [(m, p) for m, p in offer_tiers(offer) if m <= quantity]
        if not reached:
            return []
        min_packs, price = reached[-1]
        return [Candidate(VOLUME_TIER, price, tier_min_packs=min_packs)]


_registered_sources: list[PriceSource] = []


def register_price_source(source: PriceSource) -> None:
    """Add a price source (e.g. contract prices) to every default strategy. Call from AppConfig.ready()."""
    if all(existing.name != source.name for existing in _registered_sources):
        _registered_sources.append(source)


def default_sources() -> tuple[PriceSource, ...]:
    # A registered source that loads a buyer's prices in one query and answers from memory (contract
    # prices) gives each strategy a fresh copy (`for_strategy()`): a page's strategy loads once, and
    # nothing loaded lives longer than the strategy.
    fresh = (getattr(s, "for_strategy", lambda s=s: s)() for s in _registered_sources)
    return (ListPriceSource(), VolumeTierSource(), *fresh)


def _is_patient(buyer: Any) -> bool:
    return isinstance(buyer, PatientProfile)


class Strategy:
    """Prices offers for buyers: the lowest price any of its sources gives, with VAT and totals."""

    def __init__(self, sources: Sequence[PriceSource] | None = None) -> None:
        self.sources: tuple[PriceSource, ...] = tuple(sources) if sources is not None else default_sources()

    def shared_namespaces(self) -> tuple[str, ...] | None:
        """The namespaces whose versions move whenever any of this strategy's prices could change
        (beyond the catalogue's own), or None when a source does not say (its prices are never kept)."""
        names: list[str] = []
        for source in self.sources:
            declared = getattr(source, "shared_namespaces", None)
            if declared is None:
                return None
            names.extend(declared)
        return tuple(dict.fromkeys(names))

    def price(
        self, *, offer: Offer, buyer: Any = None, quantity: int = 1, on_date: dt.date | None = None
    ) -> BuyerPrice:
        """What `buyer` (an Organisation, a PatientProfile, or None for anyone) pays for `quantity` packs."""
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise DomainError("the quantity is a whole number of packs, 1 or more", field="quantity")
        on_date = on_date or timezone.localdate()
        best = self._best(offer=offer, buyer=buyer, quantity=quantity, on_date=on_date)
        units = offer.units_per_pack
        # One pack's price to the penny with its VAT rate; VAT, totals and the VAT on the line come
        # from common.money.Price, never worked out here.
        pack = Price(excl_vat=Money(best.pack_price).rounded(), vat_rate=offer.vat_rate)
        breaks = tuple(
            PriceBreak(min_packs=m, pack_price=p, unit_price=quantize_unit_price(p / units))
            for m, p in offer_tiers(offer)
        )
        next_tier = next(
            (b for b in breaks if b.min_packs > quantity and b.pack_price < pack.excl_vat.amount), None
        )
        return BuyerPrice(
            offer_id=offer.pk,
            quantity=quantity,
            source=best.source,
            source_label=best.label,
            source_reference=best.reference,
            pack=pack,
            unit=Money(quantize_unit_price(pack.excl_vat.amount / units)),
            units_per_pack=units,
            list_pack=Money(offer.pack_price).rounded(),
            tier_min_packs=best.tier_min_packs,
            tiers=breaks,
            next_tier=next_tier,
            min_order_packs=offer.min_order_packs,
            problems=self._problems(offer=offer, buyer=buyer, quantity=quantity, on_date=on_date),
        )

    def _best(self, *, offer: Offer, buyer: Any, quantity: int, on_date: dt.date) -> Candidate:
        """The lowest price any source gives (per pack, excluding VAT)."""
        best: Candidate | None = None
        for source in self.sources:
            for candidate in source.candidates(offer=offer, buyer=buyer, quantity=quantity, on_date=on_date):
                # Strictly lower wins, so earlier sources (the list price) win ties.
                if best is None or candidate.pack_price < best.pack_price:
                    best = candidate
        assert best is not None  # the list price source always answers
        return best

    def cheapest(
        self, *, offers: Iterable[Offer], buyer: Any = None, quantity: int = 1, on_date: dt.date | None = None
    ) -> tuple[Offer, BuyerPrice] | None:
        """`prices(...)[0]` (None for no offers): the offer that costs this buyer least per unit, then
        per pack, then the lowest id, with its price. The others are compared on the sources' best
        pack price alone (as `price` rounds it), not priced in full: a listing shows one price per
        product."""
        on_date = on_date or timezone.localdate()
        chosen: Offer | None = None
        chosen_key: tuple | None = None
        for offer in offers:
            # `Money(...).rounded().amount` as `price` rounds it, without the two objects per offer.
            best = self._best(offer=offer, buyer=buyer, quantity=quantity, on_date=on_date)
            pack_amount = quantize_money(to_decimal(best.pack_price))
            key = (quantize_unit_price(pack_amount / offer.units_per_pack), pack_amount, offer.pk)
            if chosen_key is None or key < chosen_key:
                chosen, chosen_key = offer, key
        if chosen is None:
            return None
        return chosen, self.price(offer=chosen, buyer=buyer, quantity=quantity, on_date=on_date)

    def prices(
        self, *, offers: Iterable[Offer], buyer: Any = None, quantity: int = 1, on_date: dt.date | None = None
    ) -> list[tuple[Offer, BuyerPrice]]:
        """Each offer with its price for this buyer, cheapest per unit first (then per pack)."""
        on_date = on_date or timezone.localdate()
        priced = [(o, self.price(offer=o, buyer=buyer, quantity=quantity, on_date=on_date)) for o in offers]
        return sorted(priced, key=lambda pair: (pair[1].unit_price, pair[1].pack_price, pair[0].pk))

    @staticmethod
    def _problems(*, offer: Offer, buyer: Any, quantity: int, on_date: dt.date) -> tuple[str, ...]:
        # What cannot be bought is priced (a supplier's preview, a basket line gone stale) but says why.
        problems = list(unbuyable_reasons(offer=offer, today=on_date))
        if quantity < offer.min_order_packs:
            problems.append(f"The minimum order is {offer.min_order_packs} packs.")
        if _is_patient(buyer) and not offer.patient_eligible:
            problems.append("This item cannot be bought from a personal health budget.")
        return tuple(problems)


def default_strategy() -> Strategy:
    return Strategy()


def buyer_price(
    *, offer: Offer, buyer: Any = None, quantity: int = 1, on_date: dt.date | None = None
) -> BuyerPrice:
    """The price `buyer` pays for `quantity` packs of `offer` (see Strategy.price)."""
    return default_strategy().price(offer=offer, buyer=buyer, quantity=quantity, on_date=on_date)
