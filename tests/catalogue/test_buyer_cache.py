"""What a page priced for one buyer is kept for that buyer alone (`catalogue.caching.buyer_cached`):
a category page's rows, a product's offers table, a page of the products API, search cards' "Add to
basket" (per person too). Never served to another trust, and gone on the next request after the
offer, the catalogue or the buyer's prices change.

The contract source here names its namespace, as the real ones do (contract prices, pooled prices):
that is what lets pages keep what they priced. `tests/catalogue/test_browse_cache.py` covers a
source that names none (nothing priced is kept) and the shared, unpriced entries.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core.signals import request_finished, request_started
from django.test import Client

from catalogue import strategy
from catalogue.panels import _CSRF_MARK
from common import caching
from organisations.models import Role
from tests.catalogue import test_browse_cache as browse
from tests.catalogue.factories import OfferFactory
from tests.catalogue.test_browse_cache import ContractPrices, seen, signed_in
from tests.organisations.factories import TrustFactory, member

pytestmark = pytest.mark.django_db

D = Decimal
NAMESPACE = "test-contract-prices"
CATEGORY = "/catalogue/categories/cache-ward/"
PRODUCT = "/catalogue/products/zephyr-bandage/"
# The browse cache tests' fixtures: a real local-memory cache, and their shop (which asks for the
# `contracts` fixture below).
real_cache = browse.real_cache
shop = browse.shop


class KeptContractPrices(ContractPrices):
    """A contract source whose prices move a namespace's version when they change, and which counts
    how often it is asked (a page served from what was kept asks nothing)."""

    shared_namespaces = (NAMESPACE,)

    def __init__(self) -> None:
        super().__init__()
        self.asked = 0

    def candidates(self, **kwargs):
        self.asked += 1
        return super().candidates(**kwargs)

    def change(self, trust, offer, price: Decimal) -> None:
        self.packs[(trust.pk, offer.pk)] = price
        caching.shared_changed(NAMESPACE)


@pytest.fixture
def contracts(monkeypatch):
    source = KeptContractPrices()
    monkeypatch.setattr(strategy, "_registered_sources", [source])
    return source


def card_prices(html: str) -> list[str]:
    """The pack prices the search cards' "Add to basket" quote."""
    return re.findall(r'<span class="mp-price">£([\d.]+)</span> a pack', html)


def test_the_registered_price_sources_name_their_namespaces():
    """With the project's own sources every page keeps what it priced: none of them is unnamed."""
    from purchasing.agreements.selectors import CONTRACT_PRICES
    from purchasing.rounds.selectors import POOLED_PRICES

    assert set(strategy.default_strategy().shared_namespaces()) == {CONTRACT_PRICES, POOLED_PRICES}
    assert strategy.Strategy([*strategy.default_sources(), ContractPrices()]).shared_namespaces() is None


@pytest.mark.parametrize("first", ["north", "south"])
def test_each_trust_sees_its_own_prices_from_what_was_kept_whoever_asks_first(shop, contracts, first):
    second = "south" if first == "north" else "north"
    clients = {name: signed_in(shop[name]) for name in (first, second)}
    own = {"north": "31.70", "south": "27.30"}
    got = {name: seen(shop, *clients[name]) for name in (first, second)}
    contracts.asked = 0
    again = {name: seen(shop, *clients[name]) for name in (first, second)}

    # The second round was served from what each trust's first round kept (the detail API prices).
    assert contracts.asked == 2
    for name, other in ((first, second), (second, first)):
        for round_ in (got, again):
            for page in ("category", "product"):
                assert f"£{own[name]}" in round_[name][page]
                assert f"£{own[other]}" not in round_[name][page]
            assert card_prices(round_[name]["search"]) == [own[name]]
            assert round_[name]["api"] == own[name]


def test_a_trust_without_a_contract_gets_the_list_price_after_the_others_warmed_every_page(shop, contracts):
    seen(shop, *signed_in(shop["north"]))
    seen(shop, *signed_in(shop["south"]))
    west = seen(shop, *signed_in(TrustFactory(name="West Trust")))

    for page in ("category", "product"):
        assert "£50.00" in west[page] and "£31.70" not in west[page] and "£27.30" not in west[page]
    assert card_prices(west["search"]) == ["50.00"]
    assert west["api"] == "50.00"


def test_a_changed_contract_price_shows_on_the_next_request(shop, contracts):
    north = signed_in(shop["north"])
    seen(shop, *north)
    seen(shop, *north)  # kept
    contracts.change(shop["north"], shop["offer"], D("29.90"))

    after = seen(shop, *north)
    for page in ("category", "product"):
        assert "£29.90" in after[page] and "£31.70" not in after[page]
    assert card_prices(after["search"]) == ["29.90"]
    assert (after["api"], after["api_detail"]) == ("29.90", "29.90")


def test_a_changed_offer_shows_on_every_kept_page_on_the_next_request(
    shop, contracts, django_capture_on_commit_callbacks
):
    west = signed_in(TrustFactory(name="West Trust"))
    seen(shop, *west)
    with django_capture_on_commit_callbacks(execute=True):
        offer = shop["offer"]
        offer.pack_price = D("44.40")
        offer.save()

    after = seen(shop, *west)
    for page in ("category", "product"):
        assert "£44.40" in after[page] and "£50.00" not in after[page]
    assert card_prices(after["search"]) == ["44.40"]
    assert after["api"] == "44.40"


def test_a_new_cheaper_offer_changes_the_kept_rows_on_the_next_request(
    shop, contracts, django_capture_on_commit_callbacks
):
    page, _ = signed_in(TrustFactory(name="West Trust"))
    assert "1 offer from 1 supplier" in page.get(CATEGORY).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        OfferFactory(product=shop["product"], pack_price=D("12.00"))

    html = page.get(CATEGORY).content.decode()
    assert "2 offers from 2 suppliers" in html and "£12.00" in html


def test_search_cards_are_kept_per_person_an_approver_gets_no_add_to_basket(shop, contracts):
    """Two people of one trust: the buyer's cards (with "Add to basket") are not the approver's."""
    buyer, approver = Client(), Client()
    buyer.force_login(member(Role.BUYER, shop["north"]))
    approver.force_login(member(Role.APPROVER, shop["north"]))
    for _ in range(2):
        assert card_prices(buyer.get("/search/", {"q": "zephyr"}).content.decode()) == ["31.70"]
        assert card_prices(approver.get("/search/", {"q": "zephyr"}).content.decode()) == []


def test_kept_search_cards_carry_the_requests_csrf_token_and_the_basket_accepts_it(shop, contracts):
    page = Client(enforce_csrf_checks=True)
    page.force_login(member(Role.BUYER, shop["north"]))
    page.get("/search/", {"q": "zephyr"})  # kept
    html = page.get("/search/", {"q": "zephyr"}).content.decode()

    assert _CSRF_MARK not in html
    form = re.search(r'<form method="post" action="([^"]+)" class="mp-card-add.*?</form>', html, re.S)
    assert form
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.group(0)).group(1)
    answer = page.post(
        form.group(1),
        {"csrfmiddlewaretoken": token, "offer": shop["offer"].pk, "quantity": 1, "next": "/search/?q=zephyr"},
    )
    assert answer.status_code == 302


@pytest.mark.parametrize(("url", "limit"), [(CATEGORY, 1), (PRODUCT, 4), ("/search/?q=zephyr", 1)])
def test_kept_pages_cost_only_the_buyers_own_lookups(
    shop, contracts, url, limit, django_assert_max_num_queries
):
    page, _ = signed_in(shop["north"])
    page.get(url)
    with django_assert_max_num_queries(limit):
        assert page.get(url).status_code == 200


def test_the_kept_api_page_costs_only_the_token_user(shop, contracts, django_assert_max_num_queries):
    _, api = signed_in(shop["north"])
    api.get("/api/v1/products/")
    with django_assert_max_num_queries(1):
        assert api.get("/api/v1/products/").json()["results"][0]["cheapest"]["pack_price"] == "31.70"


def test_a_kept_api_page_is_kept_per_host_its_urls_name(shop, contracts, settings):
    settings.ALLOWED_HOSTS = ["one.example", "two.example"]
    _, api = signed_in(shop["north"])
    for _ in range(2):
        for host in ("one.example", "two.example"):
            [row] = api.get("/api/v1/products/", HTTP_HOST=host).json()["results"]
            assert row["url"].startswith(f"http://{host}/api/v1/products/")


def test_a_request_reads_the_versions_once_and_still_sees_its_own_changes():
    assert caching.shared_versions(["memo-a"]) == caching.shared_versions(["memo-a"])
    request_started.send(sender=None)
    try:
        (first,) = caching.shared_versions(["memo-a"])
        caching.cache.incr(caching._version_key("memo-a"))  # another process moves it: not seen here
        assert caching.shared_versions(["memo-a"]) == (first,)
        caching.shared_changed("memo-a")  # this process moves it: seen at once
        assert caching.shared_versions(["memo-a"])[0] > first + 1
    finally:
        request_finished.send(sender=None)
    # Outside a request every read is fresh.
    (outside,) = caching.shared_versions(["memo-a"])
    caching.cache.incr(caching._version_key("memo-a"))
    assert caching.shared_versions(["memo-a"]) == (outside + 1,)
