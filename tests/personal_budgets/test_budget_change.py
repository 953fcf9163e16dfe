"""The budget manager renames a budget, raises or lowers its amount, or ends it early with a reason:
scheduled allocations after the new last day are cancelled with it, the amount never drops below
what is allocated, a budget never runs into the patient's next one, and only the ICB's budget
managers reach the page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from common.errors import DomainError, PermissionDenied
from common.models import AuditEvent
from ledger.selectors import balance
from organisations.models import Role
from personal_budgets import services
from personal_budgets.models import AllocationState, Budget, BudgetKind
from tests.organisations.factories import CommissionerFactory, member

pytestmark = pytest.mark.django_db


def with_instalments(world) -> list:
    world.give_budget(amount="2000.00", allocate="400.00")
    return services.allocation_schedule_create(
        budget=world.budget,
        actor=world.manager,
        amount="400.00",
        first_on=timezone.localdate() + dt.timedelta(days=30),
        instalments=3,
        every_months=3,
        request_key="quarterly",
    )


def change_url(world) -> str:
    return reverse("personal_budgets:budget-change", args=[world.budget.pk])


def form(world, **changes) -> dict:
    data = {
        "name": world.budget.name,
        "amount": str(world.budget.amount),
        "period_end": world.budget.period_end.isoformat(),
        "reason": "Six-monthly review",
    }
    return {**data, **changes}


def test_the_manager_ends_a_budget_early_and_its_later_instalments_are_cancelled(client, world):
    first, second, third = with_instalments(world)
    client.force_login(world.manager)
    page = client.get(change_url(world)).content.decode()
    assert "Change or end this budget" in page and "Pat Patel" in page

    new_end = second.due_on - dt.timedelta(days=1)
    done = client.post(
        change_url(world), form(world, period_end=new_end.isoformat(), reason="Moving to a managed budget")
    )
    assert done.status_code == 302
    world.budget.refresh_from_db()
    assert world.budget.period_end == new_end
    states = {a.pk: (a.state, a.cancel_reason) for a in world.budget.allocations.all()}
    assert states[first.pk] == (AllocationState.SCHEDULED, "")
    assert states[second.pk] == states[third.pk] == (AllocationState.CANCELLED, "Moving to a managed budget")

    event = AuditEvent.objects.get(kind="personal_budgets.budget_changed")
    assert event.data["changes"] == {
        "period_end": [event.data["changes"]["period_end"][0], new_end.isoformat()]
    }
    assert sorted(event.data["allocations_cancelled"]) == sorted([second.pk, third.pk])
    assert balance(world.budget.wallet_id).posted == 40000  # money already in stays


def test_the_amount_goes_up_freely_and_down_only_to_what_is_allocated(world):
    with_instalments(world)  # £400 paid in + £1,200 scheduled
    services.budget_change(budget=world.budget, actor=world.manager, reason="More needed", amount="2500.00")
    with pytest.raises(DomainError) as refused:
        services.budget_change(budget=world.budget, actor=world.manager, reason="Less", amount="1599.99")
    assert (refused.value.field, refused.value.code) == ("amount", "below_allocated")
    lowered = services.budget_change(
        budget=world.budget, actor=world.manager, reason="Less", amount="1600.00"
    )
    assert lowered.amount == Decimal("1600.00")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"period_end": "2000-01-01"}, "period_end"),
        ({"reason": ""}, "reason"),
        ({"amount": "0"}, "amount"),
        ({"name": ""}, "name"),
    ],
)
def test_a_bad_change_is_refused_on_its_field_and_changes_nothing(client, world, changes, field):
    with_instalments(world)
    before = Budget.objects.values().get(pk=world.budget.pk)
    client.force_login(world.manager)
    answer = client.post(change_url(world), form(world, **changes))
    assert answer.status_code == 400
    assert field in answer.context["form"].errors
    assert Budget.objects.values().get(pk=world.budget.pk) == before


def test_an_end_in_the_past_or_into_the_next_budget_is_refused(world):
    with_instalments(world)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    with pytest.raises(DomainError) as past:
        services.budget_change(budget=world.budget, actor=world.manager, reason="x", period_end=yesterday)
    assert past.value.field == "period_end"

    following = services.budget_create(
        patient=world.patient,
        actor=world.manager,
        name="Next budget",
        kind=BudgetKind.NOTIONAL,
        amount="100.00",
        period_start=world.budget.period_end + dt.timedelta(days=1),
        period_end=world.budget.period_end + dt.timedelta(days=365),
    )
    with pytest.raises(DomainError) as overlap:
        services.budget_change(
            budget=world.budget, actor=world.manager, reason="x", period_end=following.period_start
        )
    assert (overlap.value.field, overlap.value.code) == ("period_end", "overlaps")


def test_a_change_to_nothing_records_nothing(world):
    with_instalments(world)
    services.budget_change(
        budget=world.budget, actor=world.manager, reason="Pressed save", name=world.budget.name
    )
    assert not AuditEvent.objects.filter(kind="personal_budgets.budget_changed").exists()


def test_only_the_icbs_budget_managers_change_a_budget(client, world):
    with_instalments(world)
    stranger = member(Role.BUDGET_MANAGER, CommissionerFactory())
    for outsider in (world.coordinator, world.patient.user, stranger):
        client.force_login(outsider)
        assert client.get(change_url(world)).status_code == 404
        assert client.post(change_url(world), form(world, amount="9999.00")).status_code == 404
    with pytest.raises(PermissionDenied):
        services.budget_change(budget=world.budget, actor=stranger, reason="x", amount="9999.00")
    world.budget.refresh_from_db()
    assert world.budget.amount == Decimal("2000.00")
