"""Server-side SVG charts: readable without colour (shapes, dash patterns and text labels) and in PDFs.

Each function returns SVG markup with a <title> and <desc> for screen readers; the pages also
show the same figures as a table.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from pricing.selectors import PricePoint, TrendPoint

WIDTH = 640
BLUE = "#005eb8"
DARK = "#212b32"
GREY = "#768692"


def _x_scale(low: Decimal, high: Decimal, left: int, right: int):
    span = (high - low) or Decimal(1)

    def scale(value: Decimal) -> float:
        return float(left + (value - low) / span * (right - left))

    return scale


def strip_plot(
    *, points: Sequence[PricePoint], target: Decimal | None, median: Decimal | None, title: str
) -> SafeString:
    """Every trust's price per unit on one axis; the viewer's trust a labelled diamond, others circles."""
    height = 170
    left, right, axis_y = 40, WIDTH - 40, 110
    if not points:
        return mark_safe("")
    values = [p.ppu for p in points] + [v for v in (target, median) if v is not None]
    low, high = min(values), max(values)
    pad = (high - low) * Decimal("0.05") or Decimal("0.01")
    x = _x_scale(low - pad, high + pad, left, right)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'role="img" aria-labelledby="strip-title strip-desc" class="mp-chart">',
        f'<title id="strip-title">{escape(title)}</title>',
        f'<desc id="strip-desc">{len(points)} trusts from £{low:,.4f} to £{high:,.4f} per unit.'
        + (f" Target £{target:,.4f}." if target is not None else "")
        + (f" Median £{median:,.4f}." if median is not None else "")
        + "</desc>",
        f'<line x1="{left}" y1="{axis_y}" x2="{right}" y2="{axis_y}" stroke="{DARK}" stroke-width="1"/>',
    ]
    for value in (low, (low + high) / 2, high):
        parts.append(
            f'<text x="{x(value):.1f}" y="{axis_y + 30}" text-anchor="middle" font-size="12" '
            f'fill="{DARK}">£{value:,.4f}</text>'
            f'<line x1="{x(value):.1f}" y1="{axis_y}" x2="{x(value):.1f}" y2="{axis_y + 5}" stroke="{DARK}"/>'
        )
    if target is not None:
        parts.append(
            f'<line x1="{x(target):.1f}" y1="25" x2="{x(target):.1f}" y2="{axis_y}" stroke="{DARK}" '
            f'stroke-dasharray="4 3"/><text x="{x(target):.1f}" y="18" text-anchor="middle" font-size="12" '
            f'fill="{DARK}">Target (10th centile)</text>'
        )
    if median is not None:
        parts.append(
            f'<line x1="{x(median):.1f}" y1="40" x2="{x(median):.1f}" y2="{axis_y}" stroke="{GREY}" '
            f'stroke-width="2"/><text x="{x(median):.1f}" y="{axis_y + 48}" text-anchor="middle" '
            f'font-size="12" fill="{DARK}">Median</text>'
        )
    for index, point in enumerate(points):
        cx = x(point.ppu)
        if point.is_viewer:
            continue
        cy = axis_y - 14 - (index % 4) * 9  # jitter so equal prices stay visible
        parts.append(
            f'<circle cx="{cx:.1f}" cy="{cy}" r="4.5" fill="{GREY}" fill-opacity="0.7">'
            f"<title>{escape(point.label)}: £{point.ppu:,.4f} per unit</title></circle>"
        )
    for point in points:
        if point.is_viewer:
            cx, cy = x(point.ppu), axis_y - 60
            parts.append(
                f'<path d="M {cx:.1f} {cy - 9} L {cx + 9:.1f} {cy} L {cx:.1f} {cy + 9} '
                f'L {cx - 9:.1f} {cy} Z" fill="{BLUE}" stroke="{DARK}" stroke-width="1.5">'
                f"<title>Your trust: £{point.ppu:,.4f} per unit</title></path>"
                f'<line x1="{cx:.1f}" y1="{cy + 9}" x2="{cx:.1f}" y2="{axis_y}" stroke="{BLUE}" '
                f'stroke-width="1"/>'
                f'<text x="{cx:.1f}" y="{cy - 14}" text-anchor="middle" font-size="13" font-weight="bold" '
                f'fill="{DARK}">Your trust £{point.ppu:,.4f}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every text is escaped above)


def trend_bars(*, points: Sequence[TrendPoint], title: str) -> SafeString:
    """Possible savings per quarter as labelled bars (value written above each bar)."""
    if not points:
        return mark_safe("")
    height, top, bottom, left = 220, 30, 180, 20
    highest = max(p.savings_target for p in points) or Decimal(1)
    slot = (WIDTH - 2 * left) / len(points)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'role="img" aria-labelledby="trend-title trend-desc" class="mp-chart">',
        f'<title id="trend-title">{escape(title)}</title>',
        '<desc id="trend-desc">'
        + "; ".join(f"{escape(p.period.label)}: £{p.savings_target:,.0f}" for p in points)
        + "</desc>",
        f'<line x1="{left}" y1="{bottom}" x2="{WIDTH - left}" y2="{bottom}" stroke="{DARK}"/>',
    ]
    for index, point in enumerate(points):
        bar_height = float(point.savings_target / highest) * (bottom - top)
        bx = left + index * slot + slot * 0.15
        parts.append(
            f'<rect x="{bx:.1f}" y="{bottom - bar_height:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{bar_height:.1f}" '
            f'fill="{BLUE}"><title>{escape(point.period.label)}: £{point.savings_target:,.2f}</title></rect>'
            f'<text x="{bx + slot * 0.35:.1f}" y="{bottom - bar_height - 5:.1f}" text-anchor="middle" '
            f'font-size="11" fill="{DARK}">£{point.savings_target:,.0f}</text>'
            f'<text x="{bx + slot * 0.35:.1f}" y="{bottom + 16}" text-anchor="middle" font-size="11" '
            f'fill="{DARK}">{escape(point.period.label)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every text is escaped above)
