"""The rounds' business rules: propose, approve, reject, cancel; commit, change, withdraw; close.

Every function takes keyword-only arguments, runs in one transaction and raises `common.errors`
domain errors naming the field at fault; nothing changes when one is raised.

Concurrency: every change of a round's commitments, and its close, first locks the round's row
(`select_for_update`). Commitments to one round therefore happen one after another, each reading
the total the previous one left, so none is lost and `Round.committed_packs` always equals the sum
of the active commitments; a commitment that waited for the close's lock finds the round closed
and is refused. `round_close` closes a round exactly once: a second run (a retry, a late beat, a
second worker) waits for the lock, then finds the round closed and does nothing; the orders are
placed in the closing transaction, with keys unique per trust as a belt to those braces.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings as django_settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from catalogue.models import Offer, Product
from catalogue.selectors import unbuyable_reasons
from common import audit
from common.bulk import set_column
from common.errors import Conflict, DomainError, NotFound, PermissionDenied
from common.money import Money
from organisations.acting import Acting
from organisations.models import Membership, Organisation, Region, Role, User
from organisations.permissions import roles_for
from purchasing.models import CostCentre, DeliverySite
from purchasing.rounds import pooled
from purchasing.rounds.models import (
    Commitment,
    Round,
    RoundAudience,
    RoundOffer,
    RoundStatus,
    RoundTier,
    RoundVolumePoint,
)
from purchasing.rounds.selectors import audience_q, round_tiers, tier_for, worst_case_pack_price
from purchasing.selectors import approval_bands
from purchasing.services import MAX_NOTE_LENGTH, _amount, _require_member, _text, orders_place
from purchasing.types import PlacedLine, Placement

logger = logging.getLogger(__name__)

POOLED = "pooled"
MAX_PACKS = 10_000_000
MAX_TIERS = 20
# Who may commit for a trust, and whose commitments count as an approval (`approvals_given`).
COMMITTING_ROLES = (Role.BUYER, Role.APPROVER, Role.TRUST_ADMIN)
SUPPLIER_ROLES = (Role.SUPPLIER_ADMIN, Role.SUPPLIER_STAFF)

ROUND_PROPOSED = audit.register_kind("purchasing.round_proposed", "Purchasing round proposed")
ROUND_APPROVED = audit.register_kind("purchasing.round_approved", "Purchasing round approved")
ROUND_REJECTED = audit.register_kind("purchasing.round_rejected", "Purchasing round rejected")
ROUND_CANCELLED = audit.register_kind("purchasing.round_cancelled", "Purchasing round cancelled")
ROUND_COMMITTED = audit.register_kind("purchasing.round_committed", "Commitment to a round made or changed")
ROUND_WITHDRAWN = audit.register_kind("purchasing.round_withdrawn", "Commitment to a round withdrawn")
ROUND_CLOSED = audit.register_kind("purchasing.round_closed", "Purchasing round closed")


# --- Checks ----------------------------------------------------------------------------------


def _whole(value, *, field: str, minimum: int = 1, maximum: int = MAX_PACKS) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise DomainError(f"Enter a whole number of packs, from {minimum:,} to {maximum:,}.", field=field)
    return value


def _aware(value, *, field: str) -> dt.datetime:
    if not isinstance(value, dt.datetime) or timezone.is_naive(value):
        raise DomainError(f"Enter the {field.replace('_', ' ')} as a date and time.", field=field)
    return value


def _date(value, *, field: str) -> dt.date:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise DomainError(f"Enter the {field.replace('_', ' ')} as a date.", field=field)
    return value


def tiers_checked(tiers: Sequence[tuple[int, Decimal]], *, minimum_packs: int) -> list[tuple[int, Decimal]]:
    """THE tier table rule: at least one tier; minimums whole and rising, prices positive and falling
    strictly; the first tier starts at or below the round's minimum (so a round that meets its
    minimum always has a price). Errors name the field "tiers"."""
    if not tiers:
        raise DomainError("Give at least one tier: packs from, and the price per pack.", field="tiers")
    if len(tiers) > MAX_TIERS:
        raise DomainError(f"Give at most {MAX_TIERS} tiers.", field="tiers")
    checked: list[tuple[int, Decimal]] = []
    for position, tier in enumerate(tiers, start=1):
        try:
            min_packs, price = tier
        except (TypeError, ValueError):
            raise DomainError(
                f"Tier {position}: give packs from and a price per pack.", field="tiers"
            ) from None
        if isinstance(min_packs, bool) or not isinstance(min_packs, int) or not 1 <= min_packs <= MAX_PACKS:
            raise DomainError(f"Tier {position}: packs from is a whole number, 1 or more.", field="tiers")
        try:
            price = _amount(price, field="tiers")
        except DomainError:
            raise DomainError(
                f"Tier {position}: the price per pack is an amount in pounds, to the penny.", field="tiers"
            ) from None
        if price <= 0:
            raise DomainError(f"Tier {position}: the price per pack is more than £0.", field="tiers")
        if checked and min_packs <= checked[-1][0]:
            raise DomainError(
                f"Tier {position}: tiers rise in volume: {min_packs:,} packs is not above "
                f"the {checked[-1][0]:,} of the tier before.",
                field="tiers",
                code="tiers_not_rising",
            )
        if checked and price >= checked[-1][1]:
            raise DomainError(
                f"Tier {position}: tiers fall in price: {Money(price)} is not below the "
                f"{Money(checked[-1][1])} of the tier before.",
                field="tiers",
                code="tiers_not_falling",
            )
        checked.append((min_packs, price))
    if checked[0][0] > minimum_packs:
        raise DomainError(
            f"The first tier starts at or below the minimum of {minimum_packs:,} packs, so a round that "
            "meets its minimum has a price.",
            field="tiers",
        )
    return checked


def _require_staff(actor: User) -> None:
    if not (getattr(actor, "is_active", False) and getattr(actor, "is_staff", False)):
        raise PermissionDenied("Only the marketplace team decides on proposed rounds.", field="round")


def _locked(round: Round | int) -> Round:
    pk = round.pk if isinstance(round, Round) else round
    found = Round.objects.select_for_update().filter(pk=pk).first()
    if found is None:
        raise NotFound("No such round.", field="round")
    return found


def _in_audience(round: Round, trust: Organisation) -> bool:
    return Round.objects.filter(audience_q(trust), pk=round.pk).exists()


# --- Proposing and deciding ------------------------------------------------------------------


def round_propose(
    *,
    actor: User,
    acting: Acting,
    product: Product | int,
    offers: Sequence[Offer | int],
    title: str,
    description: str,
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    delivery_from: dt.date,
    delivery_to: dt.date,
    minimum_packs: int,
    tiers: Sequence[tuple[int, Decimal]],
    audience: str,
    region: str = "",
    invited: Iterable[Organisation | int] = (),
) -> Round:
    """A supplier (on its own offers) or a trust admin (on any buyable offers of the product)
    proposes a round; it waits for the marketplace team's approval (`round_approve`)."""
    organisation = acting.organisation
    if organisation is None:
        raise PermissionDenied("Choose the organisation you act for.", field="acting")
    if organisation.is_supplier:
        _require_member(
            actor=actor, acting=acting, organisation=organisation, roles=SUPPLIER_ROLES, what="staff"
        )
    elif organisation.is_trust:
        _require_member(
            actor=actor,
            acting=acting,
            organisation=organisation,
            roles=[Role.TRUST_ADMIN],
            what="a trust admin",
        )
    else:
        raise PermissionDenied("Suppliers and NHS trusts propose rounds.", field="acting")
    title = _text(title, field="title", max_length=200)
    description = _text(description, field="description", required=False, max_length=MAX_NOTE_LENGTH)
    if isinstance(product, int) and not isinstance(product, bool):
        product = Product.objects.filter(pk=product).first()
    if not isinstance(product, Product):
        raise DomainError("Choose the product.", field="product")
    offer_ids = {o.pk if isinstance(o, Offer) else o for o in offers}
    chosen = list(Offer.objects.select_related("supplier", "product").filter(pk__in=offer_ids).order_by("pk"))
    if not chosen or len(chosen) != len(offer_ids):
        raise DomainError("Choose at least one offer of the product.", field="offers")
    today = timezone.localdate()
    for offer in chosen:
        if offer.product_id != product.pk:
            raise DomainError(f"Offer {offer.supplier_sku} is not for {product.name}.", field="offers")
        if organisation.is_supplier and offer.supplier_id != organisation.pk:
            raise DomainError("A supplier proposes rounds on its own offers only.", field="offers")
        if reasons := unbuyable_reasons(offer=offer, today=today):
            raise DomainError(f"Offer {offer.supplier_sku}: {' '.join(reasons)}", field="offers")
    if len({o.units_per_pack for o in chosen}) != 1:
        raise DomainError(
            "The offers of a round hold the same number of units a pack (tiers count packs).", field="offers"
        )
    opens_at = _aware(opens_at, field="opens_at")
    closes_at = _aware(closes_at, field="closes_at")
    if closes_at <= opens_at:
        raise DomainError("The round closes after it opens.", field="closes_at")
    if closes_at <= timezone.now():
        raise DomainError("The closing time is in the future.", field="closes_at")
    delivery_from = _date(delivery_from, field="delivery_from")
    delivery_to = _date(delivery_to, field="delivery_to")
    if delivery_from < timezone.localdate(closes_at):
        raise DomainError("Delivery starts on or after the day the round closes.", field="delivery_from")
    if delivery_to < delivery_from:
        raise DomainError("Delivery ends on or after the day it starts.", field="delivery_to")
    minimum_packs = _whole(minimum_packs, field="minimum_packs")
    checked = tiers_checked(tiers, minimum_packs=minimum_packs)
    if audience not in RoundAudience.values:
        raise DomainError("Choose who may join: all trusts, a region or invited trusts.", field="audience")
    region = (region or "").strip() if audience == RoundAudience.REGION else ""
    if audience == RoundAudience.REGION and region not in Region.values:
        raise DomainError("Choose the NHS region.", field="region")
    guests: list[Organisation] = []
    if audience == RoundAudience.INVITED:
        ids = {o.pk if isinstance(o, Organisation) else o for o in invited}
        guests = list(Organisation.objects.filter(pk__in=ids))
        if not guests or len(guests) != len(ids) or not all(g.is_trust for g in guests):
            raise DomainError("Invite one or more NHS trusts.", field="invited")
    with transaction.atomic():
        # The reference is the row's number, known once it is saved.
        made = Round.objects.create(
            reference=f"new-{timezone.now().timestamp()}-{actor.pk}"[:20],
            title=title,
            description=description,
            product=product,
            proposed_by_organisation=organisation,
            proposed_by=actor,
            opens_at=opens_at,
            closes_at=closes_at,
            delivery_from=delivery_from,
            delivery_to=delivery_to,
            minimum_packs=minimum_packs,
            audience=audience,
            region=region,
            list_pack_price=min(o.pack_price for o in chosen),
        )
        made.reference = f"RND-{made.pk:06d}"
        Round.objects.filter(pk=made.pk).update(reference=made.reference)
        RoundOffer.objects.bulk_create([RoundOffer(round=made, offer=o) for o in chosen])
        RoundTier.objects.bulk_create([RoundTier(round=made, min_packs=m, pack_price=p) for m, p in checked])
        if guests:
            made.invited.set(guests)
        audit.record(
            kind=ROUND_PROPOSED,
            actor=actor,
            organisation_id=organisation.pk,
            subject=made.reference,
            data={
                "round": made.pk,
                "offers": [o.pk for o in chosen],
                "tiers": [[m, str(p)] for m, p in checked],
            },
        )
    return made


def round_approve(*, round: Round | int, actor: User) -> Round:
    """The marketplace team approves a proposed round: it opens for commitments at `opens_at`."""
    _require_staff(actor)
    with transaction.atomic():
        locked = _locked(round)
        if locked.status != RoundStatus.PROPOSED:
            raise Conflict(f"{locked.reference} is {locked.get_status_display().lower()}.", field="status")
        if locked.closes_at <= timezone.now():
            raise Conflict(f"{locked.reference} would have closed already: reject it.", field="closes_at")
        locked.status, locked.approved_by, locked.approved_at = RoundStatus.OPEN, actor, timezone.now()
        locked.save(update_fields=["status", "approved_by", "approved_at"])
        audit.record(
            kind=ROUND_APPROVED,
            actor=actor,
            organisation_id=locked.proposed_by_organisation_id,
            subject=locked.reference,
            data={"round": locked.pk},
        )
    return locked


def round_reject(*, round: Round | int, actor: User, reason: str) -> Round:
    """The marketplace team turns a proposed round down, saying why."""
    _require_staff(actor)
    reason = _text(reason, field="reason")
    with transaction.atomic():
        locked = _locked(round)
        if locked.status != RoundStatus.PROPOSED:
            raise Conflict(f"{locked.reference} is {locked.get_status_display().lower()}.", field="status")
        locked.status, locked.decision_note = RoundStatus.REJECTED, reason
        locked.save(update_fields=["status", "decision_note"])
        audit.record(
            kind=ROUND_REJECTED,
            actor=actor,
            organisation_id=locked.proposed_by_organisation_id,
            subject=locked.reference,
            data={"round": locked.pk, "reason": reason},
        )
    return locked


def round_cancel(*, round: Round | int, actor: User, acting: Acting, reason: str) -> Round:
    """Whoever proposed the round (its supplier's staff, or its trust's admin), or the marketplace
    team, calls it off before it closes, saying why. The active commitments end (withdrawn at the
    moment of the cancellation, so the round's total is 0 and no pooled price is given), nothing is
    ordered, and the participants and the suppliers are told (`round_outcome_notify`, on commit)."""
    reason = _text(reason, field="reason")
    with transaction.atomic():
        locked = _locked(round)
        if not getattr(actor, "is_staff", False):
            proposer = locked.proposed_by_organisation
            roles = SUPPLIER_ROLES if proposer.is_supplier else (Role.TRUST_ADMIN,)
            _require_member(
                actor=actor, acting=acting, organisation=proposer, roles=roles, what="the proposer"
            )
        if locked.status not in (RoundStatus.PROPOSED, RoundStatus.OPEN):
            raise Conflict(
                f"{locked.reference} is {locked.get_status_display().lower()}: it cannot be cancelled.",
                field="status",
                code="round_not_cancellable",
            )
        now = timezone.now()  # under the lock: a commitment queued behind it finds the round cancelled
        before = locked.committed_packs
        ended = Commitment.objects.filter(round=locked, withdrawn_at__isnull=True).update(
            withdrawn_at=now, updated_at=now
        )
        if before or ended:
            _volume_changed(locked, 0, now)
        locked.status, locked.decision_note, locked.closed_at = RoundStatus.CANCELLED, reason, now
        locked.save(update_fields=["status", "decision_note", "closed_at"])
        audit.record(
            kind=ROUND_CANCELLED,
            actor=actor,
            organisation_id=locked.proposed_by_organisation_id,
            subject=locked.reference,
            data={
                "round": locked.pk,
                "reason": reason,
                "commitments_ended": ended,
                "committed_packs": before,
            },
        )
        _queue_outcome(locked.pk)
    return locked


# --- Commitments -----------------------------------------------------------------------------


def _check_open(round: Round, now: dt.datetime) -> None:
    if round.status != RoundStatus.OPEN:
        raise Conflict(
            f"{round.reference} is {round.get_status_display().lower()}: commitments cannot change.",
            field="round",
            code="round_not_open",
        )
    if now >= round.closes_at:
        raise Conflict(f"{round.reference} has closed.", field="round", code="round_closed")
    if now < round.opens_at:
        raise Conflict(
            f"{round.reference} opens at {timezone.localtime(round.opens_at):%d %B %Y %H:%M}.",
            field="round",
            code="round_not_open_yet",
        )


def _committer(*, round: Round, actor: User, acting: Acting) -> tuple[Organisation, set[str]]:
    trust = acting.trust
    if trust is None:
        raise PermissionDenied("Choose the NHS trust you commit for.", field="acting")
    _require_member(actor=actor, acting=acting, organisation=trust, roles=COMMITTING_ROLES, what="a buyer")
    if not _in_audience(round, trust):
        raise PermissionDenied(
            f"{round.reference} is open to {round.get_audience_display().lower()}: {trust.name} is not one.",
            field="round",
            code="not_in_audience",
        )
    return trust, roles_for(actor, trust)


def _site_and_centre(*, trust: Organisation, delivery_site, cost_centre, current: Commitment | None):
    def pick(model, given, kept_id, order, field, what):
        rows = model.objects.filter(trust=trust, is_active=True)
        if given is not None:
            pk = given.pk if isinstance(given, model) else given
            found = rows.filter(pk=pk).first()
            if found is None:
                raise DomainError(f"Choose one of the trust's {what}.", field=field)
            return found
        found = rows.filter(pk=kept_id).first() if kept_id else None
        found = found or rows.order_by(order).first()
        if found is None:
            raise DomainError(f"The trust has no active {what}: a trust admin adds one first.", field=field)
        return found

    site = pick(
        DeliverySite,
        delivery_site,
        current.delivery_site_id if current else None,
        "name",
        "delivery_site",
        "delivery sites",
    )
    centre = pick(
        CostCentre,
        cost_centre,
        current.cost_centre_id if current else None,
        "code",
        "cost_centre",
        "cost centres",
    )
    return site, centre


def _approval_check(*, round: Round, trust: Organisation, roles: set[str], packs: int) -> None:
    """The commitment at the worst-case (highest) tier price is within what the committer may order
    alone: a buyer up to the trust's no-approval band, an approver up to its one-approver band."""
    worst = worst_case_pack_price(round)
    value = Money(worst * packs).rounded()
    bands = approval_bands(trust=trust)
    if Role.APPROVER in roles:
        limit, who = bands.two_approvers_above, "two approvers"
    else:
        limit, who = bands.one_approver_above, "an approver"
    if value.amount > limit.amount:
        most = int(limit.amount // worst) if worst else 0
        raise DomainError(
            f"{packs:,} packs at up to {Money(worst)} a pack is {value}: above the {limit} you may commit "
            f"without {who}. Commit at most {most:,} packs, or ask "
            + ("an approver of your trust to commit." if who == "an approver" else "your trust's approvers."),
            field="packs",
            code="above_approval_limit",
        )


def _volume_changed(round: Round, committed: int, now: dt.datetime) -> None:
    Round.objects.filter(pk=round.pk).update(committed_packs=committed)
    round.committed_packs = committed
    RoundVolumePoint.objects.create(round=round, at=now, committed_packs=committed)


def commitment_set(
    *,
    round: Round | int,
    actor: User,
    acting: Acting,
    packs: int,
    offer: Offer | int | None = None,
    delivery_site: DeliverySite | int | None = None,
    cost_centre: CostCentre | int | None = None,
) -> Commitment:
    """The acting trust commits `packs` to an open round, or changes its commitment (one per trust
    and round; after a withdrawal, committing again reuses it). Checked: the round is open, the trust
    in its audience, the actor a buyer, approver or trust admin there, the packs whole and within
    the actor's approval band at the round's highest tier price. `offer` picks the supplier when the
    round has several; the delivery site and cost centre default to the trust's first active ones."""
    packs = _whole(packs, field="packs")
    with transaction.atomic():
        locked = _locked(round)
        # The time is read under the lock: changes queued on it are checked against the close, and
        # their chart points recorded, in the order they happen.
        now = timezone.now()
        trust, roles = _committer(round=locked, actor=actor, acting=acting)
        _check_open(locked, now)
        current = Commitment.objects.filter(round=locked, trust=trust).first()
        offers = {
            ro.offer_id: ro.offer for ro in RoundOffer.objects.filter(round=locked).select_related("offer")
        }
        if offer is not None:
            chosen = offers.get(offer.pk if isinstance(offer, Offer) else offer)
            if chosen is None:
                raise DomainError("Choose one of the round's offers.", field="offer")
        elif current is not None:
            chosen = offers[current.offer_id]
        elif len(offers) == 1:
            chosen = next(iter(offers.values()))
        else:
            raise DomainError("Choose the supplier's offer you commit through.", field="offer")
        if packs < chosen.min_order_packs:
            raise DomainError(
                f"The minimum order of this offer is {chosen.min_order_packs} packs.", field="packs"
            )
        _approval_check(round=locked, trust=trust, roles=roles, packs=packs)
        site, centre = _site_and_centre(
            trust=trust, delivery_site=delivery_site, cost_centre=cost_centre, current=current
        )
        before = current.packs if current is not None and current.withdrawn_at is None else 0
        if current is None:
            current = Commitment.objects.create(
                round=locked,
                trust=trust,
                offer=chosen,
                packs=packs,
                committed_by=actor,
                delivery_site=site,
                cost_centre=centre,
            )
        else:
            current.offer, current.packs, current.committed_by = chosen, packs, actor
            current.delivery_site, current.cost_centre, current.withdrawn_at = site, centre, None
            current.save(
                update_fields=[
                    "offer",
                    "packs",
                    "committed_by",
                    "delivery_site",
                    "cost_centre",
                    "withdrawn_at",
                    "updated_at",
                ]
            )
        _volume_changed(locked, locked.committed_packs - before + packs, now)
        audit.record(
            kind=ROUND_COMMITTED,
            actor=actor,
            organisation_id=trust.pk,
            subject=locked.reference,
            data={"round": locked.pk, "packs": packs, "before": before, "offer": chosen.pk},
        )
    return current


def commitment_withdraw(*, round: Round | int, actor: User, acting: Acting) -> Commitment:
    """The acting trust withdraws its commitment before the close (it may commit again later)."""
    with transaction.atomic():
        locked = _locked(round)
        now = timezone.now()  # under the lock, as in commitment_set
        trust, _ = _committer(round=locked, actor=actor, acting=acting)
        _check_open(locked, now)
        current = Commitment.objects.filter(round=locked, trust=trust, withdrawn_at__isnull=True).first()
        if current is None:
            raise NotFound(f"{trust.name} has no commitment to {locked.reference}.", field="round")
        current.withdrawn_at = now
        current.save(update_fields=["withdrawn_at", "updated_at"])
        _volume_changed(locked, locked.committed_packs - current.packs, now)
        audit.record(
            kind=ROUND_WITHDRAWN,
            actor=actor,
            organisation_id=trust.pk,
            subject=locked.reference,
            data={"round": locked.pk, "packs": current.packs},
        )
    return current


# --- Close -----------------------------------------------------------------------------------


class _Committed(NamedTuple):
    """An active commitment as the close reads it (a row, not an instance)."""

    pk: int
    trust_id: int
    offer_id: int
    packs: int
    committed_by_id: int
    delivery_site_id: int
    cost_centre_id: int
    by_approver: bool


def _close(*, round_id: int, now: dt.datetime) -> tuple[Round, bool]:
    """Close the round if it is open and due; (the round, whether this call closed it)."""
    with transaction.atomic():
        locked = _locked(round_id)
        if locked.status != RoundStatus.OPEN or locked.closes_at > now:
            return locked, False  # closed already (a retry, another worker), or not due
        # Rows, and each offer loaded once: a round of hundreds of trusts has one or a few offers.
        # Whether the committer is an approver of the trust comes with each row.
        commitments = [
            _Committed(*row)
            for row in Commitment.objects.filter(round=locked, withdrawn_at__isnull=True)
            .annotate(
                by_approver=Exists(
                    Membership.objects.filter(
                        user_id=OuterRef("committed_by_id"),
                        organisation_id=OuterRef("trust_id"),
                        role=Role.APPROVER,
                    )
                )
            )
            .order_by("trust_id")
            .values_list(
                "pk",
                "trust_id",
                "offer_id",
                "packs",
                "committed_by_id",
                "delivery_site_id",
                "cost_centre_id",
                "by_approver",
            )
        ]
        total = sum(c.packs for c in commitments)
        if total != locked.committed_packs:  # both written under this lock: never expected
            logger.error(
                "round %s: kept total %s, commitments sum %s", locked.pk, locked.committed_packs, total
            )
        reached = tier_for(round_tiers(locked), total)
        locked.committed_packs, locked.closed_at = total, now
        if total < locked.minimum_packs or reached is None:
            locked.status = RoundStatus.CLOSED_UNMET
            locked.save(update_fields=["status", "committed_packs", "closed_at"])
        else:
            locked.status, locked.final_pack_price = RoundStatus.CLOSED_MET, reached.pack_price
            locked.save(update_fields=["status", "committed_packs", "closed_at", "final_pack_price"])
            offers = Offer.objects.select_related("product").in_bulk({c.offer_id for c in commitments})
            placements = [
                Placement(
                    trust_id=c.trust_id,
                    buyer_id=c.committed_by_id,
                    key=f"round:{locked.reference}",  # unique per trust: placed once
                    delivery_site_id=c.delivery_site_id,
                    cost_centre_id=c.cost_centre_id,
                    lines=(
                        PlacedLine(
                            offer=offers[c.offer_id],
                            packs=c.packs,
                            pack_price=reached.pack_price,
                            price_source=POOLED,
                            price_reference=locked.reference,
                        ),
                    ),
                    # The commitment passed the committer's band at a price at least this one.
                    approvals_given=1 if c.by_approver else 0,
                    note=f"Pooled purchasing round {locked.reference}: {locked.title}"[:MAX_NOTE_LENGTH],
                )
                for c in commitments
            ]
            placed = orders_place(placements=placements)
            # Each commitment takes its trust's order (answered in the placements' order).
            set_column(Commitment, "order_id", {c.pk: o.pk for c, o in zip(commitments, placed, strict=True)})
            # Now (this process reads its own write) and on commit (a read in between kept the old).
            pooled.pooled_changed()
            transaction.on_commit(pooled.pooled_changed)
        audit.record(
            kind=ROUND_CLOSED,
            organisation_id=locked.proposed_by_organisation_id,
            subject=locked.reference,
            data={
                "round": locked.pk,
                "status": locked.status,
                "committed_packs": total,
                "participants": len(commitments),
                **(
                    {"pack_price": str(locked.final_pack_price)}
                    if locked.final_pack_price is not None
                    else {}
                ),
            },
        )
        _queue_outcome(locked.pk)
    return locked, True


def round_close(*, round_id: int, now: dt.datetime | None = None) -> Round:
    """Close a round at (or after) its closing time, exactly once. Minimum met: the tier the total
    reached sets one pack price for all, and each committing trust gets a purchase order at it
    through `purchasing.services.orders_place` (numbering, approval bands, events, audit, the
    supplier's email), its line's price source "pooled" with the round's reference. Not met: the
    participants are told and nothing is ordered. A round already closed, or not yet due, is
    answered unchanged."""
    return _close(round_id=round_id, now=now or timezone.now())[0]


def rounds_close_due(*, now: dt.datetime | None = None) -> list[int]:
    """Close every open round whose closing time has come (the beat task); the ids this call closed.
    Each round closes in its own transaction, so one round's failure does not hold back the rest."""
    now = now or timezone.now()
    due = list(
        Round.objects.filter(status=RoundStatus.OPEN, closes_at__lte=now)
        .order_by("closes_at", "id")
        .values_list("pk", flat=True)
    )
    closed = []
    for round_id in due:
        try:
            _, done = _close(round_id=round_id, now=now)
        except Exception:
            logger.exception("round %s could not be closed; the next run tries again", round_id)
            continue
        if done:
            closed.append(round_id)
    return closed


# --- The outcome, told ------------------------------------------------------------------------


def _queue_outcome(round_id: int) -> None:
    def queue() -> None:
        from purchasing.rounds.tasks import round_outcome_notify

        round_outcome_notify.delay(round_id)

    transaction.on_commit(queue)


def round_outcome_recipients(*, round: Round) -> list[str]:
    """Who hears a round's outcome: each participant (whoever made the commitment; for a cancelled
    round, the commitments its cancellation ended) and the staff of the round's suppliers."""
    if round.status == RoundStatus.CANCELLED:
        # The commitments the cancellation ended (withdrawn at that moment), not earlier withdrawals.
        committed = Commitment.objects.filter(
            round=round, withdrawn_at=round.closed_at, committed_by__is_active=True
        )
    else:
        committed = Commitment.objects.filter(
            round=round, withdrawn_at__isnull=True, committed_by__is_active=True
        )
    people = set(committed.values_list("committed_by__email", flat=True))
    people |= set(
        Membership.objects.filter(
            organisation__offers__round_offers__round=round,
            role__in=SUPPLIER_ROLES,
            user__is_active=True,
        ).values_list("user__email", flat=True)
    )
    return sorted(people)


def round_outcome_notify(*, round_id: int) -> int:
    """Email a closed or cancelled round's outcome to its participants and suppliers, once."""
    with transaction.atomic():
        found = (
            Round.objects.select_for_update().filter(pk=round_id, outcome_notified_at__isnull=True).first()
        )
        if found is None or found.status not in (
            RoundStatus.CLOSED_MET,
            RoundStatus.CLOSED_UNMET,
            RoundStatus.CANCELLED,
        ):
            return 0
        recipients = round_outcome_recipients(round=found)
        if found.status == RoundStatus.CLOSED_MET:
            outcome = (
                f"The round met its minimum with {found.committed_packs:,} packs: every participant pays "
                f"{Money(found.final_pack_price)} a pack (excluding VAT). Each trust's purchase order "
                "has been placed and follows its usual approval."
            )
        elif found.status == RoundStatus.CLOSED_UNMET:
            outcome = (
                f"The round closed with {found.committed_packs:,} packs, short of its minimum of "
                f"{found.minimum_packs:,}. Nothing has been ordered."
            )
        else:
            outcome = f"The round was cancelled: {found.decision_note}. Nothing has been ordered."
        subject = f"{found.reference}: {found.get_status_display()}"
        body = f"Purchasing round {found.reference}, {found.title}.\n{outcome}\n"
        sent = (
            send_mass_mail(
                [(subject, body, django_settings.DEFAULT_FROM_EMAIL, [address]) for address in recipients],
                fail_silently=False,
            )
            if recipients
            else 0
        )
        Round.objects.filter(pk=found.pk).update(outcome_notified_at=timezone.now())
    return sent
