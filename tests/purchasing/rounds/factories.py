"""Factories and story helpers for the rounds' tests (purchasing, catalogue and organisations reused)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from purchasing.models import Commitment, Round, RoundOffer, RoundStatus, RoundTier
from tests.catalogue.factories import OfferFactory, ProductFactory
from tests.organisations.factories import SupplierFactory, UserFactory
from tests.purchasing.factories import CostCentreFactory, DeliverySiteFactory


class RoundFactory(factory.django.DjangoModelFactory):
    """An approved round, open now for a week (rows written directly: the services are under test)."""

    class Meta:
        model = Round

    reference = factory.Sequence(lambda n: f"RND-{n + 900000:06d}")
    title = factory.Sequence(lambda n: f"Stockings round {n}")
    product = factory.SubFactory(ProductFactory)
    proposed_by_organisation = factory.SubFactory(SupplierFactory)
    proposed_by = factory.SubFactory(UserFactory)
    status = RoundStatus.OPEN
    opens_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))
    closes_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=7))
    delivery_from = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=8))
    delivery_to = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=98))
    minimum_packs = 100
    list_pack_price = Decimal("10.00")


class RoundTierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoundTier

    round = factory.SubFactory(RoundFactory)
    min_packs = 100
    pack_price = Decimal("9.00")


class RoundOfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoundOffer

    round = factory.SubFactory(RoundFactory)
    offer = factory.SubFactory(OfferFactory)


class CommitmentFactory(factory.django.DjangoModelFactory):
    """A trust's commitment written directly (its round's total is the caller's business)."""

    class Meta:
        model = Commitment

    round = factory.SubFactory(RoundFactory)
    trust = factory.LazyAttribute(lambda o: o.delivery_site.trust)
    offer = factory.LazyAttribute(lambda o: o.round.round_offers.first().offer)
    packs = 10
    committed_by = factory.SubFactory(UserFactory)
    delivery_site = factory.SubFactory(DeliverySiteFactory)
    cost_centre = factory.LazyAttribute(lambda o: CostCentreFactory(trust=o.delivery_site.trust))


TIERS = ((100, Decimal("9.00")), (200, Decimal("8.00")), (500, Decimal("7.00")))


def round_on(offer, *, tiers=TIERS, minimum_packs: int = 100, **kwargs) -> Round:
    """An open round on one offer with its tier table (the list price is the offer's)."""
    made = RoundFactory(
        product=offer.product,
        proposed_by_organisation=offer.supplier,
        minimum_packs=minimum_packs,
        list_pack_price=offer.pack_price,
        **kwargs,
    )
    RoundOfferFactory(round=made, offer=offer)
    for min_packs, price in tiers:
        RoundTierFactory(round=made, min_packs=min_packs, pack_price=price)
    return made
