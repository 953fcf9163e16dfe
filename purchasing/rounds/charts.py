"""The round's chart: packs committed over time, drawn on the server as SVG (no script needed, and
the Content-Security-Policy allows no inline script or style: colours are SVG attributes).

Like `pricing.charts`, readable without colour: the committed line is solid, each tier's threshold a
dashed line labelled with its price, the minimum a dotted line labelled "Minimum"; the <title> and
<desc> say the same in words, and the page shows the figures as text beside it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 24, 20, 40
BLUE = "#005eb8"
DARK = "#212b32"
GREY = "#4c6272"


def committed_volume(
    *,
    points: Sequence[tuple[dt.datetime, int]],
    tiers: Sequence[tuple[int, Decimal]],
    minimum: int,
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    now: dt.datetime | None = None,
    title: str = "Packs committed over time",
) -> SafeString:
    """A step line of the packs committed from the round's opening to now (or its close), with the
    tiers' thresholds and the minimum as horizontal lines. `points` are (when, total packs) in time
    order, as `RoundVolumePoint` rows give them."""
    now = now or timezone.now()
    start = opens_at
    end = min(max(now, start + dt.timedelta(minutes=1)), closes_at)
    if end <= start:
        end = start + dt.timedelta(minutes=1)
    steps = [(start, 0)] + [(at, packs) for at, packs in points if start <= at <= end]
    earlier = [packs for at, packs in points if at < start]
    if earlier:  # committed before the opening (a scheduled round's early history): start from it
        steps[0] = (start, earlier[-1])
    current = steps[-1][1]
    thresholds = sorted({*(m for m, _ in tiers), minimum})
    highest = max([current, *thresholds, 1])
    top_value = highest * 1.1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    span = (end - start).total_seconds() or 1.0

    def x(when: dt.datetime) -> float:
        return LEFT + (when - start).total_seconds() / span * plot_w

    def y(packs: float) -> float:
        return TOP + plot_h - packs / top_value * plot_h

    tier_words = "; ".join(f"£{price:,.2f} a pack from {low:,} packs" for low, price in tiers)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'role="img" aria-labelledby="volume-title volume-desc" class="mp-chart" id="volume-chart">',
        f'<title id="volume-title">{escape(title)}</title>',
        f'<desc id="volume-desc">{current:,} packs committed by {timezone.localtime(end):%-d %b %Y %H:%M}, '
        f"{len(points)} change{'s' if len(points) != 1 else ''} since "
        f"{timezone.localtime(start):%-d %b %Y %H:%M}. "
        f"Minimum {minimum:,} packs. "
        f"Tiers: {escape(tier_words) or 'none'}.</desc>",
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" stroke="{DARK}"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="{DARK}"/>',
        f'<text x="{LEFT - 6}" y="{TOP + plot_h + 4}" text-anchor="end" font-size="11" '
        f'fill="{DARK}">0</text>',
        f'<text x="{LEFT}" y="{HEIGHT - 12}" font-size="11" fill="{DARK}">'
        f"{timezone.localtime(start):%-d %b %H:%M}</text>",
        f'<text x="{LEFT + plot_w}" y="{HEIGHT - 12}" text-anchor="end" font-size="11" fill="{DARK}">'
        f"{timezone.localtime(end):%-d %b %H:%M}</text>",
    ]
    prices = dict(tiers)
    for value in thresholds:
        ty = y(value)
        if value in prices:
            label, dash = f"{value:,} packs: £{prices[value]:,.2f}", "6 4"
            if value == minimum:
                label += " (minimum)"
        else:
            label, dash = f"Minimum {value:,} packs", "2 3"
        parts.append(
            f'<line x1="{LEFT}" y1="{ty:.1f}" x2="{LEFT + plot_w}" y2="{ty:.1f}" stroke="{GREY}" '
            f'stroke-dasharray="{dash}"/>'
            # Tier labels on the left, clear of the current total labelled at the right end.
            f'<text x="{LEFT + 6}" y="{ty - 4:.1f}" font-size="11" fill="{DARK}">'
            f"{escape(label)}</text>"
        )
    path = []
    for index, (when, packs) in enumerate(steps):
        px, py = x(when), y(packs)
        if index == 0:
            path.append(f"M {px:.1f} {py:.1f}")
        else:
            path.append(f"H {px:.1f} V {py:.1f}")
    path.append(f"H {x(end):.1f}")
    parts.append(f'<path d="{" ".join(path)}" fill="none" stroke="{BLUE}" stroke-width="3"/>')
    parts.append(
        f'<circle cx="{x(end):.1f}" cy="{y(current):.1f}" r="5" fill="{BLUE}" stroke="{DARK}"/>'
        f'<text x="{max(x(end) - 8, LEFT + 40):.1f}" y="{max(y(current) - 10, TOP + 10):.1f}" '
        f'text-anchor="end" font-size="13" font-weight="bold" fill="{DARK}">{current:,} packs</text>'
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every text is escaped or a number formatted above)
