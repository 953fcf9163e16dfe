"""The purchasing API, as the systems of a trust and of its suppliers use it: fill a basket, check out
once whatever the retries, approve, acknowledge, dispatch, receive, invoice; each side sees only its
own orders, as the organisation the request acts for."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from catalogue.models import Offer
from organisations.models import Membership, Role
from purchasing.models import CheckoutRequest, PurchaseOrder
from purchasing.states import OrderState
from tests.organisations.factories import member
from tests.purchasing.factories import order_in

S = OrderState


def api_as(user, acting: str | None = None) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    if acting:
        client.credentials(HTTP_X_ACTING_ORGANISATION=acting)
    return client


def basket_with(market, client, *quantities) -> dict:
    """The buyer's basket, started through the API, with `quantities[i]` packs of supplier i's offer."""
    basket = client.post("/api/v1/baskets/").json()
    for offer, quantity in zip(market.offers, quantities, strict=False):
        if quantity:
            answer = client.post(
                f"/api/v1/baskets/{basket['id']}/lines/",
                {"offer": offer.pk, "quantity": quantity},
                format="json",
            )
            assert answer.status_code == 201, answer.json()
    return client.get(f"/api/v1/baskets/{basket['id']}/").json()


def delivery(market, basket: dict, **extra) -> dict:
    return {
        "orders": [
            {
                "supplier": group["supplier"]["id"],
                "delivery_site": market.site.pk,
                "cost_centre": market.centre.pk,
                **extra,
            }
            for group in basket["groups"]
        ]
    }


def checkout(client, basket: dict, body: dict, key: str | None = "erp-run-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(f"/api/v1/baskets/{basket['id']}/checkout/", body, format="json", **headers)


def test_a_buyer_fills_a_basket_by_supplier_priced_with_vat(market):
    buyer = api_as(market.buyer)
    started = buyer.post("/api/v1/baskets/")
    assert started.status_code == 201
    again = buyer.post("/api/v1/baskets/")
    assert again.status_code == 200 and again.json()["id"] == started.json()["id"]

    basket = basket_with(market, buyer, 3, 1)
    assert [g["supplier"]["name"] for g in basket["groups"]] == ["Alpha Medical", "Beta Healthcare"]
    alpha_line = basket["groups"][0]["lines"][0]
    assert (alpha_line["quantity"], alpha_line["pack_price"], alpha_line["total_vat"]) == (3, "10.00", "6.00")
    assert (basket["total_excl_vat"], basket["total_vat"], basket["total_incl_vat"]) == (
        "41.00",
        "8.20",
        "49.20",
    )
    assert buyer.get("/api/v1/baskets/").json()[0]["id"] == basket["id"]

    changed = buyer.patch(
        f"/api/v1/baskets/{basket['id']}/lines/{alpha_line['id']}/", {"quantity": 5}, format="json"
    )
    assert changed.json()["groups"][0]["lines"][0]["total_excl_vat"] == "50.00"
    beta_line = basket["groups"][1]["lines"][0]
    assert buyer.delete(f"/api/v1/baskets/{basket['id']}/lines/{beta_line['id']}/").status_code == 204
    assert [
        g["supplier"]["name"] for g in buyer.get(f"/api/v1/baskets/{basket['id']}/").json()["groups"]
    ] == ["Alpha Medical"]


def test_a_line_is_swapped_for_the_same_product_from_a_cheaper_supplier(market):
    cheaper = Offer.objects.create(
        product=market.offers[2].product,
        supplier=market.suppliers[0],
        supplier_sku="ALPHA-CHEAP",
        units_per_pack=market.offers[2].units_per_pack,
        pack_price=Decimal("9.00"),
        vat_rate=market.offers[2].vat_rate,
        status=market.offers[2].status,
    )
    buyer = api_as(market.buyer)
    basket = basket_with(market, buyer, 0, 0, 4)
    line = basket["groups"][0]["lines"][0]
    assert line["cheaper"]["offer"]["id"] == cheaper.pk
    assert line["cheaper"]["saving"] == "12.00"
    assert basket["possible_saving"] == "12.00"

    swapped = buyer.post(
        f"/api/v1/baskets/{basket['id']}/lines/{line['id']}/swap/", {"offer": cheaper.pk}, format="json"
    ).json()
    (group,) = swapped["groups"]
    assert (group["supplier"]["name"], group["lines"][0]["offer"]["id"], group["lines"][0]["quantity"]) == (
        "Alpha Medical",
        cheaper.pk,
        4,
    )


def test_bad_basket_input_is_refused_naming_the_field(market):
    buyer = api_as(market.buyer)
    basket = buyer.post("/api/v1/baskets/").json()
    lines = f"/api/v1/baskets/{basket['id']}/lines/"
    assert buyer.post(lines, {"offer": market.offers[0].pk, "quantity": 0}, format="json").json()[
        "field"
    ] == ("quantity")
    market.offers[1].min_order_packs = 10
    market.offers[1].save()
    below = buyer.post(lines, {"offer": market.offers[1].pk, "quantity": 2}, format="json")
    assert (below.status_code, below.json()["field"], below.json()["code"]) == (
        400,
        "quantity",
        "below_minimum",
    )
    market.offers[2].valid_to = timezone.localdate() - dt.timedelta(days=1)
    market.offers[2].save()
    expired = buyer.post(lines, {"offer": market.offers[2].pk, "quantity": 2}, format="json")
    assert (expired.status_code, expired.json()["field"], expired.json()["code"]) == (
        400,
        "offer",
        "not_buyable",
    )


def test_checkout_needs_an_idempotency_key_and_a_replay_creates_nothing_twice(market):
    buyer = api_as(market.buyer)
    # 200 packs at £10 is over the trust's £1,000 band: one approval; Beta's order goes straight out.
    basket = basket_with(market, buyer, 200, 1)
    body = delivery(market, basket, note="Theatres restock")

    missing = checkout(buyer, basket, body, key=None)
    assert (missing.status_code, missing.json()["field"]) == (400, "Idempotency-Key")
    assert not PurchaseOrder.objects.exists()

    first = checkout(buyer, basket, body)
    assert first.status_code == 201, first.json()
    orders = first.json()["orders"]
    assert [(o["number"], o["supplier"]["name"], o["state"]) for o in orders] == [
        ("RR8-PO-000001", "Alpha Medical", "awaiting_approval"),
        ("RR8-PO-000002", "Beta Healthcare", "sent"),
    ]
    assert orders[0]["total_incl_vat"] == "2400.00"

    replay = checkout(buyer, basket, body)
    assert replay.status_code == 200
    assert replay.json() == first.json()
    assert PurchaseOrder.objects.count() == 2 and CheckoutRequest.objects.count() == 1
    assert buyer.get(f"/api/v1/baskets/{basket['id']}/").json()["groups"] == []

    another_key = checkout(buyer, basket, body, key="erp-run-2")
    assert (another_key.status_code, another_key.json()["code"]) == (400, "empty_basket")


def test_a_price_change_since_the_basket_is_confirmed_before_anything_is_ordered(market):
    buyer = api_as(market.buyer)
    basket = basket_with(market, buyer, 2)
    Offer.objects.filter(pk=market.offers[0].pk).update(pack_price=Decimal("10.50"))

    refused = checkout(buyer, basket, delivery(market, basket))
    assert refused.status_code == 409
    (change,) = refused.json()["changes"]
    assert (change["kind"], change["old_pack_price"], change["new_pack_price"]) == ("price", "10.00", "10.50")
    assert not PurchaseOrder.objects.exists()

    confirmed = checkout(buyer, basket, {**delivery(market, basket), "confirmed_changes": [change["key"]]})
    assert confirmed.status_code == 201
    assert confirmed.json()["orders"][0]["total_excl_vat"] == "21.00"


def test_checkout_refuses_another_trusts_delivery_site_naming_it(market):
    from tests.purchasing.factories import DeliverySiteFactory

    buyer = api_as(market.buyer)
    basket = basket_with(market, buyer, 2)
    body = delivery(market, basket)
    body["orders"][0]["delivery_site"] = DeliverySiteFactory(trust=market.other_trust).pk
    refused = checkout(buyer, basket, body)
    assert (refused.status_code, refused.json()["field"]) == (400, "delivery_site")
    assert not PurchaseOrder.objects.exists()


def test_an_order_goes_from_approval_to_a_clean_invoice_match(market):
    buyer = api_as(market.buyer)
    basket = basket_with(market, buyer, 200)
    (order,) = checkout(buyer, basket, delivery(market, basket)).json()["orders"]
    url = f"/api/v1/orders/{order['id']}"
    alpha, beta = api_as(market.staff[0]), api_as(market.staff[1])

    # The supplier does not see an order still waiting for approval; nor may the buyer approve it.
    assert alpha.get(f"{url}/").status_code == 404
    assert buyer.post(f"{url}/approve/", {}, format="json").status_code == 403

    approved = api_as(market.approver).post(f"{url}/approve/", {"note": "Budgeted"}, format="json")
    assert approved.status_code == 200
    assert approved.json()["state"] == "sent"
    assert [e["transition"] for e in approved.json()["events"]] == ["submit", "approve", "send"]
    twice = api_as(market.second_approver).post(f"{url}/approve/", {}, format="json")
    assert (twice.status_code, twice.json()["code"]) == (409, "transition_not_allowed")

    # Another supplier's order is not there for Beta, whatever it posts.
    assert beta.get(f"{url}/").status_code == 404
    assert (
        beta.post(f"{url}/acknowledge/", {"expected_delivery": "2099-01-01"}, format="json").status_code
        == 404
    )

    soon = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    acknowledged = alpha.post(f"{url}/acknowledge/", {"expected_delivery": soon}, format="json").json()
    assert (acknowledged["state"], acknowledged["expected_delivery"]) == ("acknowledged", soon)
    (line,) = acknowledged["lines"]

    too_many = alpha.post(
        f"{url}/dispatch/",
        {"tracking_reference": "TRK1", "lines": [{"line": line["id"], "packs": 201}]},
        format="json",
    )
    assert (too_many.status_code, too_many.json()["field"], too_many.json()["code"]) == (
        400,
        "lines",
        "too_many",
    )
    part = alpha.post(
        f"{url}/dispatch/",
        {"tracking_reference": "TRK1", "lines": [{"line": line["id"], "packs": 150}]},
        format="json",
    ).json()
    assert part["state"] == "part_dispatched"
    assert alpha.post(f"{url}/dispatch/", {"tracking_reference": "TRK2"}, format="json").json()["state"] == (
        "dispatched"
    )
    assert alpha.post(f"{url}/receive/", {}, format="json").status_code == 403  # the buyer's step

    received = buyer.post(f"{url}/receive/", {}, format="json").json()
    assert (received["state"], received["lines"][0]["packs_received"]) == ("received", 200)
    invoiced = alpha.post(
        f"{url}/invoice/",
        {"invoice_number": "INV-77", "lines": [{"line": line["id"], "packs": 200, "pack_price": "10.00"}]},
        format="json",
    ).json()
    assert invoiced["state"] == "invoiced"
    assert invoiced["match"] == {"matched": True, "discrepancies": []}
    assert buyer.post(f"{url}/close/", {}, format="json").json()["state"] == "closed"


def test_a_rejection_and_a_cancellation_say_why(market):
    rejected_order = order_in(S.AWAITING_APPROVAL, trust=market.trust, buyer=market.buyer)
    approver = api_as(market.approver)
    no_reason = approver.post(f"/api/v1/orders/{rejected_order.pk}/reject/", {}, format="json")
    assert (no_reason.status_code, no_reason.json()["field"]) == (400, "reason")
    rejected = approver.post(
        f"/api/v1/orders/{rejected_order.pk}/reject/", {"reason": "Over budget"}, format="json"
    )
    assert (rejected.json()["state"], rejected.json()["events"][-1]["note"]) == ("rejected", "Over budget")

    sent = order_in(S.SENT, trust=market.trust, supplier=market.suppliers[0], buyer=market.buyer)
    declined = api_as(market.staff[0]).post(
        f"/api/v1/orders/{sent.pk}/reject/", {"reason": "Discontinued"}, format="json"
    )
    assert (declined.json()["state"], declined.json()["events"][-1]["transition"]) == (
        "rejected",
        "supplier_reject",
    )

    mine = order_in(S.ACKNOWLEDGED, trust=market.trust, buyer=market.buyer)
    cancelled = api_as(market.buyer).post(
        f"/api/v1/orders/{mine.pk}/cancel/", {"reason": "Not needed"}, format="json"
    )
    assert cancelled.json()["state"] == "cancelled"


def test_the_order_list_is_scoped_to_the_acting_organisation_and_filtered(market):
    own = order_in(S.SENT, trust=market.trust, supplier=market.suppliers[0])
    waiting = order_in(S.AWAITING_APPROVAL, trust=market.trust, supplier=market.suppliers[1])
    elsewhere = order_in(S.SENT, trust=market.other_trust, supplier=market.suppliers[0])
    # A buyer at both trusts: the header says which trust's orders the request is about.
    Membership.objects.create(user=market.buyer, organisation=market.other_trust, role=Role.BUYER)

    def numbers(client, query=""):
        answer = client.get(f"/api/v1/orders/{query}")
        assert answer.status_code == 200, answer.json()
        return {o["number"] for o in answer.json()["results"]}

    assert numbers(api_as(market.buyer, "RR8")) == {own.number, waiting.number}
    assert numbers(api_as(market.buyer, "rx1")) == {elsewhere.number}
    assert api_as(market.buyer, "RX1").get(f"/api/v1/orders/{own.pk}/").status_code == 404
    assert numbers(api_as(market.buyer, "RR8"), "?state=awaiting_approval") == {waiting.number}
    assert numbers(api_as(market.buyer, "RR8"), f"?supplier={market.suppliers[0].pk}") == {own.number}
    today = timezone.localdate()
    assert numbers(api_as(market.buyer, "RR8"), f"?created_from={today}&created_to={today}") == {
        own.number,
        waiting.number,
    }
    assert numbers(api_as(market.buyer, "RR8"), f"?created_to={today - dt.timedelta(days=1)}") == set()
    # The supplier sees what was sent to it, from both trusts, never what awaits approval.
    assert numbers(api_as(market.staff[0])) == {own.number, elsewhere.number}
    assert numbers(api_as(market.staff[1])) == set()

    bad = api_as(market.buyer, "RR8").get("/api/v1/orders/?state=lost")
    assert (bad.status_code, bad.json()["field"]) == (400, "state")
    refused = api_as(market.buyer, "NOPE").get("/api/v1/orders/")
    assert (refused.status_code, refused.json()["field"]) == (403, "X-Acting-Organisation")


def test_the_basket_follows_the_acting_trust_and_a_write_does_not_guess_it(market):
    Membership.objects.create(user=market.buyer, organisation=market.other_trust, role=Role.BUYER)
    leeds = api_as(market.buyer, "RR8")
    basket = leeds.post("/api/v1/baskets/").json()
    assert basket["trust"]["name"] == "Leeds Teaching Hospitals NHS Trust"

    nottingham = api_as(market.buyer, "RX1")
    assert nottingham.get("/api/v1/baskets/").json() == []
    assert nottingham.get(f"/api/v1/baskets/{basket['id']}/").status_code == 404
    add = {"offer": market.offers[0].pk, "quantity": 1}
    assert nottingham.post(f"/api/v1/baskets/{basket['id']}/lines/", add, format="json").status_code == 404

    unchosen = api_as(market.buyer).post("/api/v1/baskets/")
    assert (unchosen.status_code, unchosen.json()["code"]) == (400, "acting_organisation_required")
    # Another buyer of the same trust does not reach it either.
    assert api_as(market.second_buyer).get(f"/api/v1/baskets/{basket['id']}/").status_code == 404


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_order_list_and_an_order_take_the_same_queries_whatever_their_size(
    market, django_assert_max_num_queries
):
    buyer = api_as(market.buyer)
    order_in(S.SENT, trust=market.trust, lines=1)
    few = _queries(buyer, "/api/v1/orders/")
    for _ in range(15):
        order_in(S.SENT, trust=market.trust, lines=3)
    with django_assert_max_num_queries(few):
        assert len(buyer.get("/api/v1/orders/").json()["results"]) == 16

    small = order_in(S.INVOICED, trust=market.trust, lines=1)
    large = order_in(S.INVOICED, trust=market.trust, lines=25)
    one_line = _queries(buyer, f"/api/v1/orders/{small.pk}/")
    with django_assert_max_num_queries(one_line):
        assert len(buyer.get(f"/api/v1/orders/{large.pk}/").json()["lines"]) == 25


def test_a_basket_takes_the_same_queries_whatever_its_lines(market, django_assert_max_num_queries):
    buyer = api_as(market.buyer)
    basket = basket_with(market, buyer, 1)
    one = _queries(buyer, f"/api/v1/baskets/{basket['id']}/")
    basket_with(market, buyer, 1, 2, 3)
    with django_assert_max_num_queries(one):
        assert len(buyer.get(f"/api/v1/baskets/{basket['id']}/").json()["groups"]) == 3


@pytest.mark.parametrize(
    "step", ["approve", "acknowledge", "dispatch", "receive", "invoice", "cancel", "close"]
)
def test_a_step_on_another_trusts_order_is_not_found(market, step):
    theirs = order_in(S.SENT, trust=market.other_trust, supplier=market.suppliers[0])
    outsider = member(Role.APPROVER, market.trust)
    for client in (api_as(market.buyer), api_as(outsider), api_as(market.staff[1])):
        answer = client.post(f"/api/v1/orders/{theirs.pk}/{step}/", {}, format="json")
        assert answer.status_code == 404, (step, answer.json())
    assert PurchaseOrder.objects.get(pk=theirs.pk).state == S.SENT
