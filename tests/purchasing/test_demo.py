"""The demo purchasing: every demo trust can take deliveries and charge cost centres; the trusts with
demo users hold orders in every state a person leaves one in, so each demo role lands on real work;
seeding again changes nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError
from django.forms.models import model_to_dict

from catalogue import demo as catalogue_demo
from catalogue.strategy import buyer_price
from common import gs1
from organisations import demo as organisations_demo
from organisations.models import Organisation, OrganisationKind, User
from purchasing import demo, selectors
from purchasing.agreements import demo as agreements_demo
from purchasing.models import (
    Basket,
    BasketLine,
    CostCentre,
    DeliverySite,
    NegotiatedPrice,
    OrderEvent,
    OrderLine,
    PurchaseOrder,
)
from purchasing.states import OrderState
from tests.purchasing.factories import acting

pytestmark = pytest.mark.django_db

S = OrderState
# Draft and approved are passing states: checkout submits at once, the last approval sends at once.
RESTING_STATES = set(S) - {S.DRAFT, S.APPROVED}


def snapshot() -> dict:
    return {
        model.__name__: {obj.pk: model_to_dict(obj) for obj in model.objects.all()}
        for model in (
            DeliverySite,
            CostCentre,
            Basket,
            BasketLine,
            PurchaseOrder,
            OrderLine,
            OrderEvent,
            NegotiatedPrice,
        )
    }


def test_without_the_organisations_seed_it_says_what_to_run_and_writes_nothing():
    with pytest.raises(CommandError, match="seed_demo"):
        demo.seed(io.StringIO())
    assert not DeliverySite.objects.exists()


def test_every_demo_role_lands_on_real_work_and_seeding_again_changes_nothing():
    organisations_demo.seed(io.StringIO())
    catalogue_demo.seed(io.StringIO())
    demo.seed(io.StringIO())

    # Every demo trust has delivery sites with valid GLNs and cost centres.
    for trust in Organisation.objects.filter(kind=OrganisationKind.TRUST):
        sites = list(selectors.delivery_sites(trust=trust))
        assert sites, trust.ods_code
        assert all(gs1.is_valid_gln(site.gln) and site.postcode for site in sites)
        assert selectors.cost_centres(trust=trust).count() == len(demo.COST_CENTRES)

    leeds, gstt, york = (Organisation.objects.get(ods_code=ods) for ods in ("RR8", "RJ1", "RCB"))
    for trust in (leeds, gstt, york):
        states = set(PurchaseOrder.objects.filter(trust=trust).values_list("state", flat=True))
        assert states == RESTING_STATES, trust.ods_code

    # The approver has a queue; the supplier an inbox with orders to acknowledge and dispatch.
    approver = User.objects.get(email="approver@leeds.demo.example")
    queue = selectors.approval_queue(acting=acting(leeds), user=approver)
    assert len(queue) >= 2
    pennine = Organisation.objects.get(slug=demo.SUPPLIER_SLUG)
    assert selectors.supplier_inbox(acting=acting(pennine)).count() >= 3
    counts = selectors.order_counts_by_state(acting=acting(pennine))
    assert counts[S.ACKNOWLEDGED] >= 3 and counts[S.PART_DISPATCHED] >= 3
    # One Leeds order went through its approver before it was sent.
    assert OrderEvent.objects.filter(order__trust=leeds, transition="approve", actor=approver).exists()
    assert OrderEvent.objects.filter(order__trust=leeds, transition="reject", actor=approver).exists()

    # The buyer has dispatched orders to receive and a basket of lines from several suppliers.
    buyer = User.objects.get(email="buyer@leeds.demo.example")
    assert PurchaseOrder.objects.filter(trust=leeds, buyer=buyer, state=S.DISPATCHED).count() == 2
    basket = Basket.objects.get(trust=leeds, buyer=buyer)
    view = selectors.basket_for(basket=basket)
    assert len(view.groups) >= 2
    # An invoiced order matches cleanly; received lines reached the purchase history.
    invoiced = PurchaseOrder.objects.get(trust=leeds, state=S.INVOICED)
    assert selectors.order_match(order=invoiced).matched
    # Nobody is emailed about the demo's history.
    assert not OrderEvent.objects.filter(notified_at__isnull=True).exists()

    # Pennine gave Leeds a contract price on a stocking: the Leeds buyer pays it, York does not.
    stocking = agreements_demo.contract_offer(pennine)
    contract = buyer_price(offer=stocking, buyer=leeds)
    assert (contract.source_label, contract.source_reference) == (
        "Your contract price",
        "NHSSC-DEMO-2026-014",
    )
    assert contract.pack_price < stocking.pack_price
    assert buyer_price(offer=stocking, buyer=york).source != "contract"

    first = snapshot()
    demo.seed(io.StringIO())
    assert snapshot() == first
