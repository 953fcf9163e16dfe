"""A supplier gives Leeds a contract price for its offer: Leeds pays it between its dates, nobody
else does, the basket and checkout use it and the order line says where the price came from."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import TestCase
from django.utils import timezone

from catalogue.models import Offer
from catalogue.strategy import Strategy, buyer_price
from common.errors import Conflict, DomainError, NotFound, PermissionDenied
from common.models import AuditEvent
from organisations.models import Role
from purchasing import selectors, services
from purchasing.agreements import services as agreements
from purchasing.agreements.sources import CONTRACT, CONTRACT_LABEL
from purchasing.models import NegotiatedPrice, NegotiatedPriceTrust
from tests.catalogue.factories import VolumeTierFactory
from tests.organisations.factories import TrustFactory, member
from tests.purchasing.factories import acting, negotiated_price

TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def _the_clock_stays_on_today(time_machine):
    """TODAY is read when the module is imported: the clock stays on that day (at noon, ticking), so a
    suite running across midnight does not find today's prices already ended."""
    time_machine.move_to(timezone.make_aware(dt.datetime.combine(TODAY, dt.time(12))), tick=True)


DAY = dt.timedelta(days=1)


@pytest.fixture
def alpha_offer(market):
    return market.offers[0]  # Alpha Medical's, £10.00 a pack


def test_a_contract_price_beats_the_list_price_for_its_trust_only(market, alpha_offer):
    negotiated_price(offer=alpha_offer, trusts=[market.trust], pack_price=Decimal("8.75"))

    leeds = buyer_price(offer=alpha_offer, buyer=market.trust)
    assert (leeds.source, leeds.pack_price) == (CONTRACT, Decimal("8.75"))
    assert (leeds.source_label, leeds.source_reference) == (CONTRACT_LABEL, "NHSSC-TEST-2026-001")
    assert leeds.list_pack.amount == Decimal("10.00")  # the list price is data, not edited

    nottingham = buyer_price(offer=alpha_offer, buyer=market.other_trust)
    assert (nottingham.source, nottingham.pack_price) == ("list", Decimal("10.00"))
    assert buyer_price(offer=alpha_offer).source == "list"  # nobody in particular
    assert buyer_price(offer=market.offers[1], buyer=market.trust).source == "list"  # another offer


def test_a_group_of_trusts_shares_one_contract_price(market, alpha_offer):
    york = TrustFactory(name="York and Scarborough Teaching Hospitals")
    negotiated_price(offer=alpha_offer, trusts=[market.trust, york], pack_price=Decimal("9.10"))
    assert buyer_price(offer=alpha_offer, buyer=york).pack_price == Decimal("9.10")
    assert buyer_price(offer=alpha_offer, buyer=market.trust).pack_price == Decimal("9.10")


def test_the_contract_price_applies_from_its_first_to_its_last_day_inclusive(market, alpha_offer):
    first, last = TODAY + 10 * DAY, TODAY + 40 * DAY
    negotiated_price(offer=alpha_offer, trusts=[market.trust], valid_from=first, valid_to=last)

    def source_on(day):
        return buyer_price(offer=alpha_offer, buyer=market.trust, on_date=day).source

    assert source_on(first - DAY) == "list"
    assert source_on(first) == CONTRACT
    assert source_on(last) == CONTRACT
    assert source_on(last + DAY) == "list"


def test_a_volume_tier_lower_than_the_contract_price_still_wins(market, alpha_offer):
    VolumeTierFactory(offer=alpha_offer, min_packs=50, pack_price=Decimal("7.00"))
    negotiated_price(offer=alpha_offer, trusts=[market.trust], pack_price=Decimal("8.00"))
    assert buyer_price(offer=alpha_offer, buyer=market.trust, quantity=10).source == CONTRACT
    assert buyer_price(offer=alpha_offer, buyer=market.trust, quantity=50).source == "volume_tier"


def test_a_withdrawn_contract_price_no_longer_applies_and_is_audited(market, alpha_offer):
    price = negotiated_price(offer=alpha_offer, trusts=[market.trust])
    staff = market.staff[0]
    agreements.negotiated_price_withdraw(
        actor=staff, acting=acting(alpha_offer.supplier), negotiated_price=price
    )

    assert buyer_price(offer=alpha_offer, buyer=market.trust).source == "list"
    price.refresh_from_db()
    assert price.withdrawn_at is not None
    assert list(
        AuditEvent.objects.filter(kind__startswith="purchasing.negotiated")
        .order_by("pk")
        .values_list("kind", flat=True)
    ) == [
        "purchasing.negotiated_price_set",
        "purchasing.negotiated_price_withdrawn",
    ]
    with pytest.raises(Conflict) as error:
        agreements.negotiated_price_withdraw(
            actor=staff, acting=acting(alpha_offer.supplier), negotiated_price=price
        )
    assert error.value.field == "negotiated_price"


def test_an_overlapping_price_for_the_same_trust_and_offer_is_refused_and_nothing_changes(
    market, alpha_offer
):
    negotiated_price(
        offer=alpha_offer,
        trusts=[market.trust],
        valid_from=TODAY,
        valid_to=TODAY + 30 * DAY,
        reference="FIRST",
    )
    with pytest.raises(Conflict) as error:
        negotiated_price(
            offer=alpha_offer,
            trusts=[market.other_trust, market.trust],
            valid_from=TODAY + 30 * DAY,  # the first's last day: dates are inclusive
            valid_to=TODAY + 60 * DAY,
            reference="SECOND",
        )
    assert error.value.field == "valid_from"
    assert "Leeds Teaching Hospitals NHS Trust" in error.value.message and "FIRST" in error.value.message
    assert list(NegotiatedPrice.objects.values_list("reference", flat=True)) == ["FIRST"]
    assert NegotiatedPriceTrust.objects.count() == 1

    # The day after, another trust, or once the first is withdrawn: allowed.
    negotiated_price(
        offer=alpha_offer, trusts=[market.trust], valid_from=TODAY + 31 * DAY, valid_to=TODAY + 60 * DAY
    )
    negotiated_price(
        offer=alpha_offer, trusts=[market.other_trust], valid_from=TODAY, valid_to=TODAY + 60 * DAY
    )
    first = NegotiatedPrice.objects.get(reference="FIRST")
    agreements.negotiated_price_withdraw(
        actor=market.staff[0], acting=acting(alpha_offer.supplier), negotiated_price=first
    )
    negotiated_price(offer=alpha_offer, trusts=[market.trust], valid_from=TODAY, valid_to=TODAY + 30 * DAY)


def test_another_supplier_cannot_set_a_price_on_an_offer_not_its_own(market, alpha_offer):
    beta, beta_staff = market.suppliers[1], market.staff[1]
    with pytest.raises(NotFound) as error:
        agreements.negotiated_price_set(
            actor=beta_staff,
            acting=acting(beta),
            offer=alpha_offer,
            trusts=[market.trust],
            pack_price=Decimal("1.00"),
            valid_from=TODAY,
            valid_to=TODAY + DAY,
            reference="POACH",
        )
    assert error.value.field == "offer"
    assert not NegotiatedPrice.objects.exists()


def test_only_the_suppliers_people_acting_for_it_may_set_or_withdraw(market, alpha_offer):
    price = negotiated_price(offer=alpha_offer, trusts=[market.trust])
    with pytest.raises(PermissionDenied):  # a trust's buyer
        agreements.negotiated_price_withdraw(
            actor=market.buyer, acting=acting(market.trust), negotiated_price=price
        )
    with pytest.raises(NotFound):  # another supplier's staff: not theirs to see
        agreements.negotiated_price_withdraw(
            actor=market.staff[1], acting=acting(market.suppliers[1]), negotiated_price=price
        )
    with pytest.raises(PermissionDenied):  # acting for the supplier without being one of its people
        agreements.negotiated_price_withdraw(
            actor=market.staff[1], acting=acting(alpha_offer.supplier), negotiated_price=price
        )
    assert NegotiatedPrice.objects.get().withdrawn_at is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"pack_price": Decimal("0")}, "pack_price"),
        ({"pack_price": Decimal("-1.00")}, "pack_price"),
        ({"pack_price": Decimal("9.999")}, "pack_price"),
        ({"pack_price": "lots"}, "pack_price"),
        ({"valid_from": TODAY + 5 * DAY, "valid_to": TODAY + 4 * DAY}, "valid_to"),
        ({"valid_from": TODAY - 10 * DAY, "valid_to": TODAY - DAY}, "valid_to"),
        ({"valid_from": "2026-01-01"}, "valid_from"),
        ({"trusts": []}, "trusts"),
        ({"reference": "  "}, "reference"),
        ({"reference": "R" * 101}, "reference"),
    ],
)
def test_bad_input_names_its_field_and_changes_nothing(market, alpha_offer, changes, field):
    given = {
        "offer": alpha_offer,
        "trusts": [market.trust],
        "pack_price": Decimal("9.00"),
        "valid_from": TODAY,
        "valid_to": TODAY + 30 * DAY,
        "reference": "NHSSC-DEMO-2026-014",
        **changes,
    }
    with pytest.raises(DomainError) as error:
        agreements.negotiated_price_set(actor=market.staff[0], acting=acting(alpha_offer.supplier), **given)
    assert error.value.field == field
    assert not NegotiatedPrice.objects.exists()


def test_a_price_names_only_trusts(market, alpha_offer):
    with pytest.raises(DomainError) as error:
        negotiated_price(offer=alpha_offer, trusts=[market.trust, market.suppliers[1]])
    assert error.value.field == "trusts"


def test_the_basket_and_checkout_use_the_contract_price_and_the_order_line_records_it(market, alpha_offer):
    negotiated_price(
        offer=alpha_offer, trusts=[market.trust], pack_price=Decimal("8.50"), reference="NHSSC-DEMO-2026-014"
    )
    basket = services.basket_get_or_create(actor=market.buyer, acting=acting(market.trust))
    services.basket_line_add(basket=basket, actor=market.buyer, offer=alpha_offer, quantity=4)

    (group,) = selectors.basket_for(basket=basket).groups
    (line,) = group.lines
    assert (line.price.source_label, line.price.pack_price, line.seen_pack_price.amount) == (
        CONTRACT_LABEL,
        Decimal("8.50"),
        Decimal("8.50"),
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        (order,) = services.basket_checkout(
            basket=basket,
            actor=market.buyer,
            acting=acting(market.trust),
            idempotency_key="contract-1",
            orders=market.order_inputs([alpha_offer.supplier_id]),
        )
    line = order.lines.get()
    assert (line.pack_price, line.line_excl_vat) == (Decimal("8.50"), Decimal("34.00"))
    assert (line.price_source, line.price_reference) == (CONTRACT, "NHSSC-DEMO-2026-014")


def test_a_strategy_loads_a_trusts_contract_prices_once_for_many_offers(market, django_assert_num_queries):
    for offer in market.offers:
        negotiated_price(offer=offer, trusts=[market.trust], pack_price=Decimal("5.00"))
    offers = list(Offer.objects.select_related("supplier", "product__category").prefetch_related("tiers"))
    strategy = Strategy()
    # One query for the trust's contract prices and one for its pooled round prices (the other
    # registered source, purchasing.rounds.pooled), however many offers.
    with django_assert_num_queries(2):
        priced = strategy.prices(offers=offers, buyer=market.trust)
    assert {price.source for _, price in priced} == {CONTRACT}
    with django_assert_num_queries(0):
        strategy.prices(offers=offers, buyer=market.trust)  # loaded once per strategy


def test_a_supplier_staff_member_of_the_right_supplier_sets_a_price_for_several_trusts(market, alpha_offer):
    staff = member(Role.SUPPLIER_ADMIN, alpha_offer.supplier)
    price = negotiated_price(offer=alpha_offer, trusts=[market.trust.pk, market.other_trust.pk], staff=staff)
    assert sorted(price.trusts.values_list("name", flat=True)) == [
        "Leeds Teaching Hospitals NHS Trust",
        "Nottingham University Hospitals NHS Trust",
    ]
    assert price.created_by == staff and price.supplier == alpha_offer.supplier
    assert Offer.objects.get(pk=alpha_offer.pk).pack_price == Decimal("10.00")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_overlapping_prices_set_at_the_same_moment_give_one_price(market):
    """Two connections set overlapping prices for Leeds on one offer at once: the offer's row lock
    lets one in, and the other sees it and is refused, naming `valid_from`."""
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("row locks between connections are tested on PostgreSQL")
    offer = market.offers[0]
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def set_price(reference):
        try:
            barrier.wait(timeout=10)
            agreements.negotiated_price_set(
                actor=market.staff[0],
                acting=acting(offer.supplier),
                offer=offer.pk,
                trusts=[market.trust.pk],
                pack_price=Decimal("9.00"),
                valid_from=TODAY,
                valid_to=TODAY + 30 * DAY,
                reference=reference,
            )
            outcomes[reference] = "done"
        except DomainError as error:
            outcomes[reference] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=set_price, args=(name,)) for name in ("FIRST", "SECOND")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(name for name, outcome in outcomes.items() if outcome == "done") in (["FIRST"], ["SECOND"])
    loser = next(outcome for outcome in outcomes.values() if outcome != "done")
    assert isinstance(loser, Conflict) and loser.field == "valid_from"
    assert NegotiatedPrice.objects.count() == 1 and NegotiatedPriceTrust.objects.count() == 1


@pytest.mark.postgres
def test_postgresql_itself_refuses_two_live_overlapping_rows_for_a_trust_and_offer(market):
    """The exclusion constraint of migration 0003 backs the service: rows written around it clash."""
    from django.db import IntegrityError, connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("the exclusion constraint is PostgreSQL's")
    first = negotiated_price(offer=market.offers[0], trusts=[market.trust], valid_from=TODAY, valid_to=TODAY)
    with pytest.raises(IntegrityError), transaction.atomic():
        NegotiatedPriceTrust.objects.create(
            negotiated_price=first,
            trust=market.other_trust,
            offer=market.offers[0],
            valid_from=TODAY,
            valid_to=TODAY,
        )
        NegotiatedPriceTrust.objects.create(
            negotiated_price=negotiated_price(
                offer=market.offers[1], trusts=[market.trust], valid_from=TODAY, valid_to=TODAY
            ),
            trust=market.trust,
            offer=market.offers[0],
            valid_from=TODAY,
            valid_to=TODAY,
        )
    # Once the first is not live, the same trust, offer and day are free.
    NegotiatedPriceTrust.objects.filter(negotiated_price=first).update(live=False)
    other = negotiated_price(
        offer=market.offers[1], trusts=[market.other_trust], valid_from=TODAY, valid_to=TODAY
    )
    NegotiatedPriceTrust.objects.create(
        negotiated_price=other, trust=market.trust, offer=market.offers[0], valid_from=TODAY, valid_to=TODAY
    )
