"""The purchasing pages, as the people who use them: a buyer fills a basket and checks out, an
approver decides, a supplier acknowledges, dispatches and invoices, the buyer receives and sees the
invoice matched. Every page is the acting organisation's only; query counts stay flat."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from organisations.models import Role
from purchasing import services
from purchasing.models import BasketLine, PurchaseOrder
from purchasing.states import OrderState
from tests.catalogue.factories import OfferFactory
from tests.organisations.factories import SupplierFactory, member
from tests.purchasing.factories import BasketLineFactory, acting, order_in

S = OrderState
BASKET = reverse("purchasing:basket")
CHECKOUT = reverse("purchasing:checkout")
ORDERS = reverse("purchasing:orders")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def add(client, offer, packs) -> None:
    response = client.post(reverse("purchasing:basket-add"), {"offer": offer.pk, "quantity": packs})
    assert response.status_code == 302, response.content.decode()


def checkout_data(market, response, **extra) -> dict:
    """What the buyer sends from the checkout page: its request key and, for each supplier's order,
    the trust's delivery site and cost centre."""
    key = re.search(r'name="idempotency_key" value="([^"]+)"', response.content.decode()).group(1)
    data = {"idempotency_key": key, **extra}
    for group, _ in response.context["groups"]:
        data[f"supplier{group.supplier_id}-delivery_site"] = market.site.pk
        data[f"supplier{group.supplier_id}-cost_centre"] = market.centre.pk
    return data


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_a_buyer_fills_a_basket_from_two_suppliers_and_checks_out_once(market):
    buyer = signed_in(market.buyer)
    add(buyer, market.offers[0], 2)
    add(buyer, market.offers[1], 1)

    page = text(buyer.get(BASKET))
    assert "Alpha Medical" in page and "Beta Healthcare" in page
    # 2 x £10 + 1 x £11 = £31 excluding VAT, £6.20 VAT, £37.20 in all.
    assert 'id="basket-total">£37.20' in page

    form = buyer.get(CHECKOUT)
    data = checkout_data(market, form)
    placed = buyer.post(CHECKOUT, data)
    assert placed.status_code == 302 and placed.url == ORDERS
    again = buyer.post(CHECKOUT, data)  # the same page submitted twice
    assert again.status_code == 302

    orders = PurchaseOrder.objects.filter(trust=market.trust).order_by("number")
    assert [(o.supplier.name, o.state) for o in orders] == [
        ("Alpha Medical", S.SENT),
        ("Beta Healthcare", S.SENT),
    ]
    assert not BasketLine.objects.filter(basket__buyer=market.buyer).exists()
    listing = text(buyer.get(ORDERS))
    assert "RR8-PO-000001" in listing and "RR8-PO-000002" in listing
    assert "Ordered: RR8-PO-000001, RR8-PO-000002" in listing


def test_checkout_asks_for_each_missing_field_in_the_error_summary(market):
    buyer = signed_in(market.buyer)
    add(buyer, market.offers[0], 1)
    form = buyer.get(CHECKOUT)
    data = checkout_data(market, form)
    supplier = market.suppliers[0].pk
    data[f"supplier{supplier}-delivery_site"] = ""
    data[f"supplier{supplier}-required_by"] = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    answer = buyer.post(CHECKOUT, data)
    assert answer.status_code == 400
    page = text(answer)
    assert f'href="#id_supplier{supplier}-delivery_site">Alpha Medical: This field is required.' in page
    data[f"supplier{supplier}-delivery_site"] = market.site.pk
    answer = buyer.post(CHECKOUT, data)
    assert f'href="#id_supplier{supplier}-required_by">Alpha Medical: The required-by date is today' in text(
        answer
    )
    assert not PurchaseOrder.objects.exists()


def test_a_price_changed_since_the_basket_is_shown_and_confirmed_before_ordering(market):
    buyer = signed_in(market.buyer)
    add(buyer, market.offers[0], 2)
    data = checkout_data(market, buyer.get(CHECKOUT))
    market.offers[0].pack_price = Decimal("10.40")
    market.offers[0].save()

    answer = buyer.post(CHECKOUT, data)
    assert answer.status_code == 400
    assert "the price per pack is now £10.40, not £10.00" in text(answer)
    assert not PurchaseOrder.objects.exists()

    (change,) = answer.context["changes"]
    placed = buyer.post(CHECKOUT, {**data, "confirmed_changes": change.key})
    assert placed.status_code == 302
    assert PurchaseOrder.objects.get().lines.get().pack_price == Decimal("10.40")


def test_the_basket_shows_a_cheaper_equivalent_and_swaps_in_one_click(market):
    dear = market.offers[2]  # £12.00 a pack from Gamma
    cheaper = OfferFactory(product=dear.product, pack_price=Decimal("9.00"), supplier=market.suppliers[0])
    buyer = signed_in(market.buyer)
    add(buyer, dear, 3)
    page = text(buyer.get(BASKET))
    assert "saving £9.00" in page
    assert 'id="possible-saving">£9.00' in page
    line = BasketLine.objects.get()
    swapped = buyer.post(BASKET, {"line": line.pk, "offer": cheaper.pk, "action": "swap"})
    assert swapped.status_code == 302
    assert list(BasketLine.objects.values_list("offer_id", "quantity")) == [(cheaper.pk, 3)]


def test_changing_a_line_below_the_minimum_names_the_field(market):
    offer = OfferFactory(supplier=market.suppliers[0], min_order_packs=5)
    buyer = signed_in(market.buyer)
    add(buyer, offer, 5)
    line = BasketLine.objects.get()
    answer = buyer.post(BASKET, {"line": line.pk, "action": "change", f"line{line.pk}-quantity": "4"})
    assert answer.status_code == 400
    assert f'href="#id_line{line.pk}-quantity">The minimum order is 5 packs.' in text(answer)
    assert BasketLine.objects.get().quantity == 5
    removed = buyer.post(BASKET, {"line": line.pk, "action": "remove"})
    assert removed.status_code == 302 and not BasketLine.objects.exists()


def test_a_product_page_offers_add_to_basket_to_a_buyer_only(market):
    product = market.offers[0].product
    url = reverse("catalogue:product-detail", kwargs={"slug": product.slug})
    assert "Add to basket" in signed_in(market.buyer).get(url).content.decode()
    assert "Add to basket" not in signed_in(market.staff[0]).get(url).content.decode()


def _approval_needed(market) -> None:
    services.purchasing_settings_update(
        trust=market.trust,
        actor=market.admin,
        acting=acting(market.trust),
        one_approver_above=Decimal("5"),
        two_approvers_above=Decimal("1000"),
        price_tolerance_percent=Decimal("1"),
        price_tolerance_amount=Decimal("0"),
    )


def test_an_approver_sees_the_queue_and_approves_and_a_reason_is_required_to_reject(market):
    _approval_needed(market)
    buyer = signed_in(market.buyer)
    add(buyer, market.offers[0], 1)
    buyer.post(CHECKOUT, checkout_data(market, buyer.get(CHECKOUT)))
    order = PurchaseOrder.objects.get()
    assert order.state == S.AWAITING_APPROVAL

    approver = signed_in(market.approver)
    assert "1 order waits for your approval" in text(approver.get(reverse("purchasing:approvals")))
    assert "Orders to approve (1)" in text(approver.get(reverse("start")))
    decision = reverse("purchasing:approval-decision", kwargs={"order_id": order.pk})
    refused = approver.post(decision, {"action": "reject", "reject-reason": ""})
    assert refused.status_code == 400 and 'href="#id_reject-reason"' in text(refused)
    approved = approver.post(decision, {"action": "approve", "approve-note": "Within budget"})
    assert approved.status_code == 302
    order.refresh_from_db()
    assert order.state == S.SENT
    # The buyer cannot decide on orders at all.
    assert buyer.get(decision).status_code == 404


def test_supplier_acknowledges_dispatches_buyer_receives_supplier_invoices_and_it_matches(market):
    buyer = signed_in(market.buyer)
    add(buyer, market.offers[0], 3)
    buyer.post(CHECKOUT, checkout_data(market, buyer.get(CHECKOUT)))
    order = PurchaseOrder.objects.get()
    line = order.lines.get()
    supplier = signed_in(market.staff[0])
    assert "Orders from trusts (1 new)" in text(supplier.get(reverse("start")))
    inbox = text(supplier.get(reverse("purchasing:supplier-orders")))
    assert order.number in inbox
    page = reverse("purchasing:supplier-order", kwargs={"order_id": order.pk})

    past = supplier.post(page, {"action": "acknowledge", "acknowledge-expected_delivery": "2020-01-01"})
    assert 'href="#id_acknowledge-expected_delivery">The expected delivery date is today' in text(past)
    when = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    assert (
        supplier.post(page, {"action": "acknowledge", "acknowledge-expected_delivery": when}).status_code
        == 302
    )

    too_many = supplier.post(
        page, {"action": "dispatch", "dispatch-tracking_reference": "TRK1", f"dispatch-line_{line.pk}": "4"}
    )
    assert too_many.status_code == 400
    assert "4 packs, more than the 3 left to dispatch" in text(too_many)
    part = supplier.post(
        page, {"action": "dispatch", "dispatch-tracking_reference": "TRK1", f"dispatch-line_{line.pk}": "2"}
    )
    assert part.status_code == 302
    rest = supplier.post(page, {"action": "dispatch_all", "dispatch-tracking_reference": "TRK2"})
    assert rest.status_code == 302
    order.refresh_from_db()
    assert order.state == S.DISPATCHED

    detail = reverse("purchasing:order", kwargs={"order_id": order.pk})
    shown = text(buyer.get(detail))
    assert "Tracking reference TRK1" in shown and "Tracking reference TRK2" in shown
    assert buyer.post(detail, {"action": "receive_all", "receive-note": ""}).status_code == 302

    invoice = reverse("purchasing:supplier-invoice", kwargs={"order_id": order.pk})
    sent = supplier.post(
        invoice, {"invoice_number": "INV-77", f"packs_{line.pk}": "3", f"price_{line.pk}": "10.00"}
    )
    assert sent.status_code == 302
    shown = text(buyer.get(detail))
    assert '<strong id="match-result">Matched</strong>: invoice INV-77' in shown
    assert buyer.post(detail, {"action": "close", "close-note": ""}).status_code == 302
    order.refresh_from_db()
    assert order.state == S.CLOSED


def test_a_buyer_cancels_with_a_reason(market):
    order = order_in(S.SENT, trust=market.trust, buyer=market.buyer, supplier=market.suppliers[0])
    buyer = signed_in(market.second_buyer)
    detail = reverse("purchasing:order", kwargs={"order_id": order.pk})
    missing = buyer.post(detail, {"action": "cancel", "cancel-reason": " "})
    assert missing.status_code == 400 and 'href="#id_cancel-reason"' in text(missing)
    assert buyer.post(detail, {"action": "cancel", "cancel-reason": "Ordered twice"}).status_code == 302
    order.refresh_from_db()
    assert order.state == S.CANCELLED


def test_another_trust_or_supplier_gets_404_for_an_order(market):
    order = order_in(S.SENT, trust=market.trust, supplier=market.suppliers[0])
    other_buyer = signed_in(member(Role.BUYER, market.other_trust))
    other_supplier = signed_in(member(Role.SUPPLIER_STAFF, SupplierFactory()))
    for url in (
        reverse("purchasing:order", kwargs={"order_id": order.pk}),
        reverse("purchasing:approval-decision", kwargs={"order_id": order.pk}),
        reverse("purchasing:supplier-order", kwargs={"order_id": order.pk}),
        reverse("purchasing:supplier-invoice", kwargs={"order_id": order.pk}),
    ):
        for client in (other_buyer, other_supplier):
            assert client.get(url).status_code == 404, url
            assert client.post(url, {"action": "cancel", "cancel-reason": "x"}).status_code == 404, url
    order.refresh_from_db()
    assert order.state == S.SENT
    assert order.number not in other_buyer.get(ORDERS).content.decode()
    # Another supplier does not see it either (nor a supplier an order awaiting approval).
    waiting = order_in(S.AWAITING_APPROVAL, trust=market.trust, supplier=market.suppliers[0])
    own = signed_in(market.staff[0])
    assert own.get(reverse("purchasing:supplier-order", kwargs={"order_id": waiting.pk})).status_code == 404


def _count_queries(django_assert_max_num_queries, client, url, limit):
    with django_assert_max_num_queries(limit):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("lines", [2, 8])
def test_the_basket_page_takes_the_same_queries_whatever_its_lines(
    market, django_assert_max_num_queries, lines
):
    basket = services.basket_get_or_create(actor=market.buyer, acting=acting(market.trust))
    for index in range(lines):
        BasketLineFactory(basket=basket, offer=OfferFactory(supplier=market.suppliers[index % 3]))
    # 12: the trust's contract prices (purchasing/agreements) and its pooled round prices
    # (purchasing.rounds.pooled), each loaded once for every line.
    _count_queries(django_assert_max_num_queries, signed_in(market.buyer), BASKET, 12)


@pytest.mark.parametrize("orders", [1, 12])
def test_the_order_list_takes_the_same_queries_whatever_its_orders(
    market, django_assert_max_num_queries, orders
):
    for index in range(orders):
        order_in(S.SENT, lines=2, trust=market.trust, supplier=market.suppliers[index % 3])
    client = signed_in(market.buyer)
    _count_queries(django_assert_max_num_queries, client, ORDERS, 8)
    supplier = signed_in(market.staff[0])
    _count_queries(django_assert_max_num_queries, supplier, reverse("purchasing:supplier-orders"), 8)


@pytest.mark.parametrize("lines", [1, 10])
def test_the_order_page_takes_the_same_queries_whatever_its_lines(
    market, django_assert_max_num_queries, lines
):
    order = order_in(S.INVOICED, lines=lines, trust=market.trust, supplier=market.suppliers[0])
    url = reverse("purchasing:order", kwargs={"order_id": order.pk})
    _count_queries(django_assert_max_num_queries, signed_in(market.buyer), url, 10)
    supplier_url = reverse("purchasing:supplier-order", kwargs={"order_id": order.pk})
    # The supplier's page reads the order's returns too (one query, whatever the lines).
    _count_queries(django_assert_max_num_queries, signed_in(market.staff[0]), supplier_url, 11)


def test_pages_are_for_the_right_side_only(market):
    supplier = signed_in(member(Role.SUPPLIER_STAFF, SupplierFactory()))
    assert supplier.get(BASKET).status_code == 404
    assert supplier.get(ORDERS).status_code == 404
    assert signed_in(market.buyer).get(reverse("purchasing:supplier-orders")).status_code == 404
    assert signed_in(market.approver).get(BASKET).status_code == 404
    assert Client().get(BASKET).status_code == 302


def test_a_trust_admin_sets_bands_and_adds_and_changes_sites_and_cost_centres(market):
    admin = signed_in(market.admin)
    url = reverse("purchasing:settings")
    assert admin.get(url).status_code == 200
    bands = {
        "action": "settings",
        "settings-one_approver_above": "500",
        "settings-two_approvers_above": "400",
        "settings-price_tolerance_percent": "2",
        "settings-price_tolerance_amount": "1",
    }
    wrong = admin.post(url, bands)
    assert wrong.status_code == 400
    assert 'href="#id_settings-two_approvers_above">The two-approver band starts at or above' in text(wrong)
    assert admin.post(url, {**bands, "settings-two_approvers_above": "20000"}).status_code == 302
    settings = market.trust.purchasing_settings
    assert (settings.one_approver_above, settings.two_approvers_above) == (Decimal("500"), Decimal("20000"))

    site = {
        "action": "site",
        "site-name": "Ward 7",
        "site-address": "Ward 7, LGI",
        "site-postcode": "ls1 3ex",
    }
    bad_gln = admin.post(url, {**site, "site-gln": "5012345000001"})
    assert bad_gln.status_code == 400 and 'href="#id_site-gln">Enter a valid GLN' in text(bad_gln)
    assert admin.post(url, site).status_code == 302
    added = market.trust.delivery_sites.get(name="Ward 7")
    assert added.postcode == "LS1 3EX"
    duplicate = admin.post(url, {"action": "centre", "centre-code": "thr01", "centre-name": "Theatres again"})
    assert 'href="#id_centre-code">The trust has a cost centre with that code already.' in text(duplicate)
    assert (
        admin.post(url, {"action": "centre", "centre-code": "WARD7", "centre-name": "Ward 7"}).status_code
        == 302
    )

    change = reverse("purchasing:settings-site", kwargs={"site_id": added.pk})
    kept = {"name": "Ward 7", "address": "Ward 7, LGI", "postcode": "LS1 3EX", "gln": ""}
    assert admin.post(change, kept).status_code == 302  # is_active unticked: no longer offered
    added.refresh_from_db()
    assert not added.is_active
    centre = reverse("purchasing:settings-centre", kwargs={"centre_id": market.centre.pk})
    assert admin.post(centre, {"name": "Main theatres", "is_active": "on"}).status_code == 302
    market.centre.refresh_from_db()
    assert market.centre.name == "Main theatres"
    # Only the trust's admins.
    assert signed_in(market.buyer).get(url).status_code == 404
    other_admin = signed_in(member(Role.TRUST_ADMIN, market.other_trust))
    assert other_admin.get(change).status_code == 404
    assert other_admin.post(centre, {"name": "Taken"}).status_code == 404
