"""Demo purchasing for `seed_demo`: every demo trust's delivery sites and cost centres, and for the
trusts with demo users (Leeds RR8, Guy's and St Thomas' RJ1, York and Scarborough RCB) purchase orders
in every state a person can leave one in, so each demo role lands on real work:

- the Leeds approver finds orders awaiting approval;
- the Pennine supplier people find sent orders to acknowledge and acknowledged ones to dispatch;
- each buyer finds dispatched orders to receive, received ones the supplier will invoice, invoiced
  ones to close, and a basket of a few lines from several suppliers (one with a cheaper equivalent);
- the Leeds buyer finds an open purchasing round to join and a closed one with its order
  (`purchasing/rounds/demo.py`, told last).

Orders are made the way people make them: basket, checkout and the transition services, acting as
the demo users of organisations/demo.py, from the catalogue demo's offers (so `seed_demo` runs this
after both). Like every app's demo it writes only its own app's rows (the `model_writes` contract
in pyproject.toml); purchase history comes from receipts through pricing's service.

Idempotent: each order story has its own checkout key (`demo-<ODS>-<story>`); a story whose key
exists is not told again, and the basket lines are added only when missing. Draft and approved are
passing states (checkout submits at once; the last approval sends at once), so no order rests there.

Delivery sites are the trusts' real main hospitals; their GLNs are demo numbers (valid check digit
under a made-up company prefix), not the trusts' own.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import TextIO

from django.core.management import CommandError
from django.utils import timezone

from catalogue.models import Offer
from catalogue.selectors import buyable_offer_q
from common import gs1
from organisations.acting import Acting
from organisations.models import Organisation, OrganisationKind, User
from purchasing import services
from purchasing.agreements import demo as agreements_demo
from purchasing.models import (
    Basket,
    BasketLine,
    CheckoutRequest,
    CostCentre,
    DeliverySite,
    OrderEvent,
    PurchaseOrder,
)
from purchasing.rounds import demo as rounds_demo
from purchasing.states import OrderState
from purchasing.types import OrderInput

S = OrderState
DEMO_GLN_PREFIX = "50999"  # made up: demo GLNs are this, a site number and the check digit

# ODS code: (site name, address lines, postcode). The first site of each trust is its main stores.
SITES: dict[str, list[tuple[str, str, str]]] = {
    "RR8": [
        ("St James's University Hospital, main stores", "Beckett Street\nLeeds", "LS9 7TF"),
        ("Leeds General Infirmary, goods-in", "Great George Street\nLeeds", "LS1 3EX"),
    ],
    "RJ1": [
        ("St Thomas' Hospital, loading bay", "Westminster Bridge Road\nLondon", "SE1 7EH"),
        ("Guy's Hospital, goods-in", "Great Maze Pond\nLondon", "SE1 9RT"),
    ],
    "RTH": [("John Radcliffe Hospital, supplies", "Headley Way, Headington\nOxford", "OX3 9DU")],
    "R0A": [("Manchester Royal Infirmary, goods-in", "Oxford Road\nManchester", "M13 9WL")],
    "RRK": [("Queen Elizabeth Hospital, goods-in", "Mindelsohn Way, Edgbaston\nBirmingham", "B15 2GW")],
    "RGT": [("Addenbrooke's Hospital, supplies", "Hills Road\nCambridge", "CB2 0QQ")],
    "RJZ": [("King's College Hospital, goods-in", "Denmark Hill\nLondon", "SE5 9RS")],
    "RRV": [("University College Hospital, goods-in", "235 Euston Road\nLondon", "NW1 2BU")],
    "RAL": [("Royal Free Hospital, goods-in", "Pond Street\nLondon", "NW3 2QG")],
    "RYJ": [("St Mary's Hospital, goods-in", "Praed Street\nLondon", "W2 1NY")],
    "R1H": [("The Royal London Hospital, goods-in", "Whitechapel Road\nLondon", "E1 1FR")],
    "RJ7": [("St George's Hospital, goods-in", "Blackshaw Road, Tooting\nLondon", "SW17 0QT")],
    "RQM": [("Chelsea and Westminster Hospital, goods-in", "369 Fulham Road\nLondon", "SW10 9NH")],
    "RHQ": [("Northern General Hospital, supplies", "Herries Road\nSheffield", "S5 7AU")],
    "RTD": [("Freeman Hospital, goods-in", "Freeman Road, High Heaton\nNewcastle upon Tyne", "NE7 7DN")],
    "RTR": [("The James Cook University Hospital, goods-in", "Marton Road\nMiddlesbrough", "TS4 3BW")],
    "RCB": [
        ("York Hospital, goods-in", "Wigginton Road\nYork", "YO31 8HE"),
        ("Scarborough Hospital, goods-in", "Woodlands Drive\nScarborough", "YO12 6QL"),
    ],
    "RX1": [("Queen's Medical Centre, goods-in", "Derby Road\nNottingham", "NG7 2UH")],
    "RWE": [("Leicester Royal Infirmary, goods-in", "Infirmary Square\nLeicester", "LE1 5WW")],
    "RK9": [("Derriford Hospital, goods-in", "Derriford Road\nPlymouth", "PL6 8DH")],
    "RH8": [("Royal Devon and Exeter Hospital, goods-in", "Barrack Road\nExeter", "EX2 5DW")],
    "RHM": [("Southampton General Hospital, goods-in", "Tremona Road\nSouthampton", "SO16 6YD")],
    "RM1": [("Norfolk and Norwich University Hospital, goods-in", "Colney Lane\nNorwich", "NR4 7UY")],
    "REM": [("Royal Liverpool University Hospital, goods-in", "Prescot Street\nLiverpool", "L7 8XP")],
    "RBV": [("The Christie, goods-in", "550 Wilmslow Road\nManchester", "M20 4BX")],
}
COST_CENTRES = [
    ("THR01", "Theatres"),
    ("WRD-MED", "Medical wards"),
    ("ED01", "Emergency department"),
    ("COM01", "Community nursing"),
]

# The trusts with demo users: (ODS code, buyer, approver or None). Trusts without an approver make
# orders under the no-approval band past approval, and one over it that waits.
USER_TRUSTS = [
    ("RR8", "buyer@leeds.demo.example", "approver@leeds.demo.example"),
    ("RJ1", "buyer@gstt.demo.example", None),
    ("RCB", "buyer@yorkshire.demo.example", None),
]
SUPPLIER_SLUG = "pennine-medical-supplies"
SUPPLIER_USER = "supplier.staff@pennine.demo.example"
BIG_ORDER = Decimal("1800")  # over the default £1,000 band, far under £25,000: one approver


@dataclass(frozen=True)
class Story:
    """One order: its checkout key's end, the state it is left in, and how it gets there."""

    name: str
    ends_in: str
    big: bool = False  # over the one-approver band
    supplier: str = SUPPLIER_SLUG
    approved: bool = False  # big, then approved by the trust's approver


STORIES = [
    Story("awaiting-approval-1", S.AWAITING_APPROVAL, big=True),
    Story("awaiting-approval-2", S.AWAITING_APPROVAL, big=True, supplier="albion-surgical"),
    Story("sent-1", S.SENT),
    Story("sent-2", S.SENT, big=True, approved=True),
    Story("acknowledged", S.ACKNOWLEDGED),
    Story("part-dispatched", S.PART_DISPATCHED),
    Story("dispatched-1", S.DISPATCHED),
    Story("dispatched-2", S.DISPATCHED),
    Story("part-received", S.PART_RECEIVED),
    Story("received", S.RECEIVED),
    Story("invoiced", S.INVOICED),
    Story("closed", S.CLOSED),
    Story("cancelled", S.CANCELLED),
    Story("rejected", S.REJECTED),
    Story("rejected-by-approver", S.REJECTED, big=True),
]
# Stories that need the approver: told only at a trust that has one.
NEEDS_APPROVER = {"sent-2", "rejected-by-approver"}


def _acting(organisation: Organisation) -> Acting:
    return Acting(organisation=organisation, explicit=True, kind=organisation.kind)


def _demo_gln(trust_index: int, site_index: int) -> str:
    return gs1.with_check_digit(f"{DEMO_GLN_PREFIX}{trust_index:04d}{site_index:03d}")


def _seed_settings(trusts: dict[str, Organisation]) -> tuple[int, int]:
    """Delivery sites and cost centres of every demo trust (purchasing's own rows, written only
    when missing or different). Approval bands stay the defaults."""
    sites = centres = 0
    for trust_index, (ods, rows) in enumerate(sorted(SITES.items()), start=1):
        trust = trusts.get(ods)
        if trust is None:
            continue
        for site_index, (name, address, postcode) in enumerate(rows, start=1):
            gln = _demo_gln(trust_index, site_index)
            assert gs1.gln_problem(gln) is None, gln
            values = {"address": address, "postcode": postcode, "gln": gln, "is_active": True}
            site = DeliverySite.objects.filter(trust=trust, name=name).first()
            if site is None:
                DeliverySite.objects.create(trust=trust, name=name, **values)
            elif any(getattr(site, k) != v for k, v in values.items()):
                DeliverySite.objects.filter(pk=site.pk).update(**values)
            sites += 1
        for code, name in COST_CENTRES:
            if not CostCentre.objects.filter(trust=trust, code=code).exists():
                CostCentre.objects.create(trust=trust, code=code, name=name)
            centres += 1
    return sites, centres


def _offers(supplier: Organisation) -> list[Offer]:
    """The supplier's buyable offers with a GTIN first (they show on the UBL order), cheap to dear."""
    offers = list(
        Offer.objects.filter(buyable_offer_q(), supplier=supplier)
        .select_related("product")
        .order_by("pack_price", "id")
    )
    return sorted(offers, key=lambda o: (not o.product.gtin, o.pack_price, o.pk))


class _Teller:
    """Tells the order stories of one trust as its demo people."""

    def __init__(self, *, trust: Organisation, buyer: User, approver: User | None, supplier_user: User):
        self.trust = trust
        self.buyer = buyer
        self.approver = approver
        self.supplier_user = supplier_user
        self.acting_trust = _acting(trust)
        self.site = DeliverySite.objects.filter(trust=trust).order_by("id").first()
        self.centre = CostCentre.objects.filter(trust=trust).order_by("code").first()
        self.basket = services.basket_get_or_create(actor=buyer, acting=self.acting_trust)
        self.cursor = 0

    def _pick(self, offers: list[Offer], count: int) -> list[Offer]:
        picked = [offers[(self.cursor + i) % len(offers)] for i in range(count)]
        self.cursor += count
        return picked

    def _checkout(self, key: str, supplier: Organisation, offers: list[Offer], big: bool) -> PurchaseOrder:
        # Small orders: a few packs each, under the no-approval band. Big: about BIG_ORDER pounds.
        cheap = [o for o in offers if o.pack_price * o.min_order_packs <= 60] or offers
        chosen = self._pick(cheap, 2)
        for index, offer in enumerate(chosen):
            if big and index == 0:
                quantity = max(offer.min_order_packs, math.ceil(BIG_ORDER / offer.pack_price))
            else:
                quantity = max(offer.min_order_packs, 2 + index)
            services.basket_line_add(basket=self.basket, actor=self.buyer, offer=offer, quantity=quantity)
        (order,) = services.basket_checkout(
            basket=self.basket,
            actor=self.buyer,
            acting=self.acting_trust,
            idempotency_key=key,
            orders=[
                OrderInput(
                    supplier_id=supplier.pk,
                    delivery_site_id=self.site.pk,
                    cost_centre_id=self.centre.pk,
                    required_by=timezone.localdate() + dt.timedelta(days=14),
                    note="Deliver to goods-in, please call the ward on arrival.",
                )
            ],
        )
        return order

    def tell(self, story: Story, supplier: Organisation, offers: list[Offer]) -> PurchaseOrder:
        key = f"demo-{self.trust.ods_code}-{story.name}"
        order = self._checkout(key, supplier, offers, big=story.big)
        buyer, supplier_side = self.acting_trust, _acting(supplier)
        if story.approved:
            order = services.order_approve(order=order, actor=self.approver, acting=buyer)
        if story.ends_in == S.CANCELLED:
            return services.order_cancel(
                order=order, actor=self.buyer, acting=buyer, reason="Ordered twice by mistake."
            )
        if story.ends_in == S.REJECTED:
            if story.big:  # over the band: its approver turns it down
                return services.order_reject(
                    order=order, actor=self.approver, acting=buyer, reason="Use the framework contract."
                )
            return services.order_supplier_reject(
                order=order, actor=self.supplier_user, acting=supplier_side, reason="Discontinued line."
            )
        if story.ends_in in {S.AWAITING_APPROVAL, S.SENT}:
            return order
        order = services.order_acknowledge(
            order=order,
            actor=self.supplier_user,
            acting=supplier_side,
            expected_delivery=timezone.localdate() + dt.timedelta(days=5),
        )
        if story.ends_in == S.ACKNOWLEDGED:
            return order
        lines = list(order.lines.order_by("line_number"))
        first_only = {lines[0].pk: lines[0].packs}
        order = services.order_dispatch(
            order=order,
            actor=self.supplier_user,
            acting=supplier_side,
            tracking_reference=f"PMS-{order.number[-6:]}",
            quantities=first_only if story.ends_in == S.PART_DISPATCHED else None,
        )
        if story.ends_in in {S.PART_DISPATCHED, S.DISPATCHED}:
            return order
        order = services.order_receive(
            order=order,
            actor=self.buyer,
            acting=buyer,
            quantities=first_only if story.ends_in == S.PART_RECEIVED else None,
        )
        if story.ends_in in {S.PART_RECEIVED, S.RECEIVED}:
            return order
        order = services.order_invoice(
            order=order,
            actor=self.supplier_user,
            acting=supplier_side,
            invoice_number=f"INV-{order.number}",
            lines={line.pk: (line.packs, line.pack_price) for line in lines},
        )
        if story.ends_in == S.INVOICED:
            return order
        return services.order_close(order=order, actor=self.buyer, acting=buyer)

    def fill_basket(self, suppliers: list[Organisation]) -> None:
        """A few lines from three suppliers, the first dearer than an equivalent offer elsewhere, so
        the basket shows its split, peer prices and a cheaper equivalent to swap to."""
        wanted: list[Offer] = []
        for supplier in suppliers:
            dearest_of_shared = (
                Offer.objects.filter(buyable_offer_q(), supplier=supplier, min_order_packs__lte=5)
                .filter(product__offers__supplier__in=[s for s in suppliers if s.pk != supplier.pk])
                .order_by("-pack_price", "id")
                .distinct()
                .first()
            )
            if dearest_of_shared is not None and dearest_of_shared.product_id not in {
                o.product_id for o in wanted
            }:
                wanted.append(dearest_of_shared)
        present = set(BasketLine.objects.filter(basket=self.basket).values_list("offer_id", flat=True))
        for offer in wanted:
            if offer.pk not in present:
                services.basket_line_add(
                    basket=self.basket, actor=self.buyer, offer=offer, quantity=max(offer.min_order_packs, 2)
                )


def seed(stdout: TextIO) -> None:
    trusts = {
        o.ods_code: o for o in Organisation.objects.filter(kind=OrganisationKind.TRUST, ods_code__in=SITES)
    }
    if not trusts:
        raise CommandError(
            "The demo purchasing needs the demo trusts: run `manage.py seed_demo`, which loads the "
            "organisations first."
        )
    sites, centres = _seed_settings(trusts)
    supplier = Organisation.objects.filter(kind=OrganisationKind.SUPPLIER, slug=SUPPLIER_SLUG).first()
    supplier_user = User.objects.filter(email=SUPPLIER_USER).first()
    if supplier is None or supplier_user is None:
        raise CommandError("The demo purchasing needs the organisations seed's Pennine supplier and people.")
    suppliers = {
        o.slug: o
        for o in Organisation.objects.filter(kind=OrganisationKind.SUPPLIER, is_active=True).order_by("name")
    }
    offers = {slug: _offers(o) for slug, o in suppliers.items()}
    if not offers.get(SUPPLIER_SLUG):
        raise CommandError(
            "The demo purchasing needs the catalogue demo's offers: run `manage.py seed_demo`."
        )
    basket_suppliers = [suppliers[s] for s in (SUPPLIER_SLUG, "albion-surgical", "thames-wound-care")]
    # Pennine's contract price for Leeds (purchasing/agreements/demo.py), before the orders.
    agreements = agreements_demo.seed(supplier=supplier, supplier_user=supplier_user)

    told = 0
    created_events: list[int] = []
    for ods, buyer_email, approver_email in USER_TRUSTS:
        trust = trusts.get(ods)
        buyer = User.objects.filter(email=buyer_email).first()
        if trust is None or buyer is None:
            continue
        approver = User.objects.filter(email=approver_email).first() if approver_email else None
        stories = [s for s in STORIES if approver is not None or s.name not in NEEDS_APPROVER]
        keys = set(CheckoutRequest.objects.filter(trust=trust).values_list("key", flat=True))
        missing = [s for s in stories if f"demo-{ods}-{s.name}" not in keys]
        teller = _Teller(trust=trust, buyer=buyer, approver=approver, supplier_user=supplier_user)
        if missing:
            # Checkout takes the whole basket: the demo's stories start from an empty one (and the
            # demo basket lines are put back below).
            for line_id in BasketLine.objects.filter(basket=teller.basket).values_list("id", flat=True):
                services.basket_line_remove(basket=teller.basket, actor=buyer, line=line_id)
        first_event = OrderEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        for story in missing:
            teller.tell(story, suppliers[story.supplier], offers[story.supplier])
            told += 1
        created_events += OrderEvent.objects.filter(id__gt=first_event).values_list("id", flat=True)
        teller.fill_basket(basket_suppliers)

    # Purchasing rounds (purchasing/rounds/demo.py): an open one to join and a closed one whose
    # close made orders, whose steps are demo history too.
    first_event = OrderEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    rounds_demo.seed(stdout)
    created_events += OrderEvent.objects.filter(id__gt=first_event).values_list("id", flat=True)

    # The demo's history is not news: mark its steps as told, so nobody is emailed about them.
    OrderEvent.objects.filter(id__in=created_events, notified_at__isnull=True).update(
        notified_at=timezone.now()
    )
    in_all = PurchaseOrder.objects.filter(checkout__key__startswith="demo-").count()
    baskets = Basket.objects.filter(trust__ods_code__in=[t for t, _, _ in USER_TRUSTS]).count()
    stdout.write(
        f"Purchasing: {sites} delivery sites and {centres} cost centres for {len(trusts)} trusts; "
        f"{told} demo orders made now ({in_all} in all), {baskets} baskets. {agreements}"
    )
