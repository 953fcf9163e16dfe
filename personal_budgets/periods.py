"""Dates for budgets: adding whole months, and the support plan's cap periods.

A plan's cap per period counts what is spent in one cap period: `cap_period_months` long, counted
from the budget's first day (12: each budget year), the last one cut short at the budget's end.
Pure functions, no queries.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` moved on by whole months; the 31st becomes the month's last day when it is shorter."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@dataclass(frozen=True)
class CapPeriod:
    number: int  # 1 for the first period of the budget
    first_day: dt.date
    last_day: dt.date  # inclusive


def cap_period(*, period_start: dt.date, period_end: dt.date, months: int, on: dt.date) -> CapPeriod:
    """The cap period holding the day `on` (the first or the last one when `on` is outside the
    budget's period)."""
    if months < 1:
        raise ValueError("A cap period is at least one month.")
    number, first = 1, period_start
    while True:
        following = add_months(period_start, number * months)
        if following > on or following > period_end:
            break
        number, first = number + 1, following
    last = min(add_months(period_start, number * months) - dt.timedelta(days=1), period_end)
    return CapPeriod(number=number, first_day=first, last_day=last)
