"""A buyer filtering a category page or the products API gets exactly the products, counts and facet
counts that the offers give, whichever filters they combine: whether the answer is read from the
stored browse rows (no filter; patient eligible; in stock; with one price or lead-time bound) or from
the offers, it equals a brute-force count over the buyable offers."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from catalogue import selectors
from catalogue.browse import paging
from catalogue.browse.paging import CountedPaginator
from catalogue.filters import ProductFilter
from catalogue.models import Category, Offer, OfferStatus, Product, StockStatus
from catalogue.selectors import buyable_offer_q
from tests.catalogue.factories import CategoryFactory, OfferFactory, ProductFactory
from tests.organisations.factories import SupplierFactory

pytestmark = pytest.mark.django_db

D = Decimal
STOCK_STATES = [status for status, _ in StockStatus.choices]


@pytest.fixture
def market():
    """Three categories (a ward with two shelves), four suppliers, 36 products with 0 to 4 offers of
    every kind: prices, stock states, lead times, patient eligibility, some withdrawn; a third of the
    products offered twice by one supplier (two pack sizes), which every count must still count
    once."""
    rng = random.Random(11)
    ward = CategoryFactory(name="Filter ward", slug="filter-ward")
    shelves = [ward, *(CategoryFactory(name=f"Shelf {n}", parent=ward) for n in "AB")]
    suppliers = [SupplierFactory(name=f"Supplier {n}") for n in range(4)]
    for n in range(36):
        product = ProductFactory(name=f"Item {rng.choice('abcdefgh')}{n}", category=shelves[n % 3])
        chosen = rng.sample(suppliers, rng.randint(0, 4))
        if chosen and rng.random() < 0.35:
            chosen.append(chosen[0])
        for supplier in chosen:
            OfferFactory(
                product=product,
                supplier=supplier,
                pack_price=D(rng.randint(100, 2000)) / 100,
                units_per_pack=rng.choice([1, 2, 10]),
                stock_status=rng.choice(STOCK_STATES),
                lead_time_days=rng.choice([None, 1, 3, 7, 14]),
                patient_eligible=rng.random() < 0.4,
                status=OfferStatus.LIVE if rng.random() < 0.85 else OfferStatus.WITHDRAWN,
            )
    return {"ward": ward, "shelves": shelves, "suppliers": suppliers, "rng": rng}


def random_filters(rng: random.Random, suppliers) -> dict:
    """A buyer's choice of zero to three filters from the whole vocabulary, often the stored ones."""
    choices = [
        lambda: {"patient_eligible": "true"},
        lambda: {"patient_eligible": "true"},
        lambda: {"patient_eligible": "false"},
        lambda: {"stock": ["in_stock"]},
        lambda: {"stock": ["in_stock"]},
        lambda: {"stock": rng.sample(STOCK_STATES, rng.randint(1, 2))},
        lambda: {"supplier": [str(rng.choice(suppliers).pk)]},
        lambda: {"unit_price_max": str(rng.choice([2, 5, 9]))},
        lambda: {"unit_price_min": str(rng.choice([1, 4, 8]))},
        lambda: {"lead_time_max": str(rng.choice([1, 3, 7]))},
        lambda: {"pack_price_max": "12"},
    ]
    params: dict = {}
    for choose in rng.sample(choices, rng.randint(0, 3)):
        params.update(choose())
    params["sort"] = rng.choice(["price", "name", "lead_time"])
    return params


def random_offer_filters(rng: random.Random, suppliers) -> dict:
    """One or more suppliers with any of stock, price and lead-time bounds and patient eligibility:
    the combinations only the offers' own rows answer, each condition on the same offer."""
    params: dict = {"supplier": [str(s.pk) for s in rng.sample(suppliers, rng.choice([1, 1, 2]))]}
    choices = [
        lambda: {"stock": rng.choice([["in_stock"], rng.sample(STOCK_STATES, rng.randint(1, 2))])},
        # Each range's ends never cross (a crossed range is refused, not listed).
        lambda: {"unit_price_max": str(rng.choice([5, 9]))},
        lambda: {"unit_price_min": str(rng.choice([1, 4]))},
        lambda: {"pack_price_min": str(rng.choice([3, 8]))},
        lambda: {"pack_price_max": str(rng.choice([8, 15]))},
        lambda: {"lead_time_max": str(rng.choice([1, 3, 7]))},
        lambda: {"patient_eligible": rng.choice(["true", "true", "false"])},
    ]
    for choose in rng.sample(choices, rng.randint(0, 4)):
        params.update(choose())
    if rng.random() < 0.3:
        del params["supplier"]  # the same combinations over the whole category
    params["sort"] = rng.choice(["price", "name", "lead_time"])
    return params


def meets(offer: Offer, params: dict, without: str | None = None) -> bool:
    """One offer against every chosen filter but `without`, read from the offer in Python."""
    p = {name: value for name, value in params.items() if name != without}
    checks = [
        "supplier" not in p or str(offer.supplier_id) in p["supplier"],
        "stock" not in p or offer.stock_status in p["stock"],
        "patient_eligible" not in p or offer.patient_eligible == (p["patient_eligible"] == "true"),
        "unit_price_max" not in p or offer.unit_price <= D(p["unit_price_max"]),
        "unit_price_min" not in p or offer.unit_price >= D(p["unit_price_min"]),
        "pack_price_max" not in p or offer.pack_price <= D(p["pack_price_max"]),
        "pack_price_min" not in p or offer.pack_price >= D(p["pack_price_min"]),
        "lead_time_max" not in p
        or (offer.lead_time_days is not None and offer.lead_time_days <= int(p["lead_time_max"])),
    ]
    return all(checks)


def brute_force(category: Category, params: dict, children: list[Category] = ()) -> dict:
    """What the offers say: the matching products in order, and every facet count."""
    offers = [
        offer
        for offer in Offer.objects.filter(buyable_offer_q()).select_related("product__category")
        if offer.product.category.path == category.path
        or offer.product.category.path.startswith(category.path + " > ")
    ]

    def products(without: str | None = None, extra=lambda offer: True) -> set[int]:
        return {o.product_id for o in offers if meets(o, params, without) and extra(o)}

    matching = [o for o in offers if meets(o, params)]
    names = dict(Product.objects.values_list("id", "name"))
    by_product: dict[int, list[Offer]] = {}
    for offer in matching:
        by_product.setdefault(offer.product_id, []).append(offer)

    def key(pk: int):
        prices = min(o.unit_price for o in by_product[pk])
        leads = [o.lead_time_days for o in by_product[pk] if o.lead_time_days is not None]
        if params["sort"] == "name":
            return (names[pk].lower(), pk)
        if params["sort"] == "lead_time":
            return (min(leads) if leads else 10**6, prices, pk)
        return (prices, names[pk].lower(), pk)

    return {
        "order": sorted(by_product, key=key),
        "suppliers": {
            str(s): n
            for s in {o.supplier_id for o in offers}
            if (n := len(products("supplier", lambda o, s=s: o.supplier_id == s)))
        },
        "stock": {
            state: n
            for state in STOCK_STATES
            if (n := len(products("stock", lambda o, state=state: o.stock_status == state)))
        },
        "patient": len(products("patient_eligible", lambda o: o.patient_eligible)),
        # Each sub-category's matching products (its own and its descendants').
        "categories": {
            child.slug: n
            for child in children
            if (
                n := len(
                    {
                        o.product_id
                        for o in matching
                        if o.product.category.path == child.path
                        or o.product.category.path.startswith(child.path + " > ")
                    }
                )
            )
        },
    }


def check_against_brute_force(category: Category, params: dict) -> None:
    children = list(Category.objects.filter(parent=category))
    expected = brute_force(category, params, children)
    facets = selectors.product_facets(filters=params, category=category)
    listed = list(selectors.product_list(filters=params, category=category).values_list("id", flat=True))
    assert listed == expected["order"], params
    # A page found through the browse rows' index (the deferred join) is the same slice.
    products = selectors.product_list(filters=params, category=category)
    if len(listed) > 4:
        page = CountedPaginator(products, 4, count=len(listed)).page(2)
        assert [p.pk for p in page.object_list] == listed[4:8], params
    assert facets.total == len(expected["order"]), params
    counted = ProductFilter(params, queryset=Product.objects.all(), category=category)
    assert counted.is_valid()
    assert counted.count() == len(expected["order"]), params
    assert {f.value: f.count for f in facets.suppliers} == expected["suppliers"], params
    assert {f.value: f.count for f in facets.stock_statuses} == expected["stock"], params
    assert facets.patient_eligible == expected["patient"], params
    assert {f.value: f.count for f in facets.categories} == expected["categories"], params


def test_lists_and_facets_equal_a_brute_force_count_for_random_filters(market, monkeypatch):
    monkeypatch.setattr(paging, "NEAR", 0)  # every page past the first through the deferred join
    rng = market["rng"]
    for _ in range(60):
        category = rng.choice(market["shelves"])
        check_against_brute_force(category, random_filters(rng, market["suppliers"]))


def test_one_stock_state_with_patient_eligibility_or_a_bound_counts_exactly(market):
    """The counts a stock state's own columns answer (its offers' count, lowest and highest price),
    for every state, with and without patient eligibility, under each kind of bound, over the ward
    and a shelf: equal to a brute-force count, as are the lists."""
    for state in STOCK_STATES:
        for patient in ({}, {"patient_eligible": "true"}):
            for bound in ({}, {"unit_price_max": "5"}, {"unit_price_min": "4"}, {"lead_time_max": "3"}):
                for category in (market["ward"], market["shelves"][1]):
                    check_against_brute_force(
                        category, {"stock": [state], **patient, **bound, "sort": "price"}
                    )


def test_supplier_and_offer_filter_combinations_equal_a_brute_force_count(market, monkeypatch):
    """Supplier(s) with stock, price and lead-time bounds and patient eligibility, read from the
    offers' own browse rows: exact lists and facets, every condition on the same offer."""
    monkeypatch.setattr(paging, "NEAR", 0)
    rng = random.Random(1111)
    for _ in range(60):
        category = rng.choice(market["shelves"])
        check_against_brute_force(category, random_offer_filters(rng, market["suppliers"]))


@pytest.mark.parametrize("missing_share", [0, 1], ids=["rows missing the bound", "rows meeting it"])
def test_supplier_counts_under_one_price_bound_are_exact_counted_either_way(
    market, monkeypatch, missing_share
):
    """A price bound alone or with patient eligibility or "in stock": the supplier facet is counted
    from the offer rows meeting the bound, or (when most products meet it) as the stored counts
    without the bound less the products whose every offer of the supplier misses it. Both ways, at
    every bound and with a supplier's several offers of a product on either side of it, the counts
    equal a brute-force count."""
    monkeypatch.setattr(selectors, "SUPPLIER_COUNT_MISSING_SHARE", missing_share)
    check_supplier_counts_under_price_bounds(market)


def check_supplier_counts_under_price_bounds(market) -> None:
    """Every price bound, alone or with a stored subset, over the ward and a shelf, with one
    supplier's two offers of a product on either side of every bound."""
    ward, shelves, suppliers = market["ward"], market["shelves"], market["suppliers"]
    # A supplier's two offers of one product across every bound below (1.50 and 12.00 a unit).
    product = ProductFactory(name="Item split", category=shelves[1])
    for pack_price, stock in ((D("1.50"), "in_stock"), (D("12.00"), "out_of_stock")):
        OfferFactory(
            product=product,
            supplier=suppliers[0],
            pack_price=pack_price,
            units_per_pack=1,
            stock_status=stock,
        )
    for bound in (
        {"unit_price_max": "2"},
        {"unit_price_max": "9"},
        {"unit_price_min": "1"},
        {"unit_price_min": "8"},
    ):
        for also in ({}, {"patient_eligible": "true"}, {"stock": ["in_stock"]}):
            for category in (ward, shelves[1]):
                check_against_brute_force(category, {**bound, **also, "sort": "price"})


def test_the_offers_rows_follow_changes_between_requests(market):
    """The same combinations after offers change (repriced, withdrawn, a supplier deactivated, a
    product moved): still exact, so the rows follow every change."""
    rng = random.Random(7)
    ward, shelves, suppliers = market["ward"], market["shelves"], market["suppliers"]
    offers = list(Offer.objects.filter(status=OfferStatus.LIVE).order_by("pk"))
    for offer in rng.sample(offers, 6):
        offer.pack_price = D(rng.randint(100, 2000)) / 100
        offer.stock_status = rng.choice(STOCK_STATES)
        offer.save()
    for offer in rng.sample(offers, 4):
        offer.status = OfferStatus.WITHDRAWN
        offer.save()
    moved = Product.objects.filter(category=shelves[1]).first()
    moved.category = shelves[2]
    moved.save()
    suppliers[1].is_active = False
    suppliers[1].save()
    for _ in range(20):
        params = random_offer_filters(rng, [s for s in suppliers if s.is_active])
        check_against_brute_force(rng.choice([ward, *shelves]), params)


def test_the_stored_rows_answer_the_common_filters_and_the_offers_the_rest(market):
    def stored(params):
        product_filter = ProductFilter(params, queryset=Product.objects.all(), category=market["ward"])
        assert product_filter.is_valid()
        return product_filter.stored_rows(bound=True)

    assert stored({}).subset == ""
    assert stored({"patient_eligible": "true"}).subset == "patient"
    assert stored({"stock": ["in_stock"], "unit_price_max": "5"}).bound == ("min_unit_price__lte", D("5"))
    assert stored({"lead_time_max": "3"}).bound == ("min_lead_time_days__lte", D("3"))
    # Two bounds, or two subsets, or a supplier must meet in one offer: only the offers can tell.
    assert stored({"unit_price_min": "1", "unit_price_max": "5"}) is None
    # For a count, one stock state besides patient eligibility or a price bound is a condition on
    # that state's own columns of the rows.
    assert (
        stored({"patient_eligible": "true", "stock": ["in_stock"]}).subset,
        stored({"patient_eligible": "true", "stock": ["in_stock"]}).bound,
    ) == ("patient", ("in_stock_count__gt", 0))
    assert stored({"stock": ["low_stock"], "unit_price_min": "4"}).bound == (
        "low_stock_max_unit_price__gte",
        D("4"),
    )
    assert stored({"stock": ["low_stock"], "lead_time_max": "3"}) is None
    assert stored({"stock": ["in_stock", "low_stock"]}) is None
    assert stored({"supplier": [str(market["suppliers"][0].pk)]}) is None
