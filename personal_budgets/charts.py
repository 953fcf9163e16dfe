"""Horizontal bar charts as plain numbers for an inline SVG template (no JavaScript, works in the
PDF too): each bar's label, amount and width in the chart's units."""

from __future__ import annotations

from common.money import Money

WIDTH = 400  # the longest bar, in SVG units
BAR = 28
GAP = 12


def bar_chart(rows: list[tuple[str, Money]], *, title: str, limit: int = 10) -> dict:
    shown = [(label, amount) for label, amount in rows if amount.amount > 0][:limit]
    top = max((amount.amount for _, amount in shown), default=0)
    bars = [
        {
            "label": label,
            "amount": amount,
            "width": max(1, round(WIDTH * amount.amount / top)) if top else 0,
            "y": index * (BAR + GAP),
            "text_y": index * (BAR + GAP) + BAR // 2 + 5,
        }
        for index, (label, amount) in enumerate(shown)
    ]
    return {
        "title": title,
        "bars": bars,
        "height": max(len(bars) * (BAR + GAP), BAR),
        "bar": BAR,
        "width": WIDTH,
    }
