"""Rounds: a supplier proposes, the marketplace team approves, trusts commit, change and withdraw."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from common.errors import Conflict, DomainError, NotFound, PermissionDenied
from common.models import AuditEvent
from organisations.models import Region
from purchasing.models import Commitment, Round, RoundAudience, RoundStatus, RoundVolumePoint
from purchasing.rounds import selectors, services
from tests.catalogue.factories import OfferFactory
from tests.purchasing.factories import acting
from tests.purchasing.rounds.factories import TIERS, round_on


def proposal(pool, **changes):
    now = timezone.now()
    values = {
        "product": pool.offer.product,
        "offers": [pool.offer],
        "title": "Stockings for the winter",
        "description": "Thigh length, medium.",
        "opens_at": now,
        "closes_at": now + dt.timedelta(days=14),
        "delivery_from": timezone.localdate() + dt.timedelta(days=15),
        "delivery_to": timezone.localdate() + dt.timedelta(days=120),
        "minimum_packs": 100,
        "tiers": list(TIERS),
        "audience": RoundAudience.ALL,
    }
    values.update(changes)
    return values


def propose(pool, **changes):
    return services.round_propose(
        actor=pool.supplier_staff, acting=acting(pool.supplier), **proposal(pool, **changes)
    )


# --- Proposing -----------------------------------------------------------------------------------


def test_a_supplier_proposes_a_round_and_the_marketplace_team_opens_it(pool):
    made = propose(pool)

    assert made.status == RoundStatus.PROPOSED
    assert made.reference == f"RND-{made.pk:06d}"
    assert [(t.min_packs, t.pack_price) for t in selectors.round_tiers(made)] == list(TIERS)
    assert made.list_pack_price == Decimal("10.00")
    assert list(selectors.rounds_proposed()) == [made]
    # Trusts do not see a round before it is approved.
    assert not selectors.rounds_open_for(acting=acting(pool.leeds.organisation)).exists()

    services.round_approve(round=made, actor=pool.staff)

    made.refresh_from_db()
    assert (made.status, made.approved_by) == (RoundStatus.OPEN, pool.staff)
    assert list(selectors.rounds_open_for(acting=acting(pool.leeds.organisation))) == [made]
    assert AuditEvent.objects.filter(kind="purchasing.round_approved", subject=made.reference).exists()


def test_only_the_marketplace_team_approves_or_rejects(pool):
    made = propose(pool)
    with pytest.raises(PermissionDenied):
        services.round_approve(round=made, actor=pool.supplier_staff)
    services.round_reject(round=made, actor=pool.staff, reason="The first tier is above the list price.")
    made.refresh_from_db()
    assert (made.status, made.decision_note) == (
        RoundStatus.REJECTED,
        "The first tier is above the list price.",
    )
    with pytest.raises(Conflict):
        services.round_approve(round=made, actor=pool.staff)


def test_a_trust_admin_may_propose_a_round_but_a_buyer_may_not(pool):
    leeds = pool.leeds
    made = services.round_propose(actor=leeds.admin, acting=acting(leeds.organisation), **proposal(pool))
    assert made.proposed_by_organisation == leeds.organisation
    with pytest.raises(PermissionDenied):
        services.round_propose(actor=leeds.buyer, acting=acting(leeds.organisation), **proposal(pool))


@pytest.mark.parametrize(
    "tiers, message",
    [
        ([], "at least one tier"),
        ([(100, Decimal("9.00")), (100, Decimal("8.00"))], "rise in volume"),
        ([(200, Decimal("9.00")), (100, Decimal("8.00"))], "rise in volume"),
        ([(100, Decimal("9.00")), (200, Decimal("9.00"))], "fall in price"),
        ([(100, Decimal("8.00")), (200, Decimal("9.00"))], "fall in price"),
        ([(150, Decimal("9.00"))], "at or below the minimum"),
        ([(0, Decimal("9.00"))], "whole number"),
        ([(100, Decimal("0"))], "more than £0"),
        ([(100, Decimal("9.001"))], "to the penny"),
    ],
)
def test_a_tier_table_that_does_not_rise_in_volume_and_fall_in_price_is_refused(pool, tiers, message):
    with pytest.raises(DomainError) as refused:
        propose(pool, tiers=tiers)
    assert refused.value.field == "tiers"
    assert message in refused.value.message
    assert not Round.objects.exists()


def test_a_supplier_proposes_on_its_own_offers_only(pool):
    someone_elses = OfferFactory(product=pool.offer.product)
    with pytest.raises(DomainError) as refused:
        propose(pool, offers=[pool.offer, someone_elses])
    assert refused.value.field == "offers"
    assert not Round.objects.exists()


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"title": "  "}, "title"),
        ({"minimum_packs": 0}, "minimum_packs"),
        ({"minimum_packs": 2.5}, "minimum_packs"),
        ({"closes_at": timezone.now() - dt.timedelta(hours=1)}, "closes_at"),
        ({"delivery_from": timezone.localdate()}, "delivery_from"),
        ({"audience": RoundAudience.REGION}, "region"),
        ({"audience": RoundAudience.INVITED}, "invited"),
        ({"audience": "everyone"}, "audience"),
    ],
)
def test_bad_proposals_name_the_field_and_change_nothing(pool, changes, field):
    with pytest.raises(DomainError) as refused:
        propose(pool, **changes)
    assert refused.value.field == field
    assert not Round.objects.exists()


# --- Committing ------------------------------------------------------------------------------------


def commit(trust, round, packs, person=None, **kwargs):
    return services.commitment_set(
        round=round, actor=person or trust.approver, acting=acting(trust.organisation), packs=packs, **kwargs
    )


def test_a_trust_commits_changes_and_withdraws_and_the_total_follows(pool):
    stockings = round_on(pool.offer)
    leeds, nottingham = pool.trusts[0], pool.trusts[1]

    first = commit(leeds, stockings, 60, person=leeds.buyer)
    commit(nottingham, stockings, 70)
    stockings.refresh_from_db()
    assert stockings.committed_packs == 130
    assert (first.delivery_site.name, first.cost_centre.code) == ("Main stores", "THR01")

    commit(leeds, stockings, 90, person=leeds.buyer)
    stockings.refresh_from_db()
    assert stockings.committed_packs == 160
    assert Commitment.objects.filter(round=stockings, trust=leeds.organisation).count() == 1

    withdrawn = services.commitment_withdraw(
        round=stockings, actor=leeds.buyer, acting=acting(leeds.organisation)
    )
    assert withdrawn.withdrawn_at is not None
    stockings.refresh_from_db()
    assert stockings.committed_packs == 70

    again = commit(leeds, stockings, 20, person=leeds.buyer)
    assert again.pk == first.pk and again.withdrawn_at is None
    stockings.refresh_from_db()
    assert stockings.committed_packs == 90
    assert list(
        RoundVolumePoint.objects.filter(round=stockings).values_list("committed_packs", flat=True)
    ) == [
        60,
        130,
        160,
        70,
        90,
    ]


@pytest.mark.parametrize("packs", [0, -5, 2.5, Decimal("3"), "10", True, None])
def test_a_quantity_that_is_not_a_whole_positive_number_is_refused(pool, packs):
    stockings = round_on(pool.offer)
    with pytest.raises(DomainError) as refused:
        commit(pool.leeds, stockings, packs)
    assert refused.value.field == "packs"
    stockings.refresh_from_db()
    assert stockings.committed_packs == 0
    assert not Commitment.objects.exists()


def test_committing_after_the_close_is_refused_and_changes_nothing(pool):
    stockings = round_on(pool.offer)
    commit(pool.leeds, stockings, 50)
    Round.objects.filter(pk=stockings.pk).update(closes_at=timezone.now() - dt.timedelta(seconds=1))

    with pytest.raises(Conflict) as refused:
        commit(pool.leeds, stockings, 80)
    assert (refused.value.field, refused.value.code) == ("round", "round_closed")
    with pytest.raises(Conflict):
        services.commitment_withdraw(
            round=stockings, actor=pool.leeds.approver, acting=acting(pool.leeds.organisation)
        )
    stockings.refresh_from_db()
    assert stockings.committed_packs == 50
    assert Commitment.objects.get().packs == 50


def test_a_round_not_yet_open_or_not_approved_takes_no_commitment(pool):
    later = round_on(pool.offer, opens_at=timezone.now() + dt.timedelta(days=1))
    with pytest.raises(Conflict) as refused:
        commit(pool.leeds, later, 10)
    assert refused.value.code == "round_not_open_yet"
    proposed = round_on(pool.offer, status=RoundStatus.PROPOSED)
    with pytest.raises(Conflict):
        commit(pool.leeds, proposed, 10)
    assert not Commitment.objects.exists()


def test_a_trust_outside_the_audience_cannot_commit(pool):
    london_only = round_on(pool.offer, audience=RoundAudience.REGION, region=Region.LONDON)
    leeds, guys = pool.trusts[0], pool.trusts[2]

    with pytest.raises(PermissionDenied) as refused:
        commit(leeds, london_only, 10)
    assert (refused.value.field, refused.value.code) == ("round", "not_in_audience")
    assert commit(guys, london_only, 10).packs == 10

    invited = round_on(pool.offer, audience=RoundAudience.INVITED)
    invited.invited.set([pool.trusts[1].organisation])
    with pytest.raises(PermissionDenied):
        commit(leeds, invited, 10)
    assert commit(pool.trusts[1], invited, 10).packs == 10
    assert Commitment.objects.filter(trust=leeds.organisation).count() == 0
    # Nor does it see them (a 404 through the pages and the API).
    with pytest.raises(NotFound):
        selectors.round_for(acting=acting(leeds.organisation), round_id=london_only.pk)


def test_one_commitment_per_trust_and_round_is_held_by_the_database(pool):
    stockings = round_on(pool.offer)
    first = commit(pool.leeds, stockings, 10)
    with pytest.raises(IntegrityError), transaction.atomic():
        Commitment.objects.create(
            round=stockings,
            trust=pool.leeds.organisation,
            offer=pool.offer,
            packs=5,
            committed_by=pool.leeds.buyer,
            delivery_site=first.delivery_site,
            cost_centre=first.cost_centre,
        )


def test_a_commitment_passes_the_committers_band_at_the_highest_tier_price(pool):
    """The trust's defaults: no approval up to £1,000, one approver up to £25,000. At the worst-case
    £9.00 a pack a buyer may commit 111 packs (£999) alone, not 112 (£1,008)."""
    stockings = round_on(pool.offer)
    leeds = pool.leeds

    assert commit(leeds, stockings, 111, person=leeds.buyer).packs == 111
    with pytest.raises(DomainError) as refused:
        commit(leeds, stockings, 112, person=leeds.buyer)
    assert (refused.value.field, refused.value.code) == ("packs", "above_approval_limit")
    assert "at most 111 packs" in refused.value.message

    # An approver may commit up to the one-approver band (2,777 packs is £24,993), not beyond.
    assert commit(leeds, stockings, 2777).packs == 2777
    with pytest.raises(DomainError) as refused:
        commit(leeds, stockings, 2778)
    assert refused.value.field == "packs"
    stockings.refresh_from_db()
    assert stockings.committed_packs == 2777


def test_only_the_trusts_people_commit_for_it(pool):
    stockings = round_on(pool.offer)
    with pytest.raises(PermissionDenied):
        services.commitment_set(
            round=stockings, actor=pool.trusts[1].buyer, acting=acting(pool.leeds.organisation), packs=10
        )
    with pytest.raises(PermissionDenied):
        services.commitment_set(
            round=stockings, actor=pool.supplier_staff, acting=acting(pool.supplier), packs=10
        )
    assert not Commitment.objects.exists()


def test_a_round_of_several_suppliers_offers_asks_which_one(pool):
    stockings = round_on(pool.offer)
    other = OfferFactory(product=pool.offer.product, pack_price=Decimal("10.50"))
    stockings.round_offers.create(offer=other)
    with pytest.raises(DomainError) as refused:
        commit(pool.leeds, stockings, 10)
    assert refused.value.field == "offer"
    assert commit(pool.leeds, stockings, 10, offer=other).offer == other
    with pytest.raises(DomainError) as refused:
        commit(pool.leeds, stockings, 10, offer=OfferFactory(product=pool.offer.product))
    assert refused.value.field == "offer"


# --- The live view ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "total, reached, following, to_next",
    [
        (0, None, 100, 100),
        (99, None, 100, 1),
        (100, Decimal("9.00"), 200, 100),
        (199, Decimal("9.00"), 200, 1),
        (200, Decimal("8.00"), 500, 300),
        (499, Decimal("8.00"), 500, 1),
        (500, Decimal("7.00"), None, None),
        (2000, Decimal("7.00"), None, None),
    ],
)
def test_the_live_view_shows_the_tier_reached_and_what_the_next_one_needs(
    pool, total, reached, following, to_next
):
    stockings = round_on(pool.offer, committed_packs=total)
    live = selectors.round_live(round=stockings, acting=acting(pool.leeds.organisation))
    assert live.price_now == reached
    assert (live.tier_reached.pack_price if live.tier_reached else None) == reached
    assert (live.next_tier.min_packs if live.next_tier else None) == following
    assert live.packs_to_next_tier == to_next
    assert live.saving_vs_list == (Decimal("10.00") - reached if reached else None)
    assert live.worst_case_pack_price == Decimal("9.00")


def test_the_live_view_reads_in_a_fixed_number_of_queries(pool, django_assert_max_num_queries):
    stockings = round_on(pool.offer)
    for trust in pool.trusts:
        commit(trust, stockings, 40)
    found = selectors.round_for(acting=acting(pool.leeds.organisation), round_id=stockings.pk)
    with django_assert_max_num_queries(4):
        live = selectors.round_live(round=found, acting=acting(pool.leeds.organisation))
    assert (live.committed_packs, live.participants, live.trust_commitment.packs) == (160, 4, 40)
    assert [packs for _, packs in live.points] == [40, 80, 120, 160]
    assert live.seconds_left > 6 * 24 * 3600
