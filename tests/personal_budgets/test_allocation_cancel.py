"""The budget manager calls off a scheduled instalment before its day, from the budget's page or the
API: it is never paid in, its amount may be allocated again, a second press changes nothing, and
money already paid in cannot be "cancelled" (it stays in the patient's wallet). Only the ICB's budget
managers reach it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from common.errors import Conflict, DomainError, PermissionDenied
from common.models import AuditEvent
from ledger.selectors import balance
from organisations.models import Role
from personal_budgets import services
from personal_budgets.models import Allocation, AllocationState
from tests.organisations.factories import CommissionerFactory, member

pytestmark = pytest.mark.django_db


def instalments(world, *, count: int = 2) -> list[Allocation]:
    world.give_budget(amount="1000.00", allocate="200.00")
    return services.allocation_schedule_create(
        budget=world.budget,
        actor=world.manager,
        amount="400.00",
        first_on=timezone.localdate() + dt.timedelta(days=10),
        instalments=count,
        every_months=1,
        request_key="quarterly",
    )


def cancel_url(allocation: Allocation) -> str:
    return reverse("personal_budgets:allocation-cancel", args=[allocation.budget_id, allocation.pk])


def test_the_manager_cancels_an_instalment_and_the_nightly_payer_skips_it(client, world):
    first, second = instalments(world)
    client.force_login(world.manager)

    listed = client.get(reverse("personal_budgets:allocate", args=[world.budget.pk])).content.decode()
    assert cancel_url(first) in listed and cancel_url(second) in listed

    page = client.get(cancel_url(second)).content.decode()
    assert "Cancel the £400.00 due on" in page and "Pat Patel" in page
    done = client.post(cancel_url(second), {"reason": "Pat moves to another ICB in spring"})
    assert done.status_code == 302
    assert done.url == reverse("personal_budgets:allocate", args=[world.budget.pk])

    second.refresh_from_db()
    assert second.state == AllocationState.CANCELLED
    assert (second.cancelled_by, second.cancel_reason) == (
        world.manager,
        "Pat moves to another ICB in spring",
    )
    event = AuditEvent.objects.get(kind="personal_budgets.allocation_cancelled")
    assert event.subject == f"allocation:{second.pk}" and event.data["reason"].startswith("Pat moves")

    listed = client.get(reverse("personal_budgets:allocate", args=[world.budget.pk])).content.decode()
    assert "Cancelled: Pat moves to another ICB in spring" in listed
    assert cancel_url(first) in listed and cancel_url(second) not in listed

    # Both days pass: only the first instalment reaches the wallet.
    paid = services.allocations_due_pay(today=timezone.localdate() + dt.timedelta(days=90))
    assert paid == 1
    assert balance(world.budget.wallet_id).posted == 60000  # £200 now + £400 on the first day
    second.refresh_from_db()
    assert second.state == AllocationState.CANCELLED and second.made_at is None


def test_a_cancelled_amount_may_be_allocated_again(world):
    _, second = instalments(world)
    with pytest.raises(DomainError) as full:
        services.allocation_create(budget=world.budget, actor=world.manager, amount="400.00")
    assert full.value.code == "over_budget"

    services.allocation_cancel(allocation=second, actor=world.manager, reason="Replaced by a one-off")
    again = services.allocation_create(budget=world.budget, actor=world.manager, amount="400.00")
    assert again.state == AllocationState.MADE


def test_a_second_press_changes_nothing_and_paid_in_money_cannot_be_cancelled(client, world):
    first, _ = instalments(world)
    client.force_login(world.manager)
    client.post(cancel_url(first), {"reason": "Not needed"})
    cancelled_at = Allocation.objects.get(pk=first.pk).cancelled_at
    again = client.post(cancel_url(first), {"reason": "Pressed twice"})
    assert again.status_code == 302
    first.refresh_from_db()
    assert (first.cancelled_at, first.cancel_reason) == (cancelled_at, "Not needed")
    assert AuditEvent.objects.filter(kind="personal_budgets.allocation_cancelled").count() == 1

    one_off = world.budget.allocations.get(kind="one_off")
    refused = client.post(cancel_url(one_off), {"reason": "Changed my mind"})
    assert refused.status_code == 400
    assert "can no longer be cancelled" in refused.content.decode()
    one_off.refresh_from_db()
    assert one_off.state == AllocationState.MADE
    assert balance(world.budget.wallet_id).posted == 20000


def test_the_reason_is_required_and_named(client, world):
    first, _ = instalments(world)
    client.force_login(world.manager)
    answer = client.post(cancel_url(first), {"reason": "  "})
    assert answer.status_code == 400
    assert "reason" in answer.context["form"].errors
    first.refresh_from_db()
    assert first.state == AllocationState.SCHEDULED


def test_only_the_icbs_budget_managers_may_cancel(client, world):
    first, _ = instalments(world)
    stranger = member(Role.BUDGET_MANAGER, CommissionerFactory())
    for outsider in (world.coordinator, world.patient.user, stranger):
        client.force_login(outsider)
        assert client.get(cancel_url(first)).status_code == 404
        assert client.post(cancel_url(first), {"reason": "Mine now"}).status_code == 404
    with pytest.raises(PermissionDenied):
        services.allocation_cancel(allocation=first, actor=stranger, reason="Mine now")
    first.refresh_from_db()
    assert first.state == AllocationState.SCHEDULED


def test_the_api_cancels_once_and_refuses_money_already_paid_in(world):
    first, _ = instalments(world)
    api = APIClient()
    api.force_authenticate(world.manager)
    url = reverse("budgets-api-allocation-cancel", args=[first.pk])

    missing = api.post(url, {}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()["errors"]

    done = api.post(url, {"reason": "Budget ends early"}, format="json")
    assert done.status_code == 200
    assert done.json()["state"] == "cancelled" and done.json()["cancel_reason"] == "Budget ends early"
    assert api.post(url, {"reason": "Again"}, format="json").json()["cancel_reason"] == "Budget ends early"

    one_off = world.budget.allocations.get(kind="one_off")
    paid = api.post(
        reverse("budgets-api-allocation-cancel", args=[one_off.pk]), {"reason": "x"}, format="json"
    )
    assert paid.status_code == 409 and paid.json()["code"] == "already_paid_in"

    stranger = APIClient()
    stranger.force_authenticate(member(Role.BUDGET_MANAGER, CommissionerFactory()))
    assert stranger.post(url, {"reason": "Mine"}, format="json").status_code == 404


def test_a_paid_in_allocation_raises_a_conflict_in_the_service(world):
    world.give_budget(amount="500.00", allocate="500.00")
    made = world.budget.allocations.get()
    with pytest.raises(Conflict):
        services.allocation_cancel(allocation=made, actor=world.manager, reason="Too late")
    assert balance(world.budget.wallet_id).posted == 50000
    assert Decimal(made.amount) == Decimal("500.00")
