"""A trust admin sets where goods go, what they are charged to, the approval bands and tolerance."""

from __future__ import annotations

from decimal import Decimal

import pytest

from common.errors import DomainError, PermissionDenied
from common.models import AuditEvent
from common.money import Money
from purchasing import selectors, services
from tests.purchasing.factories import acting


def test_a_trust_without_settings_has_the_default_bands_and_tolerance(market):
    bands = selectors.approval_bands(trust=market.trust)
    assert bands.one_approver_above == Money("1000.00")
    assert bands.two_approvers_above == Money("25000.00")
    tolerance = selectors.match_tolerance(trust=market.trust)
    assert tolerance.percent == Decimal("2.00") and tolerance.amount == Money("1.00")


def test_the_trust_admin_sets_the_bands_and_tolerance_and_it_is_audited(market):
    services.purchasing_settings_update(
        trust=market.trust,
        actor=market.admin,
        acting=acting(market.trust),
        one_approver_above=Decimal("500"),
        two_approvers_above=Decimal("10000"),
        price_tolerance_percent=Decimal("0"),
        price_tolerance_amount=Decimal("0.50"),
    )
    bands = selectors.approval_bands(trust=market.trust)
    assert (bands.one_approver_above, bands.two_approvers_above) == (Money("500"), Money("10000"))
    assert selectors.match_tolerance(trust=market.trust).amount == Money("0.50")
    assert AuditEvent.objects.filter(
        kind="purchasing.settings_changed", organisation_id=market.trust.pk
    ).exists()


def test_bands_out_of_order_are_refused_naming_the_field(market):
    with pytest.raises(DomainError) as error:
        services.purchasing_settings_update(
            trust=market.trust,
            actor=market.admin,
            acting=acting(market.trust),
            one_approver_above=Decimal("5000"),
            two_approvers_above=Decimal("1000"),
            price_tolerance_percent=Decimal("1"),
            price_tolerance_amount=Decimal("1"),
        )
    assert error.value.field == "two_approvers_above"


@pytest.mark.parametrize("who", ["buyer", "approver"])
def test_only_a_trust_admin_changes_settings(market, who):
    with pytest.raises(PermissionDenied):
        services.cost_centre_create(
            trust=market.trust,
            actor=getattr(market, who),
            acting=acting(market.trust),
            code="X1",
            name="Wards",
        )


def test_an_admin_of_another_trust_cannot_change_this_trusts_settings(market):
    from organisations.models import Role
    from tests.organisations.factories import member

    other_admin = member(Role.TRUST_ADMIN, market.other_trust)
    with pytest.raises(PermissionDenied):
        services.delivery_site_create(
            trust=market.trust,
            actor=other_admin,
            acting=acting(market.other_trust),
            name="Back door",
            address="1 Road",
            postcode="LS1 1AA",
        )


def test_a_delivery_site_with_a_wrong_gln_is_refused_and_a_good_one_kept(market):
    with pytest.raises(DomainError) as error:
        services.delivery_site_create(
            trust=market.trust,
            actor=market.admin,
            acting=acting(market.trust),
            name="Ward 12 store",
            address="Ward 12",
            postcode="ls1 3ex",
            gln="5012345000009",
        )
    assert error.value.field == "gln"
    site = services.delivery_site_create(
        trust=market.trust,
        actor=market.admin,
        acting=acting(market.trust),
        name="Ward 12 store",
        address="Ward 12",
        postcode="ls1 3ex",
        gln="5012345000008",
    )
    assert site.postcode == "LS1 3EX" and site.gln == "5012345000008"
    assert list(selectors.delivery_sites(trust=market.trust).values_list("name", flat=True)) == [
        "Main stores",
        "Ward 12 store",
    ]


def test_cost_centre_codes_are_unique_within_the_trust_and_can_be_retired(market):
    with pytest.raises(DomainError) as error:
        services.cost_centre_create(
            trust=market.trust, actor=market.admin, acting=acting(market.trust), code="thr01", name="Again"
        )
    assert error.value.field == "code"
    services.cost_centre_change(
        centre=market.centre,
        actor=market.admin,
        acting=acting(market.trust),
        name="Theatres",
        is_active=False,
    )
    assert not selectors.cost_centres(trust=market.trust).exists()
    assert selectors.cost_centres(trust=market.trust, include_inactive=True).count() == 1


@pytest.mark.parametrize("value", ["-1", "1.001", "1000000000", "NaN", "lots", 1.5])
def test_a_tolerance_that_is_not_an_amount_of_money_is_refused_naming_it(market, value):
    with pytest.raises(DomainError) as error:
        services.purchasing_settings_update(
            trust=market.trust,
            actor=market.admin,
            acting=acting(market.trust),
            one_approver_above=Decimal("1000"),
            two_approvers_above=Decimal("25000"),
            price_tolerance_percent=Decimal("1"),
            price_tolerance_amount=value,
        )
    assert error.value.field == "price_tolerance_amount"
