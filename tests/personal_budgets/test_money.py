"""Budgets, allocations, the patient's checkout and where the money goes in the ledger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from common.errors import Conflict, DomainError, NotFound, PermissionDenied
from ledger.models import Transfer
from ledger.selectors import account_statement, balance, invariants_check
from organisations import services as org_services
from organisations.models import Role
from personal_budgets import services
from personal_budgets.models import AllocationKind, AllocationState, SpendState
from purchasing import services as purchasing
from purchasing.models import PurchaseOrder
from purchasing.states import OrderState
from tests.organisations.factories import CommissionerFactory, PatientProfileFactory, UserFactory, member
from tests.purchasing.factories import acting

pytestmark = pytest.mark.django_db


def pence(world) -> tuple[int, int]:
    """(posted, available) pence in the patient's wallet."""
    found = balance(world.budget.wallet_id)
    return found.posted, found.available


def acknowledge(world, order):
    return purchasing.order_acknowledge(
        order=order,
        actor=world.supplier_staff,
        acting=acting(world.supplier),
        expected_delivery=timezone.localdate() + dt.timedelta(days=3),
    )


# --- Allocations ----------------------------------------------------------------------------


def test_a_one_off_allocation_puts_the_money_in_the_wallet_at_once(world):
    world.give_budget(amount="1000.00", allocate="250.00")
    assert pence(world) == (25000, 25000)
    allocation = world.budget.allocations.get()
    assert allocation.state == AllocationState.MADE
    assert Transfer.objects.get(pk=allocation.transfer_id).code == "allocation"
    assert invariants_check() == []


def test_a_scheduled_allocation_is_paid_in_on_its_day_and_only_once(world):
    world.give_budget(amount="1000.00", allocate="")
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    services.allocation_create(
        budget=world.budget,
        actor=world.manager,
        amount="100.00",
        kind=AllocationKind.SCHEDULED,
        due_on=tomorrow,
    )
    assert services.allocations_due_pay(today=timezone.localdate()) == 0
    assert pence(world) == (0, 0)
    assert services.allocations_due_pay(today=tomorrow) == 1
    assert services.allocations_due_pay(today=tomorrow) == 0
    assert pence(world) == (10000, 10000)


@pytest.mark.parametrize("amount", ["0", "-5", "0.001", "abc", "10000000"])
def test_an_allocation_of_a_bad_amount_is_refused_naming_the_amount(world, amount):
    world.give_budget(allocate="")
    with pytest.raises(DomainError) as refused:
        services.allocation_create(budget=world.budget, actor=world.manager, amount=amount)
    assert refused.value.field == "amount"
    assert world.budget.allocations.count() == 0


def test_allocations_never_add_up_to_more_than_the_budget(world):
    world.give_budget(amount="500.00", allocate="400.00")
    services.allocation_create(budget=world.budget, actor=world.manager, amount="100.00")
    with pytest.raises(DomainError) as refused:
        services.allocation_create(budget=world.budget, actor=world.manager, amount="0.01")
    assert refused.value.field == "amount" and refused.value.code == "over_budget"
    assert pence(world) == (50000, 50000)


def test_only_a_budget_manager_of_the_patients_icb_allocates(world):
    world.give_budget(allocate="")
    other_icb_manager = member(Role.BUDGET_MANAGER, CommissionerFactory())
    for outsider in (other_icb_manager, world.coordinator, world.patient.user):
        with pytest.raises(PermissionDenied):
            services.allocation_create(budget=world.budget, actor=outsider, amount="10")
    assert pence(world) == (0, 0)


# --- Checkout -------------------------------------------------------------------------------


def test_checkout_holds_the_money_and_the_suppliers_acceptance_pays_it(world):
    world.give_budget(allocate="100.00")
    result = world.buy(world.walking_frame)
    assert result.created and result.order.state == OrderState.SENT
    assert result.order.patient == world.patient and result.order.trust is None
    assert pence(world) == (10000, 4000)  # £60 held, nothing paid yet
    acknowledge(world, result.order)
    result.spend.refresh_from_db()
    assert result.spend.state == SpendState.PAID
    assert pence(world) == (4000, 4000)
    statement = account_statement(world.budget.wallet_id)
    assert [(line.code, line.amount_signed, line.balance) for line in statement] == [
        ("allocation", 10000, 10000),
        ("purchase", -6000, 4000),
    ]
    assert invariants_check() == []


def test_the_suppliers_refusal_gives_the_held_money_back(world):
    world.give_budget(allocate="100.00")
    result = world.buy(world.walking_frame)
    purchasing.order_supplier_reject(
        order=result.order, actor=world.supplier_staff, acting=acting(world.supplier), reason="Out of stock"
    )
    result.spend.refresh_from_db()
    assert result.spend.state == SpendState.RELEASED
    assert result.spend.decision_reason == "Out of stock"
    assert pence(world) == (10000, 10000)
    assert Transfer.objects.get(pk=result.spend.hold_id).state == "voided"


def test_a_replayed_checkout_answers_the_same_order_and_moves_no_money_twice(world):
    world.give_budget(allocate="200.00")
    first = world.buy(world.walking_frame, key="tab-1")
    again = world.buy(world.walking_frame, key="tab-1")
    assert not again.created and again.order.pk == first.order.pk
    assert PurchaseOrder.objects.filter(patient=world.patient).count() == 1
    assert pence(world) == (20000, 14000)


def test_a_purchase_larger_than_what_is_left_is_refused_and_nothing_is_ordered(world):
    world.give_budget(allocate="50.00")
    with pytest.raises(DomainError) as refused:
        world.buy(world.walking_frame)
    assert refused.value.field == "amount" and "£50.00 left" in refused.value.message
    assert not PurchaseOrder.objects.filter(patient=world.patient).exists()
    assert pence(world) == (5000, 5000)


def test_a_purchase_of_exactly_what_is_left_goes_through(world):
    world.give_budget(allocate="60.00")
    world.buy(world.walking_frame)
    assert pence(world) == (6000, 0)


def test_nobody_else_buys_with_the_patients_budget(world):
    world.give_budget(allocate="100.00")
    stranger = PatientProfileFactory(commissioner=world.icb).user
    other_icb_coordinator = member(Role.CARE_COORDINATOR, CommissionerFactory())
    for outsider in (stranger, UserFactory(), world.manager, other_icb_coordinator):
        with pytest.raises(NotFound):
            world.buy(world.walking_frame, actor=outsider)
    assert pence(world) == (10000, 10000)


def test_a_carer_buys_for_the_patient_while_the_grant_lasts(world):
    world.give_budget(allocate="200.00")
    carer = UserFactory(full_name="Casey Carer")
    with pytest.raises(NotFound):
        world.buy(world.walking_frame, actor=carer)
    link = org_services.carer_link_create(patient=world.patient, carer=carer, actor=world.coordinator)
    result = world.buy(world.walking_frame, actor=carer)
    assert result.order.buyer == carer
    org_services.carer_link_delete(link=link, actor=world.coordinator)
    with pytest.raises(NotFound):
        world.buy(world.walking_frame, actor=carer)


def test_the_same_key_from_someone_else_is_a_conflict(world):
    world.give_budget(allocate="200.00")
    carer = UserFactory()
    org_services.carer_link_create(patient=world.patient, carer=carer, actor=world.coordinator)
    world.buy(world.walking_frame, key="shared")
    with pytest.raises(Conflict):
        world.buy(world.walking_frame, actor=carer, key="shared")


# --- Approvals ------------------------------------------------------------------------------


def test_an_item_over_the_cap_waits_for_the_coordinator_with_the_money_held(world):
    world.give_budget(allocate="1000.00", item_cap="300.00")
    result = world.buy(world.wheelchair)
    assert result.waits_for_approval
    assert result.spend.approval_reasons == [
        "Self-propelled wheelchair costs more than £300.00, the most for one item."
    ]
    assert pence(world) == (100000, 60000)
    services.spend_approve(spend=result.spend, actor=world.coordinator, note="Agreed at review")
    result.order.refresh_from_db()
    assert result.order.state == OrderState.SENT
    acknowledge(world, result.order)
    assert pence(world) == (60000, 60000)


def test_a_declined_item_gives_the_money_back_with_the_reason_the_patient_reads(world):
    world.give_budget(allocate="1000.00", item_cap="300.00")
    result = world.buy(world.wheelchair)
    spend = services.spend_decline(
        spend=result.spend, actor=world.coordinator, reason="Try the lighter model first"
    )
    assert spend.state == SpendState.RELEASED
    assert spend.decision_reason == "Try the lighter model first"
    assert pence(world) == (100000, 100000)
    with pytest.raises(Conflict):
        services.spend_approve(spend=spend, actor=world.coordinator)


def test_only_the_patients_own_coordinator_decides(world):
    world.give_budget(allocate="1000.00", item_cap="300.00")
    result = world.buy(world.wheelchair)
    colleague = member(Role.CARE_COORDINATOR, world.icb)
    for outsider in (colleague, world.manager, world.patient.user):
        with pytest.raises(NotFound):
            services.spend_approve(spend=result.spend, actor=outsider)
    with pytest.raises(DomainError) as refused:
        services.spend_decline(spend=result.spend, actor=world.coordinator, reason="  ")
    assert refused.value.field == "reason"


# --- Refunds --------------------------------------------------------------------------------


def test_a_returned_item_credits_the_wallet_once_per_key_and_never_more_than_was_paid(world):
    world.give_budget(allocate="100.00")
    result = world.buy(world.walking_frame)
    with pytest.raises(Conflict):  # not paid yet
        services.refund_create(
            order=result.order, actor=world.supplier_staff, amount="10", reason="r", key="k"
        )
    acknowledge(world, result.order)
    services.refund_create(
        order=result.order, actor=world.supplier_staff, amount="60.00", reason="Returned", key="r1"
    )
    services.refund_create(
        order=result.order, actor=world.supplier_staff, amount="60.00", reason="Returned", key="r1"
    )
    assert pence(world) == (10000, 10000)
    with pytest.raises(DomainError) as refused:
        services.refund_create(
            order=result.order, actor=world.supplier_staff, amount="0.01", reason="x", key="r2"
        )
    assert refused.value.field == "amount"
    with pytest.raises(NotFound):
        services.refund_create(order=result.order, actor=world.patient.user, amount="1", reason="x", key="r3")
    assert [line.code for line in account_statement(world.budget.wallet_id)] == [
        "allocation",
        "purchase",
        "refund",
    ]


def test_spent_in_period_counts_holds_and_payments_less_refunds(world):
    world.give_budget(allocate="500.00")
    first = world.buy(world.walking_frame)
    acknowledge(world, first.order)
    world.buy(world.walking_frame)
    services.refund_create(order=first.order, actor=world.supplier_staff, amount="20", reason="Part", key="a")
    assert services.spent_in_period(budget=world.budget) == Decimal("100.00")


def test_the_nightly_task_pays_in_what_is_due(world, settings):
    from personal_budgets import tasks
    from personal_budgets.models import Allocation

    assert (
        settings.CELERY_BEAT_SCHEDULE["personal-budgets-allocations-due"]["task"]
        == tasks.allocations_due_pay.name
    )
    world.give_budget(amount="1000.00", allocate="")
    allocation = services.allocation_create(
        budget=world.budget,
        actor=world.manager,
        amount="75.00",
        kind=AllocationKind.SCHEDULED,
        due_on=timezone.localdate() + dt.timedelta(days=1),
    )
    Allocation.objects.filter(pk=allocation.pk).update(due_on=timezone.localdate())  # a day later
    assert tasks.allocations_due_pay.delay().get() == 1
    assert pence(world) == (7500, 7500)
