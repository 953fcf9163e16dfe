"""Read-only queries of the rounds, scoped to the acting organisation.

Who sees a round: the organisation that proposed it (whatever its status); a supplier whose offer is
in it; a trust in its audience once it is approved (open, closed or cancelled); a trust that
committed to it. Anyone else gets a 404 (`round_for`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from catalogue.models import Offer
from catalogue.selectors import buyable_offers
from common.caching import shared_cached
from common.errors import NotFound
from common.money import quantize_money
from organisations.acting import Acting
from organisations.models import Organisation
from pricing.models import PurchaseHistoryLine
from purchasing.rounds.models import (
    Commitment,
    Round,
    RoundAudience,
    RoundOffer,
    RoundStatus,
    RoundTier,
    RoundVolumePoint,
)
from purchasing.rounds.types import RoundLive

# Statuses a trust in the audience sees (proposed and rejected rounds are their proposer's business).
PUBLISHED = (RoundStatus.OPEN, RoundStatus.CLOSED_MET, RoundStatus.CLOSED_UNMET, RoundStatus.CANCELLED)


def _loaded(queryset: QuerySet[Round]) -> QuerySet[Round]:
    return queryset.select_related("product", "proposed_by_organisation").prefetch_related(
        "tiers", Prefetch("round_offers", queryset=RoundOffer.objects.select_related("offer__supplier"))
    )


def audience_q(trust: Organisation) -> Q:
    """The rounds whose audience takes in `trust` (whatever their status)."""
    return (
        Q(audience=RoundAudience.ALL)
        | Q(audience=RoundAudience.REGION, region=trust.region)
        | Q(audience=RoundAudience.INVITED, invited=trust)
    )


def _visible_q(organisation: Organisation) -> Q:
    own = Q(proposed_by_organisation=organisation)
    if organisation.is_trust:
        committed = Exists(Commitment.objects.filter(round=OuterRef("pk"), trust=organisation))
        return own | committed | (audience_q(organisation) & Q(status__in=PUBLISHED))
    if organisation.is_supplier:
        return own | Exists(RoundOffer.objects.filter(round=OuterRef("pk"), offer__supplier=organisation))
    return own


def rounds_visible(*, acting: Acting) -> QuerySet[Round]:
    """Every round the acting organisation may see, newest closing last."""
    organisation = acting.organisation
    if organisation is None:
        return Round.objects.none()
    # The invited M2M may join one row per invitation: ids first keeps each round once.
    ids = Round.objects.filter(_visible_q(organisation)).values("pk")
    return _loaded(Round.objects.filter(pk__in=ids)).order_by("closes_at", "id")


def rounds_open_for(*, acting: Acting, now: dt.datetime | None = None) -> QuerySet[Round]:
    """The approved rounds a trust may commit to now or soon (its audience; not yet closed)."""
    trust = acting.trust
    if trust is None:
        return Round.objects.none()
    now = now or timezone.now()
    ids = Round.objects.filter(audience_q(trust), status=RoundStatus.OPEN, closes_at__gt=now).values("pk")
    return _loaded(Round.objects.filter(pk__in=ids)).order_by("closes_at", "id")


def rounds_of_supplier(*, acting: Acting) -> QuerySet[Round]:
    """A supplier's rounds: those it proposed and those on its offers, newest first."""
    supplier = acting.supplier
    if supplier is None:
        return Round.objects.none()
    ids = Round.objects.filter(_visible_q(supplier)).values("pk")
    return _loaded(Round.objects.filter(pk__in=ids)).order_by("-closes_at", "-id")


def rounds_proposed_by(*, acting: Acting) -> QuerySet[Round]:
    """The rounds the acting organisation proposed (any status), newest first."""
    organisation = acting.organisation
    if organisation is None:
        return Round.objects.none()
    return _loaded(Round.objects.filter(proposed_by_organisation=organisation)).order_by("-id")


def offers_to_propose(*, acting: Acting, product_id: int | None = None) -> QuerySet[Offer]:
    """The offers a round may be proposed on (the service checks again): a supplier's own offers on
    sale; for a trust, every offer on sale of `product_id` (none without one)."""
    offers = buyable_offers().select_related("product", "supplier")
    if acting.supplier is not None:
        return offers.filter(supplier=acting.supplier).order_by("product__name", "supplier_sku")
    if acting.trust is not None and product_id is not None:
        return offers.filter(product_id=product_id).order_by("supplier__name", "supplier_sku")
    return offers.none()


def rounds_proposed(*, status: str = RoundStatus.PROPOSED) -> QuerySet[Round]:
    """Rounds waiting for the marketplace team (the back office), oldest first."""
    return _loaded(Round.objects.filter(status=status)).order_by("created_at", "id")


def rounds_open() -> QuerySet[Round]:
    """Every open round, closing soonest first (the back office's list, to cancel one): the round,
    its product and its proposer, nothing more."""
    return (
        Round.objects.filter(status=RoundStatus.OPEN)
        .select_related("product", "proposed_by_organisation")
        .order_by("closes_at", "id")
    )


def round_for(*, acting: Acting, round_id: int) -> Round:
    """One round the acting organisation may see, else NotFound (another's round is a 404)."""
    try:
        pk = int(round_id)
    except (TypeError, ValueError):
        raise NotFound("No such round.", field="round") from None
    found = rounds_visible(acting=acting).filter(pk=pk).first()
    if found is None:
        raise NotFound("No such round.", field="round")
    return found


def round_tiers(round: Round) -> list[RoundTier]:
    """The round's tiers, lowest minimum first (from the prefetch when there is one)."""
    return sorted(round.tiers.all(), key=lambda t: t.min_packs)


def tier_for(tiers: list[RoundTier], packs: int) -> RoundTier | None:
    """THE tier rule: the highest tier whose minimum the total reaches (None below the first)."""
    reached = [t for t in tiers if t.min_packs <= packs]
    return reached[-1] if reached else None


def worst_case_pack_price(round: Round) -> Decimal:
    """The highest price a participant may pay: the first tier's, or the list price if higher
    (below the first tier nobody is ordered anything, but the minimum may sit below it)."""
    tiers = round_tiers(round)
    return max([t.pack_price for t in tiers] or [round.list_pack_price])


def commitment_of(*, round: Round, trust: Organisation | None) -> Commitment | None:
    """The trust's commitment to the round (withdrawn or not), if it made one."""
    if trust is None:
        return None
    return Commitment.objects.select_related("offer", "committed_by").filter(round=round, trust=trust).first()


def round_commitments(*, round: Round, acting: Acting) -> QuerySet[Commitment]:
    """The commitments the acting organisation may read: a trust its own, the proposer or a supplier
    of the round all of them (the supplier sees who ordered)."""
    organisation = acting.organisation
    commitments = Commitment.objects.filter(round=round).select_related(
        "trust", "offer__supplier", "committed_by", "order"
    )
    if organisation is None:
        return commitments.none()
    if organisation.is_trust and round.proposed_by_organisation_id != organisation.pk:
        return commitments.filter(trust=organisation)
    if organisation.is_supplier and round.proposed_by_organisation_id != organisation.pk:
        return commitments.filter(offer__supplier=organisation)
    return commitments.order_by("trust__name", "id")


def commitments_of_trust(*, acting: Acting) -> QuerySet[Commitment]:
    """The acting trust's commitments, latest change first, with their rounds and orders."""
    trust = acting.trust
    if trust is None:
        return Commitment.objects.none()
    return (
        Commitment.objects.filter(trust=trust)
        .select_related("round__product", "offer__supplier", "order")
        .order_by("-updated_at", "-id")
    )


def _last_paid_pack_price(*, round: Round, trust: Organisation | None, units_per_pack: int) -> Decimal | None:
    """What the trust last paid for the round's product (its purchase history), per pack of the
    round's offer (history packs may be another size, so through the price per unit)."""
    if trust is None:
        return None
    line = (
        PurchaseHistoryLine.objects.filter(trust=trust, product_id=round.product_id, units_per_pack__gt=0)
        .order_by("-order_date", "-id")
        .values("pack_price", "units_per_pack")
        .first()
    )
    if line is None:
        return None
    return quantize_money(line["pack_price"] / line["units_per_pack"] * units_per_pack)


def round_live(*, round: Round, acting: Acting, now: dt.datetime | None = None) -> RoundLive:
    """The live figures of a round for the acting organisation, in a fixed number of queries."""
    now = now or timezone.now()
    tiers = round_tiers(round)
    committed = round.committed_packs
    reached = tier_for(tiers, committed)
    following = next((t for t in tiers if t.min_packs > committed), None)
    price = (
        round.final_pack_price
        if round.status == RoundStatus.CLOSED_MET
        else (reached.pack_price if reached else None)
    )
    trust = acting.trust
    mine = commitment_of(round=round, trust=trust)
    offers = [ro.offer for ro in round.round_offers.all()]
    offer = mine.offer if mine is not None else (offers[0] if offers else None)
    last_paid = _last_paid_pack_price(
        round=round, trust=trust, units_per_pack=offer.units_per_pack if offer is not None else 1
    )
    compared = price if price is not None else None
    points = list(
        RoundVolumePoint.objects.filter(round=round).order_by("at", "id").values_list("at", "committed_packs")
    )
    left = 0
    if round.status == RoundStatus.OPEN:
        left = max(0, int((round.closes_at - now).total_seconds()))
    participants = Commitment.objects.filter(round=round, withdrawn_at__isnull=True).count()
    return RoundLive(
        committed_packs=committed,
        minimum_packs=round.minimum_packs,
        minimum_met=committed >= round.minimum_packs,
        tier_reached=reached,
        next_tier=following,
        packs_to_next_tier=(following.min_packs - committed) if following else None,
        price_now=price,
        list_pack_price=round.list_pack_price,
        saving_vs_list=(round.list_pack_price - compared) if compared is not None else None,
        last_paid_pack_price=last_paid,
        saving_vs_last_paid=(last_paid - compared)
        if compared is not None and last_paid is not None
        else None,
        seconds_left=left,
        trust_commitment=mine,
        worst_case_pack_price=worst_case_pack_price(round),
        tiers=tuple(tiers),
        participants=participants,
        points=[(at, packs) for at, packs in points],
    )


# The shared cache's namespace of each trust's pooled prices (`pooled_prices_of_trust`, keyed by the
# trust and the day: read only when pricing for that trust). It moves when a round closes
# (`purchasing.rounds.pooled.pooled_changed`) and on the commit of every save or delete of a round or
# a commitment (purchasing.signals).
POOLED_PRICES = "pooled-prices"


def pooled_prices_of_trust(*, trust_id: int, on_date: dt.date) -> dict[int, tuple[Decimal, str]]:
    """The trust's pooled prices on `on_date`, by offer id: the final pack price (and reference) of
    each closed round that met its minimum, that the trust committed to through that offer, whose
    delivery window holds the date; the lowest when two rounds cover one offer. Kept in the shared
    cache under the trust and the day, else one query."""
    return shared_cached(
        POOLED_PRICES,
        ("pooled-prices", trust_id, on_date.isoformat()),
        lambda: _pooled_prices_of_trust(trust_id=trust_id, on_date=on_date),
    )


def _pooled_prices_of_trust(*, trust_id: int, on_date: dt.date) -> dict[int, tuple[Decimal, str]]:
    found: dict[int, tuple[Decimal, str]] = {}
    rows = Commitment.objects.filter(
        trust_id=trust_id,
        withdrawn_at__isnull=True,
        round__status=RoundStatus.CLOSED_MET,
        round__delivery_from__lte=on_date,
        round__delivery_to__gte=on_date,
    ).values_list("offer_id", "round__final_pack_price", "round__reference")
    for offer_id, price, reference in rows:
        if offer_id not in found or price < found[offer_id][0]:
            found[offer_id] = (price, reference)
    return found
