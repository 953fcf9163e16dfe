"""Demo purchasing rounds, told by `purchasing.demo.seed` after its orders: every row through
`purchasing.rounds.services`, as the organisations demo's people, on the catalogue demo's offers.

- **Open**: Pennine's round for anti-embolism stockings, approved by the demo's marketplace admin,
  open for a few more days. Guy's and St Thomas' and York have committed; the total has reached the
  first tier and one tier is left to reach. Leeds has not joined, so Leeds's buyer lands on a round
  to join (and may be the trust whose packs move it to the next tier).
- **Closed, minimum met**: an earlier round on stockings that Leeds, Guy's and St Thomas' and York
  joined, closed through the close service: one price for all, a purchase order for each trust in
  the ordinary workflow (approval over the trust's band, the supplier's inbox).
- **Proposed by a trust**: Leeds's trust admin proposes a spring round on the same stockings (every
  supplier's offer of them on sale, of one pack size); it waits in the back office's queue.
- **Cancelled**: Pennine called off a round on the stockings after York had joined ("Manufacturer's
  recall of this batch"): York's commitment ended, nothing was ordered, and York and Pennine were
  told.

Idempotent: a round is found by its title and told only when missing (a closed round's orders come
from its close, which closes once).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TextIO

from django.utils import timezone

from catalogue.models import Offer
from catalogue.selectors import buyable_offer_q
from organisations.acting import Acting
from organisations.models import Organisation, OrganisationKind, User
from purchasing.rounds import services
from purchasing.rounds.models import Round, RoundAudience, RoundStatus

OPEN_TITLE = "Anti-embolism stockings: pooled winter order"
TRUST_TITLE = "Anti-embolism stockings: Yorkshire spring order"
CANCELLED_TITLE = "Anti-embolism stockings: pooled December top-up"
CANCEL_REASON = "Manufacturer's recall of this batch: we will propose a new round when stock is back."
TRUST_ADMIN = ("RR8", "trust.admin@leeds.demo.example")
CLOSED_TITLE = "Anti-embolism stockings: pooled autumn order"
PRODUCT_NAME = "Anti-embolism stocking, thigh length, medium, regular"
SUPPLIER_SLUG = "pennine-medical-supplies"
SUPPLIER_USER = "supplier.staff@pennine.demo.example"
STAFF_EMAIL = "admin@demo.example"
# Tiers as fractions of the list price per pack, from these many packs across all trusts.
TIER_STEPS = [(40, Decimal("0.95")), (80, Decimal("0.90")), (150, Decimal("0.82"))]
MINIMUM = 40
# (trust ODS code, its demo buyer, packs): the open round's 30 + 25 = 55 packs reach the 40-pack tier,
# 25 short of the 80-pack one; the closed round's 40 + 30 + 25 = 95 reached the 80-pack tier.
OPEN_COMMITMENTS = [("RJ1", "buyer@gstt.demo.example", 30), ("RCB", "buyer@yorkshire.demo.example", 25)]
CLOSED_COMMITMENTS = [
    ("RR8", "buyer@leeds.demo.example", 40),
    ("RJ1", "buyer@gstt.demo.example", 30),
    ("RCB", "buyer@yorkshire.demo.example", 25),
]


def _acting(organisation: Organisation) -> Acting:
    return Acting(organisation=organisation, explicit=True, kind=organisation.kind)


def _offer(supplier: Organisation) -> Offer | None:
    """Pennine's offer of the stockings pricing's demo compares trusts on, else any of its stockings."""
    offers = Offer.objects.filter(buyable_offer_q(), supplier=supplier).select_related("product")
    return (
        offers.filter(product__name=PRODUCT_NAME).order_by("units_per_pack", "id").first()
        or offers.filter(product__name__startswith="Anti-embolism stocking")
        .order_by("pack_price", "id")
        .first()
    )


def _tiers(offer: Offer) -> list[tuple[int, Decimal]]:
    return [(packs, (offer.pack_price * share).quantize(Decimal("0.01"))) for packs, share in TIER_STEPS]


def _propose(
    *,
    title: str,
    offer: Offer,
    proposer: User,
    staff: User | None,
    opens_at,
    closes_at,
    acting_for: Organisation | None = None,
    offers: list[Offer] | None = None,
) -> Round:
    """Proposed by the supplier (or `acting_for` a trust, on `offers`), approved when `staff` is given."""
    today = timezone.localdate()
    proposed = services.round_propose(
        actor=proposer,
        acting=_acting(acting_for or offer.supplier),
        product=offer.product,
        offers=offers or [offer],
        title=title,
        description=f"{offer.product.name}: graduated compression for the wards, delivered in one "
        "drop to each trust's main stores. The more packs trusts commit between them, the lower "
        "the price per pack for every trust.",
        opens_at=opens_at,
        closes_at=closes_at,
        delivery_from=max(today + dt.timedelta(days=14), timezone.localdate(closes_at)),
        delivery_to=max(today + dt.timedelta(days=14), timezone.localdate(closes_at)) + dt.timedelta(days=46),
        minimum_packs=MINIMUM,
        tiers=_tiers(offer),
        audience=RoundAudience.ALL,
    )
    return services.round_approve(round=proposed, actor=staff) if staff is not None else proposed


def _commit(round_: Round, commitments, trusts: dict[str, Organisation]) -> int:
    made = 0
    for ods, email, packs in commitments:
        trust, buyer = trusts.get(ods), User.objects.filter(email=email).first()
        if trust is None or buyer is None:
            continue
        services.commitment_set(round=round_, actor=buyer, acting=_acting(trust), packs=packs)
        made += 1
    return made


def seed(stdout: TextIO) -> None:
    supplier = Organisation.objects.filter(kind=OrganisationKind.SUPPLIER, slug=SUPPLIER_SLUG).first()
    proposer = User.objects.filter(email=SUPPLIER_USER).first()
    staff = User.objects.filter(email=STAFF_EMAIL).first()
    offer = _offer(supplier) if supplier is not None else None
    if offer is None or proposer is None or staff is None:
        stdout.write(
            "Purchasing rounds: no demo rounds (the demo's Pennine stockings or people are missing)."
        )
        return
    trusts = {
        o.ods_code: o
        for o in Organisation.objects.filter(
            kind=OrganisationKind.TRUST, ods_code__in=[ods for ods, _, _ in CLOSED_COMMITMENTS]
        )
    }
    now = timezone.now()
    told = []
    if not Round.objects.filter(title=CLOSED_TITLE).exists():
        # Opened a minute ago and closing in a minute; closed at once as if the beat task ran then.
        closed = _propose(
            title=CLOSED_TITLE,
            offer=offer,
            proposer=proposer,
            staff=staff,
            opens_at=now - dt.timedelta(minutes=1),
            closes_at=now + dt.timedelta(minutes=1),
        )
        _commit(closed, CLOSED_COMMITMENTS, trusts)
        services.round_close(round_id=closed.pk, now=closed.closes_at + dt.timedelta(seconds=1))
        told.append("closed")
    if not Round.objects.filter(title=OPEN_TITLE, status=RoundStatus.OPEN).exists():
        opened = _propose(
            title=OPEN_TITLE,
            offer=offer,
            proposer=proposer,
            staff=staff,
            opens_at=now - dt.timedelta(minutes=1),
            closes_at=now + dt.timedelta(days=5),
        )
        _commit(opened, OPEN_COMMITMENTS, trusts)
        told.append("open")
    if not Round.objects.filter(title=CANCELLED_TITLE).exists():
        called_off = _propose(
            title=CANCELLED_TITLE,
            offer=offer,
            proposer=proposer,
            staff=staff,
            opens_at=now - dt.timedelta(minutes=1),
            closes_at=now + dt.timedelta(days=3),
        )
        _commit(called_off, OPEN_COMMITMENTS[1:], trusts)
        services.round_cancel(
            round=called_off, actor=proposer, acting=_acting(offer.supplier), reason=CANCEL_REASON
        )
        told.append("cancelled")
    leeds, admin = trusts.get(TRUST_ADMIN[0]), User.objects.filter(email=TRUST_ADMIN[1]).first()
    if leeds is not None and admin is not None and not Round.objects.filter(title=TRUST_TITLE).exists():
        same_packs = Offer.objects.filter(
            buyable_offer_q(), product=offer.product, units_per_pack=offer.units_per_pack
        ).order_by("id")
        _propose(
            title=TRUST_TITLE,
            offer=offer,
            offers=list(same_packs),
            proposer=admin,
            staff=None,  # waits for the marketplace team
            acting_for=leeds,
            opens_at=now + dt.timedelta(days=7),
            closes_at=now + dt.timedelta(days=21),
        )
        told.append("proposed by Leeds")
    in_all = Round.objects.filter(title__in=[OPEN_TITLE, CLOSED_TITLE, CANCELLED_TITLE, TRUST_TITLE]).count()
    stdout.write(
        f"Purchasing rounds: {len(told)} demo rounds made now ({', '.join(told) or 'none'}), {in_all} in all."
    )
