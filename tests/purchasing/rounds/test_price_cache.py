"""Each trust's contract and pooled prices are kept in the shared cache under the trust and the day, so
a page pricing for Leeds asks the database once per change, not once per request. Leeds' kept prices
are never Nottingham's, and every way they change (set, withdrawn, a row edited in the back office, a
round closed) shows on the next price asked, from a warm cache."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalogue.strategy import buyer_price
from purchasing.agreements import services as agreements
from purchasing.agreements.sources import CONTRACT
from purchasing.models import NegotiatedPriceTrust
from purchasing.rounds import services as rounds
from tests.purchasing.factories import acting, negotiated_price
from tests.purchasing.rounds.factories import round_on

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def real_cache(settings):
    """A cache that really keeps things (its own location), as Redis does in production."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "price-cache"}
    }


@pytest.fixture
def alpha_offer(market):
    return market.offers[0]  # Alpha Medical's, £10.00 a pack


def price_for(offer, trust, **kwargs):
    price = buyer_price(offer=offer, buyer=trust, **kwargs)
    return price.source, price.pack_price


def test_a_trusts_kept_contract_prices_are_its_own_and_not_read_again_when_warm(market, alpha_offer):
    negotiated_price(offer=alpha_offer, trusts=[market.trust], pack_price=Decimal("8.75"))
    assert price_for(alpha_offer, market.trust) == (CONTRACT, Decimal("8.75"))  # kept for Leeds

    with CaptureQueriesContext(connection) as warm:
        assert price_for(alpha_offer, market.trust) == (CONTRACT, Decimal("8.75"))
    assert price_for(alpha_offer, market.other_trust) == ("list", Decimal("10.00"))
    # The offer's tiers are read (not prefetched here), the trust's prices are not.
    read = " ".join(query["sql"] for query in warm.captured_queries)
    assert "purchasing_negotiatedpricetrust" not in read and "purchasing_commitment" not in read


def test_a_contract_price_set_withdrawn_or_edited_shows_on_the_next_price_from_a_warm_cache(
    market, alpha_offer
):
    assert price_for(alpha_offer, market.trust) == ("list", Decimal("10.00"))  # warm: no contract
    price = negotiated_price(offer=alpha_offer, trusts=[market.trust], pack_price=Decimal("8.75"))
    assert price_for(alpha_offer, market.trust) == (CONTRACT, Decimal("8.75"))

    # A row edited in the back office (a save, as the admin does).
    row = NegotiatedPriceTrust.objects.get(negotiated_price=price, trust=market.trust)
    row.live = False
    row.save()
    assert price_for(alpha_offer, market.trust) == ("list", Decimal("10.00"))
    row.live = True
    row.save()
    assert price_for(alpha_offer, market.trust) == (CONTRACT, Decimal("8.75"))

    # Withdrawn through the service, whose bulk update sends no signal.
    agreements.negotiated_price_withdraw(
        actor=market.staff[0], acting=acting(alpha_offer.supplier), negotiated_price=price
    )
    assert price_for(alpha_offer, market.trust) == ("list", Decimal("10.00"))


def test_a_round_closed_shows_its_pooled_price_on_the_next_price_from_a_warm_cache(pool):
    stockings = round_on(pool.offer)
    leeds, nottingham = pool.trusts[:2]
    rounds.commitment_set(round=stockings, actor=leeds.approver, acting=acting(leeds.organisation), packs=500)
    delivery = stockings.delivery_from + dt.timedelta(days=1)
    for trust in (leeds, nottingham):  # both kept, before the close
        assert price_for(pool.offer, trust.organisation, on_date=delivery)[0] == "list"

    rounds.round_close(round_id=stockings.pk, now=stockings.closes_at + dt.timedelta(seconds=1))

    assert price_for(pool.offer, leeds.organisation, on_date=delivery) == ("pooled", Decimal("7.00"))
    assert price_for(pool.offer, nottingham.organisation, on_date=delivery)[0] == "list"
