"""A trust admin proposes a round too: from the product's page, on one or more suppliers' offers of
it, through the same form and service as a supplier; the marketplace team approves it, and the trust
follows (and may cancel) the rounds it proposed. Buyers and approvers do not propose."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from purchasing.models import Round, RoundStatus
from tests.catalogue.factories import OfferFactory
from tests.organisations.factories import SupplierFactory

PROPOSE = reverse("purchasing:round-propose-trust")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def proposal(offers, **overrides) -> dict:
    now = timezone.localtime()
    data = {
        "title": "Thigh-length stockings across Yorkshire",
        "description": "Our winter need, pooled.",
        "opens_at": (now + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (now + dt.timedelta(days=15)).strftime("%Y-%m-%dT%H:%M"),
        "delivery_from": (timezone.localdate() + dt.timedelta(days=20)).isoformat(),
        "delivery_to": (timezone.localdate() + dt.timedelta(days=60)).isoformat(),
        "minimum_packs": "200",
        "tier_1_packs": "200",
        "tier_1_price": "9.20",
        "tier_2_packs": "600",
        "tier_2_price": "8.40",
        "audience": "all",
        "offers": [str(o.pk) for o in offers],
    }
    data.update(overrides)
    return data


def test_a_trust_admin_proposes_a_round_on_two_suppliers_offers_from_the_product_page(pool):
    leeds = pool.leeds
    second = OfferFactory(
        supplier=SupplierFactory(name="Beta Healthcare"),
        product=pool.offer.product,
        pack_price=Decimal("10.40"),
        units_per_pack=pool.offer.units_per_pack,
    )
    admin = signed_in(leeds.admin)
    product_page = admin.get(reverse("catalogue:product-detail", kwargs={"slug": pool.offer.product.slug}))
    start = f"{PROPOSE}?product={pool.offer.product_id}"
    assert start in product_page.content.decode()

    form = admin.get(start)
    assert form.status_code == 200
    assert "Beta Healthcare" in form.content.decode() and "Alpha Medical" in form.content.decode()
    made = admin.post(start, proposal([pool.offer, second]))

    found = Round.objects.get(title="Thigh-length stockings across Yorkshire")
    assert made.status_code == 302 and made["Location"] == reverse("purchasing:round", args=[found.pk])
    assert found.status == RoundStatus.PROPOSED
    assert found.proposed_by_organisation == leeds.organisation and found.proposed_by == leeds.admin
    assert set(found.round_offers.values_list("offer_id", flat=True)) == {pool.offer.pk, second.pk}
    assert found.list_pack_price == Decimal("10.00")
    # The trust's list of its proposals, and the round's page, which says it waits for approval.
    listed = admin.get(PROPOSE).content.decode()
    assert found.reference in listed
    page = admin.get(reverse("purchasing:round", args=[found.pk])).content.decode()
    assert "has still to approve it" in page
    assert reverse("purchasing:round-cancel", args=[found.pk]) in page


def test_the_trust_form_answers_the_services_rules_on_the_field(pool):
    admin = signed_in(pool.leeds.admin)
    start = f"{PROPOSE}?product={pool.offer.product_id}"
    falling = admin.post(start, proposal([pool.offer], tier_2_price="9.50"))
    assert falling.status_code == 400 and "tiers fall in price" in falling.content.decode()
    none_chosen = admin.post(start, proposal([]))
    assert none_chosen.status_code == 400
    assert not Round.objects.exists()


def test_buyers_do_not_propose_and_a_product_with_nothing_on_sale_is_not_found(pool):
    buyer = signed_in(pool.leeds.buyer)
    assert buyer.get(PROPOSE).status_code == 404
    product_page = buyer.get(reverse("catalogue:product-detail", kwargs={"slug": pool.offer.product.slug}))
    assert PROPOSE not in product_page.content.decode()
    admin = signed_in(pool.leeds.admin)
    assert admin.get(f"{PROPOSE}?product=999999").status_code == 404
    assert admin.get(f"{PROPOSE}?product=abc").status_code == 404
    supplier = signed_in(pool.supplier_staff)
    assert supplier.get(PROPOSE).status_code == 404


def test_a_trust_admin_proposes_through_the_api_and_a_buyer_is_refused(pool):
    now = timezone.now()
    body = {
        "product": pool.offer.product_id,
        "offers": [pool.offer.pk],
        "title": "Pooled stockings",
        "opens_at": now.isoformat(),
        "closes_at": (now + dt.timedelta(days=10)).isoformat(),
        "delivery_from": (timezone.localdate() + dt.timedelta(days=11)).isoformat(),
        "delivery_to": (timezone.localdate() + dt.timedelta(days=60)).isoformat(),
        "minimum_packs": 100,
        "tiers": [{"min_packs": 100, "pack_price": "9.00"}],
        "audience": "all",
    }
    admin, buyer = APIClient(), APIClient()
    admin.force_authenticate(pool.leeds.admin)
    buyer.force_authenticate(pool.leeds.buyer)

    assert buyer.post("/api/v1/rounds/", body, format="json").status_code == 403
    made = admin.post("/api/v1/rounds/", body, format="json")
    assert made.status_code == 201
    assert made.json()["proposed_by"]["id"] == pool.leeds.organisation.pk
    assert made.json()["status"] == "proposed"
