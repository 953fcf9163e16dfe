"""The plan's cap per period counts one cap period at a time: each budget year from the budget's
first day (or the plan's own length in months), starting again from nothing in the next. Checked
where checkout checks every plan rule (`plan_check`, with what `spent_in_period` counts)."""

from __future__ import annotations

import datetime as dt

import pytest

from common.errors import DomainError
from personal_budgets import selectors, services
from personal_budgets.models import BudgetKind
from personal_budgets.periods import add_months, cap_period
from tests.personal_budgets.conftest import zero_rated
from tests.personal_budgets.test_money import acknowledge

pytestmark = pytest.mark.django_db


def on(time_machine, day: dt.date) -> None:
    time_machine.move_to(dt.datetime.combine(day, dt.time(12, 0), tzinfo=dt.UTC), tick=False)


@pytest.fixture
def five_years(world, time_machine):
    """Pat's five-year budget from 10 January 2027, £1,000 in it, at most £120 a budget year."""
    on(time_machine, dt.date(2027, 1, 10))
    world.budget = services.budget_create(
        patient=world.patient,
        actor=world.manager,
        name="Personal wheelchair budget",
        kind=BudgetKind.NOTIONAL,
        amount="1000.00",
        period_start=dt.date(2027, 1, 10),
        period_end=dt.date(2032, 1, 9),
    )
    services.allocation_create(budget=world.budget, actor=world.manager, amount="1000.00")
    world.agree(period_cap="120.00")
    return world


def test_spending_exactly_the_cap_in_year_one_is_allowed_and_a_penny_more_is_not(five_years, time_machine):
    world = five_years
    world.buy(world.walking_frame)
    on(time_machine, dt.date(2028, 1, 9))  # the last day of the first budget year
    world.buy(world.walking_frame)  # £120: exactly the cap
    penny = zero_rated(world.walking_aids, "Rubber ferrule", "0.01", world.supplier)
    with pytest.raises(DomainError) as refused:
        world.buy(penny)
    assert refused.value.field == "period_cap" and refused.value.code == "over_period_cap"
    assert "£0.00 more until 9 January 2028" in refused.value.message


def test_the_next_budget_year_starts_again_from_nothing(five_years, time_machine):
    world = five_years
    world.buy(world.walking_frame)
    world.buy(world.walking_frame)  # year one's £120
    on(time_machine, dt.date(2028, 1, 10))  # the first day of year two
    assert services.spent_in_period(budget=world.budget) == 0
    world.buy(world.walking_frame)
    world.buy(world.walking_frame)  # year two's £120
    with pytest.raises(DomainError) as refused:
        world.buy(world.walking_frame)
    assert "until 9 January 2029" in refused.value.message
    spent = selectors.cap_period_spent(budget=world.budget)
    assert (spent.period.number, spent.spent, spent.left) == (2, 120, 0)


def test_a_plan_may_count_its_cap_every_six_months(five_years, time_machine):
    world = five_years
    world.agree(period_cap="60.00", cap_period_months=6)
    world.buy(world.walking_frame)
    on(time_machine, dt.date(2027, 7, 9))
    with pytest.raises(DomainError):
        world.buy(world.walking_frame)
    on(time_machine, dt.date(2027, 7, 10))
    assert world.buy(world.walking_frame).created


def test_money_given_back_in_the_period_counts_no_longer(five_years):
    world = five_years
    first = world.buy(world.walking_frame)
    acknowledge(world, first.order)
    services.refund_create(
        order=first.order, actor=world.supplier_staff, amount="60.00", reason="Returned", key="r1"
    )
    world.buy(world.walking_frame)
    assert world.buy(world.walking_frame).created  # £60 given back: £120 counts, not £180


@pytest.mark.parametrize(
    ("day", "number", "first", "last"),
    [
        (dt.date(2027, 1, 31), 1, dt.date(2027, 1, 31), dt.date(2027, 2, 27)),
        (dt.date(2027, 2, 28), 2, dt.date(2027, 2, 28), dt.date(2027, 3, 30)),
        (dt.date(2027, 3, 31), 3, dt.date(2027, 3, 31), dt.date(2027, 4, 29)),
        (dt.date(2027, 5, 1), 4, dt.date(2027, 4, 30), dt.date(2027, 5, 1)),  # cut at the budget's end
    ],
)
def test_month_long_cap_periods_from_the_31st(day, number, first, last):
    period = cap_period(period_start=dt.date(2027, 1, 31), period_end=dt.date(2027, 5, 1), months=1, on=day)
    assert (period.number, period.first_day, period.last_day) == (number, first, last)


def test_adding_months_keeps_the_day_or_the_months_last():
    assert add_months(dt.date(2028, 1, 31), 1) == dt.date(2028, 2, 29)
    assert add_months(dt.date(2027, 11, 10), 3) == dt.date(2028, 2, 10)
