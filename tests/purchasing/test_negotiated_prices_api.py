"""Negotiated prices on the API: Alpha Medical's system sets Leeds a contract price, Leeds's system
lists it, and nobody else sees it: another trust gets an empty list, another supplier a 404."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from organisations.models import Role
from purchasing.models import NegotiatedPrice
from tests.organisations.factories import member
from tests.purchasing.factories import negotiated_price
from tests.purchasing.test_api import api_as, basket_with, delivery

TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def _the_clock_stays_on_today(time_machine):
    """TODAY is read when the module is imported: the clock stays on that day (at noon, ticking), so a
    suite running across midnight does not find today's prices already ended."""
    time_machine.move_to(timezone.make_aware(dt.datetime.combine(TODAY, dt.time(12))), tick=True)


URL = "/api/v1/negotiated-prices/"


def _body(market, **changes) -> dict:
    return {
        "offer": market.offers[0].pk,
        "trusts": [market.trust.pk],
        "pack_price": "8.40",
        "valid_from": TODAY.isoformat(),
        "valid_to": (TODAY + dt.timedelta(days=90)).isoformat(),
        "reference": "NHSSC-DEMO-2026-014",
        **changes,
    }


def test_a_supplier_sets_a_price_and_only_the_trust_named_sees_it(market):
    alpha = api_as(market.staff[0])
    created = alpha.post(URL, _body(market), format="json")
    assert created.status_code == 201, created.json()
    price = created.json()
    assert (price["pack_price"], price["offer"]["list_pack_price"], price["withdrawn_at"]) == (
        "8.40",
        "10.00",
        None,
    )
    assert [t["ods_code"] for t in price["trusts"]] == ["RR8"]
    assert [p["id"] for p in alpha.get(URL).json()["results"]] == [price["id"]]

    leeds = api_as(market.buyer)
    assert [p["reference"] for p in leeds.get(URL).json()["results"]] == ["NHSSC-DEMO-2026-014"]
    assert leeds.get(f"{URL}{price['id']}/").status_code == 200

    nottingham = api_as(member(Role.BUYER, market.other_trust))
    assert nottingham.get(URL).json()["results"] == []
    assert nottingham.get(f"{URL}{price['id']}/").status_code == 404

    beta = api_as(market.staff[1])
    assert beta.get(f"{URL}{price['id']}/").status_code == 404
    assert beta.post(f"{URL}{price['id']}/withdraw/").status_code == 404
    assert NegotiatedPrice.objects.get().withdrawn_at is None


def test_errors_name_their_fields_and_change_nothing(market):
    alpha = api_as(market.staff[0])
    cases = [
        ({"pack_price": "0.00"}, 400, "pack_price"),
        ({"pack_price": 8.4}, 400, "pack_price"),
        ({"valid_to": (TODAY - dt.timedelta(days=1)).isoformat()}, 400, "valid_to"),
        ({"trusts": []}, 400, "trusts"),
        ({"trusts": [market.suppliers[1].pk]}, 400, "trusts"),
        ({"offer": market.offers[1].pk}, 404, "offer"),  # Beta's offer
    ]
    for changes, code, field in cases:
        answer = alpha.post(URL, _body(market, **changes), format="json")
        assert (answer.status_code, answer.json()["field"]) == (code, field), (changes, answer.json())
    assert not NegotiatedPrice.objects.exists()

    assert alpha.post(URL, _body(market), format="json").status_code == 201
    overlap = alpha.post(URL, _body(market, reference="AGAIN"), format="json")
    assert (overlap.status_code, overlap.json()["field"], overlap.json()["code"]) == (
        409,
        "valid_from",
        "overlap",
    )
    assert NegotiatedPrice.objects.count() == 1


def test_a_trust_cannot_set_one_and_a_supplier_withdraws_its_own(market):
    leeds = api_as(market.buyer)
    assert leeds.post(URL, _body(market), format="json").status_code == 403
    alpha = api_as(market.staff[0])
    price = alpha.post(URL, _body(market), format="json").json()
    withdrawn = alpha.post(f"{URL}{price['id']}/withdraw/")
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_at"] is not None
    again = alpha.post(f"{URL}{price['id']}/withdraw/")
    assert (again.status_code, again.json()["field"]) == (409, "negotiated_price")


def test_the_list_takes_the_same_queries_whatever_its_length(market, django_assert_max_num_queries):
    alpha = api_as(market.staff[0])
    negotiated_price(
        offer=market.offers[0], trusts=[market.trust], valid_from=TODAY, valid_to=TODAY, reference="ONE"
    )
    with django_assert_max_num_queries(20) as few:
        alpha.get(URL)
    for day in range(1, 6):
        start = TODAY + dt.timedelta(days=100 * day)
        negotiated_price(
            offer=market.offers[0],
            trusts=[market.trust, market.other_trust],
            valid_from=start,
            valid_to=start + dt.timedelta(days=10),
            reference=f"MORE-{day}",
        )
    with django_assert_max_num_queries(len(few)):
        assert len(alpha.get(URL).json()["results"]) == 6


def test_the_buyers_api_answers_say_the_price_is_the_contract_price(market):
    """Leeds's system sees the label and reference on the product's offers, the basket line and,
    after checkout, the order line."""
    offer = market.offers[0]
    negotiated_price(
        offer=offer, trusts=[market.trust], pack_price=Decimal("8.40"), reference="NHSSC-DEMO-2026-014"
    )
    leeds = api_as(market.buyer)
    product = leeds.get(f"/api/v1/products/{offer.product_id}/").json()
    (offered,) = [o for o in product["offers"] if o["id"] == offer.pk]
    assert (offered["price"]["source"], offered["price"]["source_label"], offered["price"]["pack_price"]) == (
        "contract",
        "Your contract price",
        "8.40",
    )
    basket = basket_with(market, leeds, 2)
    line = basket["groups"][0]["lines"][0]
    assert (line["price_source"], line["price_label"], line["price_reference"]) == (
        "contract",
        "Your contract price",
        "NHSSC-DEMO-2026-014",
    )
    placed = leeds.post(
        f"/api/v1/baskets/{basket['id']}/checkout/",
        delivery(market, basket),
        format="json",
        HTTP_IDEMPOTENCY_KEY="c-1",
    )
    assert placed.status_code == 201, placed.json()
    order = leeds.get(f"/api/v1/orders/{placed.json()['orders'][0]['id']}/").json()
    assert (order["lines"][0]["price_source"], order["lines"][0]["price_reference"]) == (
        "contract",
        "NHSSC-DEMO-2026-014",
    )
    # Nottingham's system sees the list price, with no label.
    other = api_as(member(Role.BUYER, market.other_trust)).get(f"/api/v1/products/{offer.product_id}/").json()
    (offered,) = [o for o in other["offers"] if o["id"] == offer.pk]
    assert (offered["price"]["source"], offered["price"]["source_label"]) == ("list", "")
