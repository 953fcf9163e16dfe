"""Factories and story helpers for purchasing tests (catalogue and organisations factories reused)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import factory
from django.utils import timezone

from organisations.acting import Acting
from organisations.models import Organisation, Role
from purchasing.agreements.services import negotiated_price_set
from purchasing.models import (
    Basket,
    BasketLine,
    CheckoutRequest,
    CostCentre,
    DeliverySite,
    OrderLine,
    PurchaseOrder,
)
from purchasing.states import OrderState
from tests.catalogue.factories import OfferFactory
from tests.organisations.factories import SupplierFactory, TrustFactory, UserFactory, member


def acting(organisation: Organisation) -> Acting:
    """What `organisations.acting.acting_for` answers for a request explicitly acting for it."""
    return Acting(organisation=organisation, explicit=True, kind=organisation.kind)


class DeliverySiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeliverySite

    trust = factory.SubFactory(TrustFactory)
    name = factory.Sequence(lambda n: f"Main stores {n}")
    address = "Goods-in, Level 0\nSt Example's Hospital\nExampletown"
    postcode = "EX1 2AB"
    gln = "5012345000008"


class CostCentreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CostCentre

    trust = factory.SubFactory(TrustFactory)
    code = factory.Sequence(lambda n: f"CC{n:04d}")
    name = "Theatres"


class BasketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Basket

    trust = factory.SubFactory(TrustFactory)
    buyer = factory.SubFactory(UserFactory)


class BasketLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BasketLine

    basket = factory.SubFactory(BasketFactory)
    offer = factory.SubFactory(OfferFactory)
    quantity = 2
    seen_pack_price = factory.LazyAttribute(lambda o: o.offer.pack_price)


class CheckoutRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CheckoutRequest

    trust = factory.SubFactory(TrustFactory)
    key = factory.Sequence(lambda n: f"key-{n}")
    buyer = factory.SubFactory(UserFactory)


_numbers = itertools.count(1)


class PurchaseOrderFactory(factory.django.DjangoModelFactory):
    """An order as a test needs it, its state set directly: tests are not the app (which changes a
    state only through purchasing.services)."""

    class Meta:
        model = PurchaseOrder

    number = factory.LazyFunction(lambda: f"TEST-PO-{next(_numbers):06d}")
    trust = factory.SubFactory(TrustFactory)
    supplier = factory.SubFactory(SupplierFactory)
    buyer = factory.SubFactory(UserFactory)
    checkout = factory.SubFactory(
        CheckoutRequestFactory, trust=factory.SelfAttribute("..trust"), buyer=factory.SelfAttribute("..buyer")
    )
    delivery_site = factory.SubFactory(DeliverySiteFactory, trust=factory.SelfAttribute("..trust"))
    delivery_name = factory.LazyAttribute(lambda o: o.delivery_site.name)
    delivery_address = factory.LazyAttribute(lambda o: o.delivery_site.address)
    delivery_postcode = factory.LazyAttribute(lambda o: o.delivery_site.postcode)
    cost_centre = factory.SubFactory(CostCentreFactory, trust=factory.SelfAttribute("..trust"))
    total_excl_vat = Decimal("25.00")
    total_vat = Decimal("5.00")
    total_incl_vat = Decimal("30.00")


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(PurchaseOrderFactory)
    line_number = factory.Sequence(lambda n: n + 1)
    offer = factory.SubFactory(OfferFactory, supplier=factory.SelfAttribute("..order.supplier"))
    product = factory.LazyAttribute(lambda o: o.offer.product)
    description = factory.LazyAttribute(lambda o: o.offer.product.name)
    supplier_sku = factory.LazyAttribute(lambda o: o.offer.supplier_sku)
    packs = 2
    units_per_pack = 1
    pack_price = Decimal("12.50")
    vat_rate = Decimal("20")
    line_excl_vat = Decimal("25.00")
    line_vat = Decimal("5.00")
    line_total = Decimal("30.00")


S = OrderState


def order_in(state: str, *, lines: int = 1, **kwargs) -> PurchaseOrder:
    """An order in `state` with `lines` lines of 3 packs whose dispatched and received packs fit it
    (part states leave some to dispatch and to receive)."""
    approvals = 1 if state == S.AWAITING_APPROVAL else 0
    if state in {S.INVOICED, S.CLOSED}:
        kwargs.setdefault("invoice_number", "INV-1")
    order = PurchaseOrderFactory(state=state, approvals_required=approvals, **kwargs)
    dispatched = {
        S.PART_DISPATCHED: 1,
        S.DISPATCHED: 3,
        S.PART_RECEIVED: 2,
        S.RECEIVED: 3,
        S.INVOICED: 3,
        S.CLOSED: 3,
    }.get(state, 0)
    received = {S.PART_RECEIVED: 1, S.RECEIVED: 3, S.INVOICED: 3, S.CLOSED: 3}.get(state, 0)
    for number in range(1, lines + 1):
        OrderLineFactory(
            order=order,
            line_number=number,
            packs=3,
            packs_dispatched=dispatched,
            packs_received=received,
            line_excl_vat=Decimal("37.50"),
            line_vat=Decimal("7.50"),
            line_total=Decimal("45.00"),
        )
    return order


def negotiated_price(
    *,
    offer,
    trusts,
    pack_price: Decimal = Decimal("9.00"),
    valid_from=None,
    valid_to=None,
    reference: str = "NHSSC-TEST-2026-001",
    staff=None,
):
    """A negotiated price set through the service, as the offer's supplier staff would."""
    today = timezone.localdate()
    return negotiated_price_set(
        actor=staff or member(Role.SUPPLIER_STAFF, offer.supplier),
        acting=acting(offer.supplier),
        offer=offer,
        trusts=trusts,
        pack_price=pack_price,
        valid_from=valid_from or today - dt.timedelta(days=30),
        valid_to=valid_to or today + dt.timedelta(days=335),
        reference=reference,
    )
