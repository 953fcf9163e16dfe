"""`Strategy.cheapest` (a listing's one price per product) is `Strategy.prices(...)[0]`, whatever the
sources, tiers, pack sizes and ties, without pricing every offer in full."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from catalogue.strategy import Candidate, ListPriceSource, Strategy, VolumeTierSource
from tests.catalogue.factories import OfferFactory, ProductFactory, VolumeTierFactory
from tests.organisations.factories import TrustFactory

pytestmark = pytest.mark.django_db

D = Decimal


class RandomContract:
    """A contract source with a price for some (trust, offer) pairs."""

    name = "contract"
    shared_namespaces = ()

    def __init__(self, packs: dict[tuple[int, int], Decimal]) -> None:
        self.packs = packs

    def candidates(self, *, offer, buyer, quantity, on_date):
        price = self.packs.get((getattr(buyer, "pk", None), offer.pk))
        return [Candidate(self.name, price, label="Contract")] if price is not None else []


@pytest.mark.parametrize("seed", range(6))
def test_cheapest_is_the_first_of_every_offer_priced(seed):
    rng = random.Random(seed)
    trust = TrustFactory()
    product = ProductFactory()
    offers = []
    for _ in range(rng.randint(1, 6)):
        # Few distinct prices and pack sizes, so equal unit prices (ties) happen.
        offer = OfferFactory(
            product=product,
            pack_price=D(rng.choice(["10.00", "20.00", "9.995", "5.00"])),
            units_per_pack=rng.choice([1, 2, 4]),
        )
        if rng.random() < 0.5:
            VolumeTierFactory(offer=offer, min_packs=rng.choice([2, 10]), pack_price=D("4.00"))
        offers.append(offer)
    contract = RandomContract(
        {(trust.pk, o.pk): D(rng.choice(["3.00", "19.99"])) for o in offers if rng.random() < 0.4}
    )
    strategy = Strategy([ListPriceSource(), VolumeTierSource(), contract])
    for buyer in (trust, None):
        for quantity in (1, 2, 10):
            priced = strategy.prices(offers=offers, buyer=buyer, quantity=quantity)
            assert strategy.cheapest(offers=offers, buyer=buyer, quantity=quantity) == priced[0]


def test_no_offers_no_cheapest():
    assert Strategy().cheapest(offers=[]) is None
