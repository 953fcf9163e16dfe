"""Read-only queries for pages, the API and other apps. Pages read the summaries, never the lines.

Scoping: functions taking a `trust` expect the caller to have resolved it through
`organisations.permissions` (see `trust_for_user_or_404`); other trusts' prices are only ever
returned as aggregates or as anonymised points.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Exists, OuterRef, QuerySet, Sum

from catalogue.models import Category, Product
from common.caching import shared_cached
from common.errors import NotFound
from organisations.models import Organisation, Region, User
from organisations.permissions import trusts_for
from pricing.analytics import FIGURES_NAMESPACE, load_sql, savings_threshold
from pricing.models import (
    PairTotal,
    Period,
    PeriodKind,
    ProductStats,
    PurchaseHistoryLine,
    TrustSavings,
)
from pricing.types import PeerPrices

ZERO = Decimal("0")
PENNY = Decimal("0.01")
FOUR_PLACES = Decimal("0.0001")


def _penny(value: Decimal) -> Decimal:
    """Money rounded once, at the end, half away from zero (as the SQL's ROUND)."""
    return value.quantize(PENNY, rounding=ROUND_HALF_UP)


def _per_unit(value: Decimal) -> Decimal:
    """A price per unit as shown: four places."""
    return value.quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)


def trust_for_user_or_404(*, user: User, ods_code: str) -> Organisation:
    """The trust with this ODS code if the user acts for it; otherwise NotFound (never reveal it)."""
    trust = trusts_for(user).filter(ods_code__iexact=ods_code).first()
    if trust is None:
        raise NotFound("No such trust.")
    return trust


# --- Periods ---------------------------------------------------------------------------------


PERIODS_CACHE_KEY = "pricing:periods-with-figures"


def periods_with_figures() -> list[Period]:
    """Periods that have summaries: financial years first, newest first; then quarters.

    Every page asks, so the answer is cached until the next refresh (which forgets it).
    """
    periods = cache.get(PERIODS_CACHE_KEY)
    if periods is None:
        with_figures = Period.objects.filter(Exists(ProductStats.objects.filter(period=OuterRef("pk"))))
        periods = list(with_figures.order_by("-kind", "-starts_on"))
        cache.set(PERIODS_CACHE_KEY, periods, timeout=60 * 60)
    return periods


def default_period() -> Period | None:
    """The latest financial year with figures (the current one, year to date, once it has any)."""
    return next((p for p in periods_with_figures() if p.kind == PeriodKind.YEAR), None)


def period_from_slug(slug: str | None) -> Period | None:
    if slug:
        for period in periods_with_figures():
            if period.slug == slug:
                return period
    return default_period()


# --- National and regional -------------------------------------------------------------------


def min_group_trusts() -> int:
    """Figures covering fewer trusts than this are suppressed (setting PRICING_MIN_GROUP_TRUSTS)."""
    return settings.PRICING_MIN_GROUP_TRUSTS


def group_too_small(trusts: int) -> bool:
    return trusts < min_group_trusts()


def region_trusts(*, period: Period, region: str) -> int:
    """How many trusts of the region have figures for the period."""
    return TrustSavings.objects.filter(period=period, trust__region=region).count()


@dataclass(frozen=True)
class ProductSaving:
    product: Product
    trusts: int
    spend: Decimal
    savings_target: Decimal
    savings_median: Decimal
    ppu_p10: Decimal
    ppu_median: Decimal
    spread: Decimal | None


def _category_products(category: Category | None) -> QuerySet[Product]:
    products = Product.objects.all()
    if category is not None:
        products = products.filter(category__path__startswith=category.path)
    return products


def top_savings(
    *, period: Period, category: Category | None = None, region: str | None = None, limit: int = 50
) -> list[ProductSaving]:
    """Products with the largest total possible savings (against the target), nationally or in a region.

    A product whose figures cover fewer than `min_group_trusts()` trusts (nationally, or in the region)
    is left out: its figures would be one or two trusts' own. A region with fewer such trusts has no
    rows at all (`region_trusts`).
    """
    if not region:
        stats = (
            ProductStats.objects.filter(
                period=period, product__in=_category_products(category), trusts__gte=min_group_trusts()
            )
            .select_related("product", "product__category")
            .order_by("-savings_target", "product__name")[:limit]
        )
        return [
            ProductSaving(
                product=s.product,
                trusts=s.trusts,
                spend=s.spend,
                savings_target=s.savings_target,
                savings_median=s.savings_median,
                ppu_p10=s.ppu_p10,
                ppu_median=s.ppu_median,
                spread=s.spread,
            )
            for s in stats
        ]
    if group_too_small(region_trusts(period=period, region=region)):
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            load_sql("savings_by_product_in_region.sql")[0],
            {
                "period": period.pk,
                "region": region,
                "threshold": savings_threshold(),
                "min_trusts": min_group_trusts(),
                "limit": limit * 4,
            },
        )
        rows = cursor.fetchall()
    products = _category_products(category).select_related("category").in_bulk([r[0] for r in rows])
    stats = {
        s.product_id: s
        for s in ProductStats.objects.filter(period=period, product_id__in=[r[0] for r in rows])
    }
    found = []
    for product_id, trusts, spend, vs_target, vs_median in rows:
        if product_id in products:
            found.append(
                ProductSaving(
                    product=products[product_id],
                    trusts=trusts,
                    spend=_money(spend),
                    savings_target=_money(vs_target),
                    savings_median=_money(vs_median),
                    ppu_p10=stats[product_id].ppu_p10,
                    ppu_median=stats[product_id].ppu_median,
                    spread=stats[product_id].spread,
                )
            )
    return found[:limit]


def _money(value) -> Decimal:
    return _penny(Decimal(str(value or 0)))


@dataclass(frozen=True)
class Totals:
    """National totals; with fewer trusts than `min_group_trusts()`, suppressed (figures None)."""

    trusts: int | None
    products: int | None
    spend: Decimal | None
    savings_target: Decimal | None
    savings_median: Decimal | None
    suppressed: bool = False


def national_totals(*, period: Period) -> Totals:
    trusts = TrustSavings.objects.filter(period=period).count()
    if group_too_small(trusts):
        return Totals(None, None, None, None, None, suppressed=True)
    products = ProductStats.objects.filter(period=period).aggregate(
        n=Count("id"), spend=Sum("spend"), target=Sum("savings_target"), median=Sum("savings_median")
    )
    return Totals(
        trusts=trusts,
        products=products["n"],
        spend=products["spend"] or ZERO,
        savings_target=products["target"] or ZERO,
        savings_median=products["median"] or ZERO,
    )


@dataclass(frozen=True)
class RegionTotals:
    """One region's totals; a region with fewer trusts than `min_group_trusts()` is suppressed
    (listed, its figures None)."""

    region: str
    label: str
    trusts: int | None
    spend: Decimal | None
    savings_target: Decimal | None
    savings_median: Decimal | None
    suppressed: bool = False


def region_totals(*, period: Period) -> list[RegionTotals]:
    rows = (
        TrustSavings.objects.filter(period=period)
        .values("trust__region")
        .annotate(
            trusts=Count("id"),
            spend=Sum("spend"),
            target=Sum("savings_target"),
            median=Sum("savings_median"),
        )
        .order_by("-target")
    )
    labels = dict(Region.choices)
    shown, suppressed = [], []
    for r in rows:
        label = labels.get(r["trust__region"], r["trust__region"])
        if group_too_small(r["trusts"]):
            suppressed.append(
                RegionTotals(r["trust__region"], label, None, None, None, None, suppressed=True)
            )
        else:
            shown.append(
                RegionTotals(
                    region=r["trust__region"],
                    label=label,
                    trusts=r["trusts"],
                    spend=r["spend"],
                    savings_target=r["target"],
                    savings_median=r["median"],
                )
            )
    # Suppressed regions last, in name order: their place in the ranking would say something too.
    return shown + sorted(suppressed, key=lambda r: r.label)


# --- One product ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PricePoint:
    label: str
    ppu: Decimal
    units: Decimal
    is_viewer: bool
    named: bool
    saving: Decimal


@dataclass(frozen=True)
class ProductVariance:
    product: Product
    period: Period
    stats: ProductStats | None
    points: list[PricePoint]

    @property
    def viewer_point(self) -> PricePoint | None:
        return next((p for p in self.points if p.is_viewer), None)


def product_variance(*, product: Product, period: Period, viewer: Organisation | None) -> ProductVariance:
    """Every trust's price per unit for the product: the viewer's and consenting trusts' by name."""
    stats = ProductStats.objects.filter(period=period, product=product).first()
    pairs = (
        PairTotal.objects.filter(period=period, product=product)
        .select_related("trust")
        .only("units", "spend", "trust__name", "trust__share_prices_by_name", "trust__id")
    )
    rows = sorted(((p.spend / p.units, p) for p in pairs), key=lambda item: (item[0], item[1].trust_id))
    points = []
    for rank, (ppu, pair) in enumerate(rows, start=1):
        is_viewer = viewer is not None and pair.trust_id == viewer.pk
        named = is_viewer or pair.trust.share_prices_by_name
        saving = pair.spend - pair.units * stats.target_ppu if stats else ZERO
        points.append(
            PricePoint(
                label=pair.trust.name if named else f"Trust {rank}",
                ppu=_per_unit(ppu),
                units=pair.units,
                is_viewer=is_viewer,
                named=named,
                saving=_penny(max(saving, ZERO)),
            )
        )
    return ProductVariance(product=product, period=period, stats=stats, points=points)


def peer_prices(
    *, product: Product, trust: Organisation | None, period: Period | None = None
) -> PeerPrices | None:
    """Median and target price per unit for the product, beside the trust's own (None without figures).

    Kept in the shared cache for this trust alone (its id is in the key) until the figures change
    (`analytics.FIGURES_NAMESPACE`): a product page asks on every view."""
    period = period or default_period()
    if period is None:
        return None
    return shared_cached(
        FIGURES_NAMESPACE,
        ("peer-prices", product.pk, trust.pk if trust else None, period.pk),
        lambda: peer_prices_many(product_ids=[product.pk], trust=trust, period=period).get(product.pk),
    )


def peer_prices_many(
    *, product_ids: Iterable[int], trust: Organisation | None, period: Period | None = None
) -> dict[int, PeerPrices]:
    """`peer_prices` for many products at once (a basket), in a fixed number of queries: the
    products without figures are left out."""
    period = period or default_period()
    ids = set(product_ids)
    if period is None or not ids:
        return {}
    stats = ProductStats.objects.filter(period=period, product_id__in=ids)
    owns = (
        {p.product_id: p for p in PairTotal.objects.filter(period=period, product_id__in=ids, trust=trust)}
        if trust
        else {}
    )
    found = {}
    for s in stats:
        own = owns.get(s.product_id)
        found[s.product_id] = PeerPrices(
            product_id=s.product_id,
            period_label=period.label,
            trusts=s.trusts,
            median=s.ppu_median,
            target=s.ppu_p10,
            own_ppu=_per_unit(own.spend / own.units) if own else None,
            own_units=own.units if own else None,
            saving_vs_target=_penny(max(own.spend - own.units * s.target_ppu, ZERO)) if own else None,
            saving_vs_median=_penny(max(own.spend - own.units * s.median_ppu, ZERO)) if own else None,
        )
    return found


# --- One trust --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Opportunity:
    product: Product
    units: Decimal
    spend: Decimal
    ppu: Decimal
    target: Decimal
    median: Decimal
    saving_vs_target: Decimal
    saving_vs_median: Decimal


def trust_opportunities(
    *, trust: Organisation, period: Period, category: Category | None = None, limit: int | None = 20
) -> list[Opportunity]:
    """The trust's products in the period with a saving above the threshold, largest first."""
    pairs = PairTotal.objects.filter(period=period, trust=trust, product__in=_category_products(category))
    stats = {
        s.product_id: s
        for s in ProductStats.objects.filter(period=period, product_id__in=pairs.values("product_id"))
    }
    threshold = savings_threshold()
    found = []
    for pair in pairs.select_related("product"):
        s = stats.get(pair.product_id)
        if s is None:
            continue
        # Against the unrounded centiles; only the final amounts are rounded.
        vs_target = pair.spend - pair.units * s.target_ppu
        if vs_target < threshold:
            continue
        vs_median = pair.spend - pair.units * s.median_ppu
        found.append(
            Opportunity(
                product=pair.product,
                units=pair.units,
                spend=_penny(pair.spend),
                ppu=_per_unit(pair.spend / pair.units),
                target=s.ppu_p10,
                median=s.ppu_median,
                saving_vs_target=_penny(vs_target),
                saving_vs_median=_penny(vs_median) if vs_median >= threshold else _penny(ZERO),
            )
        )
    found.sort(key=lambda o: (-o.saving_vs_target, o.product.name))
    return found[:limit] if limit else found


def trust_totals(*, trust: Organisation, period: Period) -> TrustSavings | None:
    return TrustSavings.objects.filter(trust=trust, period=period).first()


@dataclass(frozen=True)
class TrendPoint:
    period: Period
    spend: Decimal
    savings_target: Decimal
    savings_median: Decimal


def trust_trend(*, trust: Organisation) -> list[TrendPoint]:
    """The trust's spend and possible savings per quarter, oldest first."""
    rows = TrustSavings.objects.filter(trust=trust, period__kind=PeriodKind.QUARTER).select_related("period")
    return sorted(
        (
            TrendPoint(
                period=r.period,
                spend=r.spend,
                savings_target=r.savings_target,
                savings_median=r.savings_median,
            )
            for r in rows
        ),
        key=lambda p: p.period.starts_on,
    )


# --- Lines ------------------------------------------------------------------------------------


def unmatched_lines(*, trust: Organisation) -> QuerySet[PurchaseHistoryLine]:
    return PurchaseHistoryLine.objects.filter(trust=trust, product__isnull=True).order_by("description", "id")


def unmatched_line_for_trust_or_404(*, trust: Organisation, line_id: int) -> PurchaseHistoryLine:
    line = unmatched_lines(trust=trust).filter(pk=line_id).first()
    if line is None:
        raise NotFound("No such unmatched line.")
    return line


def lines_count(*, trust: Organisation, since: dt.date | None = None) -> int:
    lines = PurchaseHistoryLine.objects.filter(trust=trust)
    if since:
        lines = lines.filter(order_date__gte=since)
    return lines.count()
