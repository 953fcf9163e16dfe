"""The periods analytics are computed over: NHS financial years (April to March) and calendar quarters.

Every order date falls in exactly one financial year and one quarter, so each line counts towards
exactly two rollup rows, and a new line never changes a period it does not fall in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from pricing.models import Period, PeriodKind


def year_start(day: dt.date) -> dt.date:
    return dt.date(day.year if day.month >= 4 else day.year - 1, 4, 1)


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def bounds(kind: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """(first day, first day after) of the period of this kind containing `day`."""
    if kind == PeriodKind.YEAR:
        start = year_start(day)
        return start, _add_months(start, 12)
    start = quarter_start(day)
    return start, _add_months(start, 3)


def periods_for_dates(dates: Iterable[dt.date]) -> dict[tuple[str, dt.date], Period]:
    """The year and quarter periods containing these dates, created if new: {(kind, starts_on): Period}."""
    wanted: dict[tuple[str, dt.date], dt.date] = {}
    for day in set(dates):
        for kind in (PeriodKind.YEAR, PeriodKind.QUARTER):
            start, end = bounds(kind, day)
            wanted[(kind, start)] = end
    if not wanted:
        return {}
    Period.objects.bulk_create(
        [Period(kind=kind, starts_on=start, ends_on=end) for (kind, start), end in wanted.items()],
        ignore_conflicts=True,
    )
    starts = {start for _, start in wanted}
    return {
        (p.kind, p.starts_on): p
        for p in Period.objects.filter(starts_on__in=starts)
        if (p.kind, p.starts_on) in wanted
    }


def period_ids_for(day: dt.date, periods: dict[tuple[str, dt.date], Period]) -> tuple[int, int]:
    return (
        periods[(PeriodKind.YEAR, year_start(day))].pk,
        periods[(PeriodKind.QUARTER, quarter_start(day))].pk,
    )
