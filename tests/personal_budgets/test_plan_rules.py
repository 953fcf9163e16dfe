"""The support plan's rules, each at its boundary, and the plan's versions and agreement."""

from __future__ import annotations

from decimal import Decimal

import pytest

from common.errors import Conflict, DomainError, PermissionDenied
from personal_budgets import selectors, services
from personal_budgets.models import SupportPlan
from purchasing.models import PurchaseOrder
from tests.catalogue.factories import OfferFactory
from tests.personal_budgets.conftest import zero_rated

pytestmark = pytest.mark.django_db


def test_an_item_in_a_category_below_the_plans_is_in_the_plan(world):
    world.give_budget(allocate="100.00")
    assert world.buy(world.walking_frame).created  # Walking aids sits under Mobility


def test_an_item_outside_the_plan_is_refused_naming_the_item(world):
    world.give_budget(allocate="100.00")
    with pytest.raises(DomainError) as refused:
        world.buy(world.kettle_tipper)
    assert refused.value.field == "offer" and refused.value.code == "not_in_plan"
    assert "Kettle tipper is not in your support plan" in refused.value.message
    assert not PurchaseOrder.objects.exists()


def test_an_item_not_sold_to_patients_is_refused(world):
    world.give_budget(allocate="100.00")
    trade_only = OfferFactory(
        product__category=world.mobility, patient_eligible=False, pack_price=Decimal("5")
    )
    with pytest.raises(DomainError) as refused:
        world.buy(trade_only)
    assert refused.value.field == "offer" and refused.value.code == "not_eligible"


def test_an_item_at_the_cap_needs_no_approval_and_a_penny_more_does(world):
    world.give_budget(allocate="1000.00", item_cap="60.00")
    at_cap = world.buy(world.walking_frame)
    assert at_cap.spend.approval_reasons == [] and not at_cap.waits_for_approval
    over = zero_rated(world.walking_aids, "Wheeled walker", "60.01", world.supplier)
    assert world.buy(over).waits_for_approval


def test_over_the_cap_is_refused_when_the_plan_allows_no_approval(world):
    world.give_budget(allocate="1000.00", item_cap="300.00", over_cap_with_approval=False)
    with pytest.raises(DomainError) as refused:
        world.buy(world.wheelchair)
    assert refused.value.field == "item_cap"
    assert "£400.00" in refused.value.message and "£300.00" in refused.value.message


def test_the_period_cap_allows_spending_up_to_it_and_not_a_penny_more(world):
    world.give_budget(allocate="1000.00", period_cap="120.00")
    world.buy(world.walking_frame)
    world.buy(world.walking_frame)  # £120 exactly
    penny = zero_rated(world.walking_aids, "Rubber ferrule", "0.01", world.supplier)
    with pytest.raises(DomainError) as refused:
        world.buy(penny)
    assert refused.value.field == "period_cap"
    assert "£0.00 more" in refused.value.message


def test_released_money_counts_against_the_period_cap_no_longer(world):
    world.give_budget(allocate="1000.00", period_cap="60.00", item_cap="50.00")
    waiting = world.buy(world.walking_frame)
    services.spend_decline(spend=waiting.spend, actor=world.coordinator, reason="Not now")
    assert world.buy(world.walking_frame).created


def test_items_the_plan_flags_wait_for_the_coordinator(world):
    world.give_budget(allocate="1000.00", approval_categories=[world.walking_aids])
    result = world.buy(world.walking_frame)
    assert result.waits_for_approval
    assert "care coordinator checks Folding walking frame" in result.spend.approval_reasons[0]
    assert not world.buy(world.wheelchair).waits_for_approval


def test_a_product_the_plan_flags_waits_too(world):
    world.give_budget(allocate="1000.00", approval_products=[world.wheelchair.product])
    assert world.buy(world.wheelchair).waits_for_approval


def test_no_agreed_plan_no_shopping(world):
    world.give_budget(allocate="100.00")
    SupportPlan.objects.all().delete()
    with pytest.raises(DomainError) as refused:
        world.buy(world.walking_frame)
    assert refused.value.field == "plan"


def test_a_new_version_counts_only_once_the_patient_agrees_and_history_is_kept(world):
    world.give_budget(allocate="1000.00", item_cap="500.00")
    first = world.plan
    proposed = services.plan_propose(budget=world.budget, actor=world.coordinator, categories=[world.kitchen])
    assert selectors.current_plan(budget=world.budget).pk == first.pk
    assert world.buy(world.wheelchair).created
    services.plan_agree(plan=proposed, actor=world.patient.user)
    assert selectors.current_plan(budget=world.budget).version == 2
    with pytest.raises(DomainError):
        world.buy(world.wheelchair)
    assert list(world.budget.plans.values_list("version", flat=True)) == [2, 1]
    with pytest.raises(Conflict):
        services.plan_agree(plan=proposed, actor=world.patient.user)


def test_only_the_coordinator_writes_the_plan_and_only_the_patients_side_agrees_it(world):
    world.give_budget(allocate="")
    with pytest.raises(PermissionDenied):
        services.plan_propose(budget=world.budget, actor=world.patient.user, categories=[world.mobility])
    proposed = services.plan_propose(
        budget=world.budget, actor=world.coordinator, categories=[world.mobility]
    )
    with pytest.raises(PermissionDenied):
        services.plan_agree(plan=proposed, actor=world.coordinator)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"categories": []}, "categories"),
        ({"item_cap": "0"}, "item_cap"),
        ({"period_cap": "-1"}, "period_cap"),
        ({"item_cap": "200", "period_cap": "100"}, "item_cap"),
    ],
)
def test_a_plan_with_bad_values_is_refused_naming_the_field(world, values, field):
    world.give_budget(allocate="")
    values.setdefault("categories", [world.mobility])
    with pytest.raises(DomainError) as refused:
        services.plan_propose(budget=world.budget, actor=world.coordinator, **values)
    assert refused.value.field == field
