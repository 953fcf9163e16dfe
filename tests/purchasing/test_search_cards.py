"""A buyer adds to the basket straight from the search results: each card offers the supplier's
offer that costs the trust least per unit, at its minimum order, and the buyer comes back to the
same results. Only a buyer acting for a trust sees it; the page's queries do not grow per card."""

from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse

from organisations.models import Role
from purchasing.models import BasketLine
from tests.catalogue.factories import OfferFactory
from tests.organisations.factories import member
from tests.purchasing.conftest import Market, build_market

SEARCH = reverse("search:results")


@pytest.fixture
def indexed(django_capture_on_commit_callbacks):
    """Writes committed through the real on-commit hooks, so the search index holds them."""

    def run(build):
        with django_capture_on_commit_callbacks(execute=True):
            return build()

    return run


@pytest.fixture
def market(db, indexed) -> Market:
    return indexed(build_market)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def results(client: Client, text: str = "stocking"):
    return client.get(f"{SEARCH}?{urlencode({'q': text})}")


def card_offers(response) -> list[int]:
    return [
        int(pk)
        for pk in re.findall(r'class="mp-card-add[^"]*" data-offer="(\d+)"', response.content.decode())
    ]


def test_each_card_offers_the_cheapest_offer_and_the_buyer_returns_to_the_results(market, indexed):
    # A second, cheaper supplier of the first product: the card offers that one.
    cheaper = indexed(
        lambda: OfferFactory(
            product=market.offers[0].product,
            supplier=market.suppliers[2],
            pack_price=Decimal("7.50"),
            min_order_packs=2,
        )
    )
    buyer = signed_in(market.buyer)
    page = results(buyer)
    assert page.status_code == 200
    shown = card_offers(page)
    assert cheaper.pk in shown and market.offers[0].pk not in shown
    assert set(shown) == {cheaper.pk, market.offers[1].pk, market.offers[2].pk}
    body = re.sub(r"\s+", " ", page.content.decode())
    assert (
        f'id="card-{cheaper.pk}-quantity" name="quantity" type="number" inputmode="numeric" min="1" value="2"'
        in body
    )
    assert "£7.50</span> a pack" in body

    following = page.wsgi_request.get_full_path()
    added = buyer.post(
        reverse("purchasing:basket-add"), {"offer": cheaper.pk, "quantity": 2, "next": following}
    )
    assert added.status_code == 302 and added.url == following
    line = BasketLine.objects.get(basket__buyer=market.buyer)
    assert (line.offer_id, line.quantity) == (cheaper.pk, 2)


def test_only_a_buyer_acting_for_a_trust_sees_add_to_basket(market, client):
    assert card_offers(results(client)) == []  # signed out
    assert card_offers(results(signed_in(market.staff[0]))) == []  # a supplier
    assert card_offers(results(signed_in(member(Role.APPROVER, market.trust)))) == []  # not a buyer
    assert len(card_offers(results(signed_in(market.buyer)))) == 3


def test_the_cards_cost_the_same_queries_however_many_there_are(
    market, indexed, django_assert_max_num_queries
):
    buyer = signed_in(market.buyer)
    results(buyer)  # warm the shared cache of what every buyer sees alike (the cards are priced per buyer)
    with django_assert_max_num_queries(18) as three:
        assert len(card_offers(results(buyer))) == 3
    queries_for_three = len(three.captured_queries)  # read now: each request empties the query log
    category = market.offers[0].product.category
    for index in range(6):
        indexed(
            lambda index=index: OfferFactory(product__category=category, pack_price=Decimal("9.00") + index)
        )
    results(buyer)
    with django_assert_max_num_queries(queries_for_three):
        assert len(card_offers(results(buyer))) == 9
