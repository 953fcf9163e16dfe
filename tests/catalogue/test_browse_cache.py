"""What every buyer sees alike is kept in the shared cache; no buyer's price ever is, and what is
kept for one user (their memberships and patients) is never anyone else's.

Two trusts hold different contract prices for the same offer. With real caching on (a local-memory
cache, as Redis in production), each sees its own price on the category page, the product page and
the products API, whichever asks first, and neither sees the other's anywhere (the search page shows
list prices only). A change to an offer shows on the next request; a warm cache costs fewer queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from catalogue import strategy
from catalogue.models import OfferStatus
from catalogue.services import offer_withdraw
from catalogue.strategy import Candidate
from common import caching
from organisations.models import CarerLink, Membership, Organisation, Role
from tests.catalogue.factories import CategoryFactory, OfferFactory, ProductFactory
from tests.organisations.factories import (
    PatientProfileFactory,
    SupplierFactory,
    TrustFactory,
    UserFactory,
    member,
)

pytestmark = pytest.mark.django_db

D = Decimal
LIST_PACK = D("50.00")


@dataclass
class ContractPrices:
    """A contract price source as a higher app registers one: a pack price per (trust, offer)."""

    name: str = "test_contract"
    packs: dict[tuple[int, int], Decimal] = field(default_factory=dict)

    def candidates(self, *, offer, buyer, quantity, on_date):
        if not isinstance(buyer, Organisation):
            return []
        price = self.packs.get((buyer.pk, offer.pk))
        return [Candidate(self.name, price)] if price is not None else []


@pytest.fixture(autouse=True)
def real_cache(settings):
    """A cache that really keeps things (its own location), as Redis does in production."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "browse-cache"}
    }


@pytest.fixture
def contracts(monkeypatch):
    source = ContractPrices()
    monkeypatch.setattr(strategy, "_registered_sources", [source])
    return source


@pytest.fixture
def shop(contracts, django_capture_on_commit_callbacks):
    """One bandage on sale at £50.00 a pack; North pays £31.70 under contract, South £27.30."""
    with django_capture_on_commit_callbacks(execute=True):  # indexed for search as on commit
        ward = CategoryFactory(name="Cache ward", slug="cache-ward")
        product = ProductFactory(name="Zephyr compression bandage", slug="zephyr-bandage", category=ward)
        supplier = SupplierFactory(name="Steady Supplies")
        offer = OfferFactory(product=product, supplier=supplier, pack_price=LIST_PACK)
    north, south = TrustFactory(name="North Trust"), TrustFactory(name="South Trust")
    contracts.packs[(north.pk, offer.pk)] = D("31.70")
    contracts.packs[(south.pk, offer.pk)] = D("27.30")
    return {
        "ward": ward,
        "product": product,
        "offer": offer,
        "supplier": supplier,
        "north": north,
        "south": south,
    }


def signed_in(trust) -> tuple[Client, APIClient]:
    user = member(Role.BUYER, trust)
    page, api = Client(), APIClient()
    page.force_login(user)
    api.force_authenticate(user)
    return page, api


def seen(shop, page: Client, api: APIClient) -> dict[str, str]:
    """What one buyer sees on each page (text of the pages, the API's cheapest pack price)."""
    category = page.get(reverse("catalogue:category-detail", kwargs={"slug": "cache-ward"}))
    product = page.get(reverse("catalogue:product-detail", kwargs={"slug": "zephyr-bandage"}))
    search = page.get("/search/", {"q": "zephyr"})
    listed = api.get("/api/v1/products/")
    detail = api.get(f"/api/v1/products/{shop['product'].pk}/")
    for response in (category, product, search, listed, detail):
        assert response.status_code == 200
    return {
        "category": category.content.decode(),
        "product": product.content.decode(),
        "search": search.content.decode(),
        "api": listed.json()["results"][0]["cheapest"]["pack_price"],
        "api_detail": detail.json()["offers"][0]["price"]["pack_price"],
    }


@pytest.mark.parametrize("first", ["north", "south"])
def test_two_trusts_each_see_their_own_contract_price_whoever_asks_first(shop, first):
    north, south = signed_in(shop["north"]), signed_in(shop["south"])
    order = [("north", north), ("south", south)]
    if first == "south":
        order.reverse()
    views = {name: seen(shop, *clients) for name, clients in order}
    # And again, from a warm cache, the other way round.
    views_again = {name: seen(shop, *clients) for name, clients in reversed(order)}

    for got in (views, views_again):
        assert "£31.70" in got["north"]["category"] and "£27.30" not in got["north"]["category"]
        assert "£27.30" in got["south"]["category"] and "£31.70" not in got["south"]["category"]
        assert "£31.70" in got["north"]["product"] and "£27.30" not in got["north"]["product"]
        assert "£27.30" in got["south"]["product"] and "£31.70" not in got["south"]["product"]
        assert (got["north"]["api"], got["south"]["api"]) == ("31.70", "27.30")
        assert (got["north"]["api_detail"], got["south"]["api_detail"]) == ("31.70", "27.30")
        # Search cards are cached alike for everyone; their "Add to basket" quotes each buyer's own.
        for name in ("north", "south"):
            assert "compression bandage</a>" in got[name]["search"]  # the word searched is marked
        assert "£31.70" in got["north"]["search"] and "£27.30" not in got["north"]["search"]
        assert "£27.30" in got["south"]["search"] and "£31.70" not in got["south"]["search"]


def test_the_second_trust_is_served_from_the_shared_cache_yet_priced_for_itself(shop):
    """The leak test above means something only if the second buyer really reads the first one's
    entries: it costs fewer queries, and still sees its own price."""
    (north_page, _), (south_page, _) = signed_in(shop["north"]), signed_in(shop["south"])
    url = reverse("catalogue:category-detail", kwargs={"slug": "cache-ward"})
    north_page.get("/")  # sessions warm, caches still cold for the category
    south_page.get("/")
    with CaptureQueriesContext(connection) as cold:
        north_page.get(url)
    with CaptureQueriesContext(connection) as warm:
        response = south_page.get(url)

    assert len(warm) < len(cold)
    assert "£27.30" in response.content.decode()


def test_a_changed_offer_shows_on_the_next_request(shop, django_capture_on_commit_callbacks):
    page, api = signed_in(TrustFactory(name="West Trust"))  # no contract: the list price
    url = reverse("catalogue:product-detail", kwargs={"slug": "zephyr-bandage"})
    assert "£50.00" in page.get(url).content.decode()  # the list price, for the record
    with django_capture_on_commit_callbacks(execute=True):
        offer = shop["offer"]
        offer.pack_price = D("44.40")
        offer.save()

    assert "£44.40" in page.get(url).content.decode()
    assert "£50.00" not in page.get(url).content.decode()
    assert api.get("/api/v1/products/").json()["results"][0]["offer_count"] == 1


def test_a_withdrawn_offer_is_gone_on_the_next_request(shop, django_capture_on_commit_callbacks):
    page, api = signed_in(shop["north"])
    category = reverse("catalogue:category-detail", kwargs={"slug": "cache-ward"})
    product = reverse("catalogue:product-detail", kwargs={"slug": "zephyr-bandage"})
    assert "Zephyr compression bandage" in page.get(category).content.decode()
    assert page.get(product).status_code == 200
    assert api.get("/api/v1/products/").json()["count"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        offer_withdraw(offer=shop["offer"], actor=None)
    shop["offer"].refresh_from_db()
    assert shop["offer"].status == OfferStatus.WITHDRAWN

    assert "Zephyr compression bandage" not in page.get(category).content.decode()
    assert page.get(product).status_code == 404
    assert api.get("/api/v1/products/").json()["count"] == 0
    assert "Zephyr compression bandage" not in page.get("/search/", {"q": "zephyr"}).content.decode()


def test_a_new_offer_from_another_supplier_shows_on_the_next_request(
    shop, django_capture_on_commit_callbacks
):
    page, _ = signed_in(shop["south"])
    url = reverse("catalogue:product-detail", kwargs={"slug": "zephyr-bandage"})
    assert "Other Supplies" not in page.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        OfferFactory(
            product=shop["product"], supplier=SupplierFactory(name="Other Supplies"), pack_price=D("49")
        )

    assert "Other Supplies" in page.get(url).content.decode()


def test_a_changed_contract_price_shows_on_the_next_request_from_a_warm_cache(shop, contracts):
    """This source names no namespace (`shared_namespaces`), so no page keeps what it priced: a
    change is seen at once without any version moving (test_buyer_cache.py: a source that names one)."""
    north = signed_in(shop["north"])
    before = seen(shop, *north)
    assert before["api"] == "31.70"
    contracts.packs[(shop["north"].pk, shop["offer"].pk)] = D("29.90")

    after = seen(shop, *north)
    for name in ("category", "product", "search"):
        assert "£29.90" in after[name] and "£31.70" not in after[name]
    assert (after["api"], after["api_detail"]) == ("29.90", "29.90")


def test_a_patient_sees_list_prices_and_what_a_budget_cannot_buy_on_pages_a_trust_warmed(shop):
    shop["offer"].patient_eligible = False
    shop["offer"].save()
    trust_page, _ = signed_in(shop["north"])
    patient_page = Client()
    patient_page.force_login(PatientProfileFactory().user)
    product = reverse("catalogue:product-detail", kwargs={"slug": "zephyr-bandage"})
    category = reverse("catalogue:category-detail", kwargs={"slug": "cache-ward"})
    refused = "cannot be bought from a personal health budget"

    for _ in range(2):  # cold, then warm
        for_trust = trust_page.get(product).content.decode()
        for_patient = patient_page.get(product).content.decode()
        assert "£31.70" in for_trust and refused not in for_trust
        assert "£50.00" in for_patient and refused in for_patient and "£31.70" not in for_patient
        listed = patient_page.get(category).content.decode()
        assert "£50.00" in listed and "£31.70" not in listed and "£27.30" not in listed


def test_an_ended_membership_stops_acting_for_the_trust_on_the_next_request(shop):
    """Each user's memberships are kept in the shared cache; ending one drops them on commit."""
    page, _ = signed_in(shop["north"])
    url = reverse("catalogue:product-detail", kwargs={"slug": "zephyr-bandage"})
    assert "£31.70" in page.get(url).content.decode()
    assert "£31.70" in page.get(url).content.decode()  # warm

    Membership.objects.get(organisation=shop["north"]).delete()

    after = page.get(url).content.decode()
    assert "£50.00" in after and "£31.70" not in after


def test_a_new_membership_shows_in_the_switcher_on_the_next_request_and_only_for_its_user(shop):
    north_page, _ = signed_in(shop["north"])
    other_page, _ = signed_in(shop["north"])
    url = reverse("catalogue:category-detail", kwargs={"slug": "cache-ward"})
    assert "Acting for" not in north_page.get(url).content.decode()  # one trust: no switcher
    other_page.get(url)  # the other user's inputs kept too

    user = Membership.objects.filter(organisation=shop["north"]).order_by("pk").first().user
    Membership.objects.create(user=user, organisation=shop["south"], role=Role.BUYER)

    assert "South Trust" in north_page.get(url).content.decode()
    assert "South Trust" not in other_page.get(url).content.decode()


def test_a_carer_link_made_or_ended_shows_in_the_switcher_on_the_next_request(shop):
    carer = UserFactory()
    patient = PatientProfileFactory(user=UserFactory(full_name="Petra Quill"))
    page = Client()
    page.force_login(carer)
    url = reverse("catalogue:category-detail", kwargs={"slug": "cache-ward"})
    assert "Petra Quill" not in page.get(url).content.decode()

    link = CarerLink.objects.create(patient=patient, carer=carer)
    assert "Petra Quill" in page.get(url).content.decode()
    link.delete()
    assert "Petra Quill" not in page.get(url).content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/catalogue/categories/cache-ward/",
        "/catalogue/products/zephyr-bandage/",
        "/search/?q=zephyr",
        "/api/v1/products/",
    ],
)
def test_a_warm_cache_costs_only_the_buyers_own_lookups(shop, url, django_assert_max_num_queries):
    page, api = signed_in(shop["north"])
    client = api if url.startswith("/api/") else page
    client.get(url)  # warms the session and the shared cache

    # The user (the session, their memberships and the patients they may act for come from the
    # cache): nothing of the catalogue. The product page's peer-prices panel is kept for the trust
    # until the figures change (tests/pricing/test_pages.py) and its "Add to basket" panel for the
    # buyer; search cards price their "Add to basket" for this buyer from cached offers.
    with django_assert_max_num_queries(1):
        assert client.get(url).status_code == 200


def test_a_category_page_after_an_offer_changed_does_not_look_its_category_up_again(
    shop, django_capture_on_commit_callbacks
):
    page, _ = signed_in(TrustFactory(name="West Trust"))  # no contract: the list price
    url = reverse("catalogue:category-detail", kwargs={"slug": "cache-ward"})
    page.get(url)
    with django_capture_on_commit_callbacks(execute=True):
        offer = shop["offer"]
        offer.pack_price = D("44.40")
        offer.save()

    with CaptureQueriesContext(connection) as ctx:
        body = page.get(url).content.decode()

    assert "£44.40" in body  # the products were read again
    assert not [q for q in ctx.captured_queries if '"catalogue_category"."slug" =' in q["sql"]]


def test_a_renamed_moved_or_removed_category_shows_on_the_next_request(
    shop, django_capture_on_commit_callbacks
):
    page, _ = signed_in(shop["north"])
    ward = shop["ward"]
    with django_capture_on_commit_callbacks(execute=True):
        spare = CategoryFactory(name="Spare ward", slug="spare-ward")
    url = reverse("catalogue:category-detail", kwargs={"slug": "spare-ward"})
    assert "<h1>Spare ward</h1>" in page.get(url).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        spare.name = "Overflow ward"
        spare.save()
    assert "<h1>Overflow ward</h1>" in page.get(url).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        spare.parent = ward
        spare.save()
    moved = page.get(url)
    assert [ancestor.name for ancestor in moved.context["ancestors"]] == ["Cache ward"]
    assert moved.context["category"].path == "Cache ward > Overflow ward"

    with django_capture_on_commit_callbacks(execute=True):
        spare.delete()
    assert page.get(url).status_code == 404


def test_a_change_moves_the_version_at_once_and_again_on_commit(django_capture_on_commit_callbacks):
    (before,) = caching.shared_versions(["test-namespace"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        caching.shared_changed("test-namespace")
        caching.shared_changed("test-namespace")  # one callback per transaction, however many changes
        (during,) = caching.shared_versions(["test-namespace"])
    assert during > before
    assert len(callbacks) == 1
    callbacks[0]()
    assert caching.shared_versions(["test-namespace"])[0] > during


def test_a_request_memo_computes_once_per_request_and_is_forgotten_on_demand(rf):
    request, calls = rf.get("/"), []

    def lookup():
        calls.append(1)
        return len(calls)

    assert caching.request_memo(request, ("lookup", 1), lookup) == 1
    assert caching.request_memo(request, ("lookup", 1), lookup) == 1
    assert caching.request_memo(rf.get("/"), ("lookup", 1), lookup) == 2  # another request
    caching.request_forget(request, "lookup")
    assert caching.request_memo(request, ("lookup", 1), lookup) == 3
