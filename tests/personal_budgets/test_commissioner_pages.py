"""The ICB's budget manager gives a patient a budget on the page and allocates into it: all now, on
one day, or in quarterly instalments that the scheduled payer pays in on their days. Each refusal
names the field; a second press of a button makes nothing new and moves no money twice."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from common.errors import DomainError
from ledger.selectors import balance
from organisations.models import Role
from personal_budgets import services
from personal_budgets.models import Allocation, AllocationKind, AllocationState, Budget, BudgetKind
from tests.organisations.factories import CommissionerFactory, PatientProfileFactory, member

pytestmark = pytest.mark.django_db

TODAY = dt.date(2027, 1, 10)


@pytest.fixture
def january(time_machine):
    """Today is 10 January 2027 (signing in comes after: a session lasts eight hours)."""
    time_machine.move_to(dt.datetime(2027, 1, 10, 10, 0, tzinfo=dt.UTC), tick=False)


@pytest.fixture
def manager_client(january, client, world):
    client.force_login(world.manager)
    return client


def budget_form(world, **changes) -> dict:
    form = {
        "patient": world.patient.pk,
        "name": "Personal wheelchair budget",
        "kind": BudgetKind.NOTIONAL,
        "amount": "3000.00",
        "period_start": "2027-01-10",
        "period_end": "2032-01-09",
        "request_key": "page-1",
    }
    return {**form, **changes}


def errors_of(response) -> str:
    assert response.status_code == 200
    return str({name: list(messages) for name, messages in response.context["form"].errors.items()})


def test_the_manager_gives_a_patient_a_budget_and_sets_up_quarterly_instalments(manager_client, world):
    page = manager_client.get(reverse("personal_budgets:budget-new")).content.decode()
    assert "Pat Patel" in page and "Give a patient a budget" in page

    made = manager_client.post(reverse("personal_budgets:budget-new"), budget_form(world))
    budget = Budget.objects.get()
    assert made.url == reverse("personal_budgets:allocate", args=[budget.pk])
    assert (budget.patient, budget.commissioner, budget.amount) == (world.patient, world.icb, Decimal("3000"))
    assert balance(budget.wallet_id).posted == 0  # empty until money is allocated

    allocate = reverse("personal_budgets:allocate", args=[budget.pk])
    now = {"amount": "600.00", "kind": "one_off", "request_key": "alloc-1"}
    assert manager_client.post(allocate, now).status_code == 302
    quarterly = {
        "amount": "500.00",
        "kind": "instalments",
        "due_on": "2027-04-10",
        "instalments": "4",
        "every_months": "3",
        "note": "Quarterly",
        "request_key": "alloc-2",
    }
    assert manager_client.post(allocate, quarterly).status_code == 302
    scheduled = list(budget.allocations.filter(kind=AllocationKind.SCHEDULED).order_by("due_on"))
    assert [a.due_on for a in scheduled] == [
        dt.date(2027, 4, 10),
        dt.date(2027, 7, 10),
        dt.date(2027, 10, 10),
        dt.date(2028, 1, 10),
    ]
    assert balance(budget.wallet_id).posted == 60000  # the instalments wait for their days
    page = manager_client.get(allocate).content.decode()
    assert "10 Oct 2027" in page and "Scheduled" in page

    assert services.allocations_due_pay(today=dt.date(2027, 7, 10)) == 2
    assert services.allocations_due_pay(today=dt.date(2027, 7, 10)) == 0  # again: nothing moves twice
    assert balance(budget.wallet_id).posted == 60000 + 2 * 50000
    assert budget.allocations.filter(state=AllocationState.MADE).count() == 3


def test_a_second_press_makes_one_budget_and_moves_the_money_once(manager_client, world):
    first = manager_client.post(reverse("personal_budgets:budget-new"), budget_form(world))
    again = manager_client.post(reverse("personal_budgets:budget-new"), budget_form(world))
    assert first.url == again.url and Budget.objects.count() == 1
    budget = Budget.objects.get()
    allocate = reverse("personal_budgets:allocate", args=[budget.pk])
    for _ in range(2):
        manager_client.post(allocate, {"amount": "250.00", "kind": "one_off", "request_key": "k"})
        manager_client.post(
            allocate,
            {
                "amount": "100.00",
                "kind": "instalments",
                "due_on": "2027-02-01",
                "instalments": "3",
                "every_months": "1",
                "request_key": "q",
            },
        )
    assert balance(budget.wallet_id).posted == 25000
    assert Allocation.objects.filter(budget=budget).count() == 4


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"amount": "0"}, "amount", "more than £0"),
        ({"amount": "-5"}, "amount", "more than £0"),
        ({"amount": "10.005"}, "amount", "decimal places"),
        ({"period_end": "2027-01-10"}, "period_end", "ends after it starts"),
        ({"period_end": ""}, "period_end", "required"),
        ({"name": "  "}, "name", "required"),
        ({"kind": "gift"}, "kind", "valid choice"),
    ],
)
def test_a_budget_with_a_bad_value_is_refused_on_its_field(manager_client, world, changes, field, says):
    errors = errors_of(
        manager_client.post(reverse("personal_budgets:budget-new"), budget_form(world, **changes))
    )
    assert field in errors and says in errors
    assert not Budget.objects.exists()


def test_a_patient_of_another_icb_cannot_be_chosen_nor_given_a_budget(manager_client, world):
    stranger = PatientProfileFactory(user__full_name="Sam Stranger", commissioner=CommissionerFactory())
    assert "Sam Stranger" not in manager_client.get(reverse("personal_budgets:budget-new")).content.decode()
    errors = errors_of(
        manager_client.post(reverse("personal_budgets:budget-new"), budget_form(world, patient=stranger.pk))
    )
    assert "patient" in errors
    with pytest.raises(DomainError) as refused:  # the service checks it too, against the acting ICB
        services.budget_create(
            patient=stranger,
            actor=world.manager,
            commissioner=world.icb,
            name="Budget",
            kind=BudgetKind.NOTIONAL,
            amount="100",
            period_start=TODAY,
            period_end=TODAY + dt.timedelta(days=365),
        )
    assert refused.value.field == "patient"
    assert not Budget.objects.exists()


def test_a_second_budget_of_the_same_kind_may_not_overlap_but_may_follow(manager_client, world):
    manager_client.post(reverse("personal_budgets:budget-new"), budget_form(world))
    overlapping = budget_form(world, period_start="2031-06-01", period_end="2033-01-01", request_key="p2")
    errors = errors_of(manager_client.post(reverse("personal_budgets:budget-new"), overlapping))
    assert "period_start" in errors and "already has a notional budget" in errors
    other_kind = {**overlapping, "kind": BudgetKind.DIRECT_PAYMENT}
    assert manager_client.post(reverse("personal_budgets:budget-new"), other_kind).status_code == 302
    following = budget_form(world, period_start="2032-01-10", period_end="2037-01-09", request_key="p3")
    assert manager_client.post(reverse("personal_budgets:budget-new"), following).status_code == 302
    assert Budget.objects.count() == 3


@pytest.mark.parametrize(
    ("form", "field", "says"),
    [
        ({"amount": "2000.01", "kind": "one_off"}, "amount", "more than the budget"),
        ({"amount": "0.001", "kind": "one_off"}, "amount", "decimal places"),
        ({"amount": "10", "kind": "scheduled"}, "due_on", "Enter the day"),
        ({"amount": "10", "kind": "scheduled", "due_on": "2027-01-10"}, "due_on", "after today"),
        ({"amount": "10", "kind": "scheduled", "due_on": "2030-01-01"}, "due_on", "budget ends"),
        ({"amount": "10", "kind": "instalments", "due_on": "2027-02-01"}, "instalments", "how many"),
        (
            {
                "amount": "600",
                "kind": "instalments",
                "due_on": "2027-02-01",
                "instalments": 4,
                "every_months": 1,
            },
            "amount",
            "more than the budget",
        ),
        (
            {
                "amount": "10",
                "kind": "instalments",
                "due_on": "2027-02-01",
                "instalments": 13,
                "every_months": 1,
            },
            "instalments",
            "after the budget ends",
        ),
        (
            {
                "amount": "10",
                "kind": "instalments",
                "due_on": "2027-02-01",
                "instalments": 2,
                "every_months": 0,
            },
            "every_months",
            "greater than or equal to 1",
        ),
    ],
)
def test_an_allocation_with_a_bad_value_is_refused_on_its_field(manager_client, world, form, field, says):
    budget = services.budget_create(
        patient=world.patient,
        actor=world.manager,
        name="A year's budget",
        kind=BudgetKind.NOTIONAL,
        amount="2000.00",
        period_start=TODAY,
        period_end=dt.date(2027, 12, 31),
    )
    allocate = reverse("personal_budgets:allocate", args=[budget.pk])
    errors = errors_of(manager_client.post(allocate, {**form, "request_key": "k"}))
    assert field in errors and says in errors, errors
    assert not budget.allocations.exists() and balance(budget.wallet_id).posted == 0


def test_only_the_icbs_budget_managers_reach_the_pages(client, world):
    world.give_budget(allocate="100.00")
    for outsider in (world.coordinator, world.patient.user):
        client.force_login(outsider)
        assert client.get(reverse("personal_budgets:budget-new")).status_code == 404
        assert client.post(reverse("personal_budgets:budget-new"), budget_form(world)).status_code == 404
        assert client.get(reverse("personal_budgets:allocate", args=[world.budget.pk])).status_code == 404
    other_icbs_manager = member(Role.BUDGET_MANAGER, CommissionerFactory())
    client.force_login(other_icbs_manager)
    assert "Pat Patel" not in client.get(reverse("personal_budgets:budget-new")).content.decode()
    assert "patient" in errors_of(client.post(reverse("personal_budgets:budget-new"), budget_form(world)))
    assert client.get(reverse("personal_budgets:allocate", args=[world.budget.pk])).status_code == 404
    assert (
        client.post(
            reverse("personal_budgets:allocate", args=[world.budget.pk]),
            {"amount": "10", "kind": "one_off", "request_key": "x"},
        ).status_code
        == 404
    )
    assert Budget.objects.count() == 1 and world.budget.allocations.count() == 1


def test_the_schedule_ignores_a_second_run_on_the_same_day(world):
    world.give_budget(amount="1000.00", allocate="100.00")
    made = services.allocation_schedule_create(
        budget=world.budget,
        actor=world.manager,
        amount="100.00",
        first_on=timezone.localdate() + dt.timedelta(days=1),
        instalments=2,
        every_months=1,
        request_key="s",
    )
    assert len(made) == 2 and all(a.state == AllocationState.SCHEDULED for a in made)
