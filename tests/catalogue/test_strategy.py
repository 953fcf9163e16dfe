"""The price a buyer pays comes from one strategy: tier for the quantity, VAT, per unit, totals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from catalogue.models import Offer, OfferStatus
from catalogue.strategy import Candidate, ListPriceSource, Strategy, VolumeTierSource, buyer_price
from catalogue.types import OfferInput
from common.errors import DomainError
from common.money import Money, Price, to_pence
from tests.catalogue.factories import OfferFactory, ProductFactory, VolumeTierFactory
from tests.catalogue.offer_inputs import offer_input
from tests.organisations.factories import PatientProfileFactory, TrustFactory

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def offer():
    """£12.50 a pack of 10 at 20% VAT; 100+ packs £12.00, 500+ packs £11.50."""
    offer = OfferFactory(pack_price=D("12.50"), units_per_pack=10, vat_rate=D("20"))
    VolumeTierFactory(offer=offer, min_packs=500, pack_price=D("11.50"))
    VolumeTierFactory(offer=offer, min_packs=100, pack_price=D("12.00"))
    return offer


def test_one_pack_costs_the_list_price_with_vat_on_top(offer):
    price = buyer_price(offer=offer, buyer=TrustFactory(), quantity=1)

    assert price.source == "list"
    assert price.pack_price == D("12.50")
    assert price.unit_price == D("1.2500")
    assert price.pack_vat == D("2.50")
    assert price.pack_price_incl_vat == D("15.00")
    assert (price.total_excl_vat, price.total_vat, price.total_incl_vat) == (
        D("12.50"),
        D("2.50"),
        D("15.00"),
    )
    assert price.tier_min_packs is None
    assert price.orderable


@pytest.mark.parametrize(
    ("quantity", "pack_price", "tier", "total_excl", "total_vat", "total_incl"),
    [
        (99, "12.50", None, "1237.50", "247.50", "1485.00"),
        (100, "12.00", 100, "1200.00", "240.00", "1440.00"),
        (499, "12.00", 100, "5988.00", "1197.60", "7185.60"),
        (500, "11.50", 500, "5750.00", "1150.00", "6900.00"),
        (1200, "11.50", 500, "13800.00", "2760.00", "16560.00"),
    ],
)
def test_the_highest_tier_the_quantity_reaches_sets_the_pack_price(
    offer, quantity, pack_price, tier, total_excl, total_vat, total_incl
):
    price = buyer_price(offer=offer, quantity=quantity)

    assert price.pack_price == D(pack_price)
    assert price.tier_min_packs == tier
    assert price.total_excl_vat == D(total_excl)
    assert price.total_vat == D(total_vat)
    assert price.total_incl_vat == D(total_incl)


def test_the_next_tier_tells_the_buyer_how_many_packs_save_money(offer):
    price = buyer_price(offer=offer, quantity=150)

    assert price.next_tier.min_packs == 500
    assert price.next_tier.pack_price == D("11.50")
    assert price.next_tier.unit_price == D("1.1500")
    assert [t.min_packs for t in price.tiers] == [100, 500]
    assert price.saving_per_pack == D("0.50")


def test_vat_is_rounded_to_the_penny_on_the_line_and_per_pack():
    offer = OfferFactory(pack_price=D("3.33"), units_per_pack=3, vat_rate=D("5"))

    price = buyer_price(offer=offer, quantity=3)

    assert price.unit_price == D("1.1100")
    assert price.pack_vat == D("0.17")  # 0.1665 rounds half up
    assert price.total_excl_vat == D("9.99")
    assert price.total_vat == D("0.50")  # 0.4995 on the line, not 3 x 0.17
    assert price.total_incl_vat == D("10.49")


def test_the_unit_price_keeps_four_places():
    offer = OfferFactory(pack_price=D("10.00"), units_per_pack=3, vat_rate=D("0"))

    price = buyer_price(offer=offer)

    assert price.unit_price == D("3.3333")
    assert price.total_vat == D("0.00")
    assert price.price.incl_vat.amount == D("10.00")


def test_below_the_minimum_order_the_price_shows_but_cannot_be_ordered():
    offer = OfferFactory(min_order_packs=5)

    price = buyer_price(offer=offer, quantity=4)

    assert not price.orderable
    assert price.problems == ("The minimum order is 5 packs.",)
    assert buyer_price(offer=offer, quantity=5).orderable


def test_an_offer_outside_its_validity_dates_cannot_be_ordered():
    offer = OfferFactory(valid_from=dt.date(2026, 1, 1), valid_to=dt.date(2026, 6, 30))

    before = buyer_price(offer=offer, on_date=dt.date(2025, 12, 31))
    during = buyer_price(offer=offer, on_date=dt.date(2026, 3, 1))
    after = buyer_price(offer=offer, on_date=dt.date(2026, 7, 1))

    assert before.problems == ("This price starts on 1 January 2026.",)
    assert during.orderable
    assert after.problems == ("This price ended on 30 June 2026.",)


def test_a_pending_offer_is_priced_but_not_on_sale():
    offer = OfferFactory(status=OfferStatus.PENDING)

    assert buyer_price(offer=offer).problems == ("This offer is not on sale.",)


def test_a_patient_cannot_buy_an_item_that_is_not_patient_eligible():
    patient = PatientProfileFactory()
    not_eligible = OfferFactory(patient_eligible=False)
    eligible = OfferFactory(patient_eligible=True)

    assert buyer_price(offer=not_eligible, buyer=patient).problems == (
        "This item cannot be bought from a personal health budget.",
    )
    assert buyer_price(offer=eligible, buyer=patient).orderable
    assert buyer_price(offer=not_eligible, buyer=TrustFactory()).orderable


def test_a_registered_source_that_loads_prices_gives_each_strategy_its_own_copy(monkeypatch):
    """A source keeping what it loaded for a buyer (contract prices) must not share it between pages:
    `for_strategy()` makes each default strategy a fresh copy; a source without it is used as is."""
    from catalogue import strategy as strategy_module

    class Loading:
        name = "loading"

        def for_strategy(self):
            return Loading()

        def candidates(self, *, offer, buyer, quantity, on_date):
            return []

    class Plain:
        name = "plain"

        def candidates(self, *, offer, buyer, quantity, on_date):
            return []

    registered, plain = Loading(), Plain()
    monkeypatch.setattr(strategy_module, "_registered_sources", [registered, plain])
    first, second = Strategy(), Strategy()
    assert isinstance(first.sources[2], Loading) and first.sources[2] is not registered
    assert first.sources[2] is not second.sources[2]
    assert first.sources[3] is plain and second.sources[3] is plain


def test_a_contract_price_source_plugs_in_and_the_lowest_price_wins(offer):
    trust = TrustFactory()

    class ContractPrices:
        name = "contract"

        def candidates(self, *, offer, buyer, quantity, on_date):
            return [Candidate("contract", D("11.75"))] if buyer == trust else []

    strategy = Strategy(sources=[ListPriceSource(), VolumeTierSource(), ContractPrices()])

    assert strategy.price(offer=offer, buyer=trust, quantity=10).source == "contract"
    assert strategy.price(offer=offer, buyer=trust, quantity=10).pack_price == D("11.75")
    assert strategy.price(offer=offer, buyer=trust, quantity=500).source == "volume_tier"
    assert strategy.price(offer=offer, buyer=TrustFactory(), quantity=10).source == "list"


def test_pricing_prefetched_offers_costs_no_queries(django_assert_num_queries):
    product = ProductFactory()
    for n in range(20):
        tiered = OfferFactory(product=product, pack_price=D("10.00") + n)
        VolumeTierFactory(offer=tiered, min_packs=10, pack_price=D("9.00") + n)
    offers = list(
        Offer.objects.filter(product=product).select_related("supplier", "product").prefetch_related("tiers")
    )

    with django_assert_num_queries(0):
        priced = Strategy().prices(offers=offers, quantity=10)

    assert [p.pack_price for _, p in priced][:3] == [D("9.00"), D("10.00"), D("11.00")]


def test_a_quantity_below_one_pack_is_refused(offer):
    with pytest.raises(DomainError) as raised:
        buyer_price(offer=offer, quantity=0)

    assert raised.value.field == "quantity"


def test_prices_are_never_floats():
    with pytest.raises(TypeError):
        offer_input(pack_price=12.5)
    assert isinstance(OfferInput.from_json(offer_input().to_json()).pack_price, Decimal)


def test_the_strategy_answers_in_money_and_prices():
    offer = OfferFactory(pack_price=D("10.99"), vat_rate=D("20"), units_per_pack=3)
    price = buyer_price(offer=offer, quantity=3)
    assert isinstance(price.pack, Price) and isinstance(price.total, Price)
    assert isinstance(price.unit, Money) and isinstance(price.list_pack, Money)
    assert price.pack.excl_vat == Money(D("10.99"))
    assert price.total == price.pack * 3
    # The VAT is common.money's: on the line total (39.56), not three times the pack's (39.57).
    assert price.total.incl_vat == Money(D("39.56"))
    assert price.pack.incl_vat == Money(D("13.19"))
    assert to_pence(price.total.incl_vat) == 3956
    assert price.unit == Money(D("3.6633"))
