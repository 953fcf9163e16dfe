"""Savings are exact to the penny: recomputed here from the raw lines in Python Decimal, with nothing
rounded before the final amount (centiles by percentile_cont's definition), and compared with every
figure the pages, reports and API show."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest

from organisations.models import Region
from pricing import analytics, selectors
from pricing.models import Period, PeriodKind, ProductStats, PurchaseHistoryLine, TrustSavings
from pricing.periods import bounds
from tests.catalogue.factories import ProductFactory
from tests.organisations.factories import TrustFactory
from tests.pricing.helpers import line, previous_quarter_day

pytestmark = pytest.mark.django_db

THRESHOLD = Decimal("10")
PENNY = Decimal("0.01")
TODAY = dt.date.today()


def penny(value: Decimal) -> Decimal:
    return value.quantize(PENNY, rounding=ROUND_HALF_UP)


def centile(values: list[Decimal], fraction: Decimal) -> Decimal:
    """percentile_cont: position fraction x (n - 1) from 0, linear interpolation between its neighbours."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def exact(period: Period) -> dict:
    """Per pair, product and trust, from the lines: unrounded until the final penny."""
    with localcontext() as context:
        context.prec = 60
        pairs: dict[tuple[int, int], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
        lines = PurchaseHistoryLine.objects.filter(
            product__isnull=False, order_date__gte=period.starts_on, order_date__lt=period.ends_on
        )
        for product_id, trust_id, packs, per_pack, price in lines.values_list(
            "product_id", "trust_id", "quantity_packs", "units_per_pack", "pack_price"
        ):
            pair = pairs[product_id, trust_id]
            pair[0] += packs * per_pack
            pair[1] += packs * price
        by_product = defaultdict(dict)
        for (product_id, trust_id), (units, spend) in pairs.items():
            by_product[product_id][trust_id] = (units, spend)
        pair_savings, products, trusts = {}, {}, defaultdict(lambda: [Decimal(0)] * 3)
        for product_id, of_trusts in by_product.items():
            ppus = [spend / units for units, spend in of_trusts.values()]
            target, median = centile(ppus, Decimal("0.1")), centile(ppus, Decimal("0.5"))
            sums = [Decimal(0), Decimal(0)]
            for trust_id, (units, spend) in of_trusts.items():
                vs_target, vs_median = spend - units * target, spend - units * median
                pair_savings[product_id, trust_id] = (vs_target, vs_median)
                counted = [s if s >= THRESHOLD else Decimal(0) for s in (vs_target, vs_median)]
                sums = [a + b for a, b in zip(sums, counted, strict=True)]
                totals = trusts[trust_id]
                trusts[trust_id] = [totals[0] + spend, totals[1] + counted[0], totals[2] + counted[1]]
            products[product_id] = tuple(penny(s) for s in sums)
    return {
        "pairs": pair_savings,
        "products": products,
        "trusts": {t: tuple(penny(v) for v in values) for t, values in trusts.items()},
    }


def assert_exact(period: Period) -> None:
    want = exact(period)
    stored = {
        s.product_id: (s.savings_target, s.savings_median) for s in ProductStats.objects.filter(period=period)
    }
    assert stored == want["products"]
    totals = {
        t.trust_id: (t.spend, t.savings_target, t.savings_median)
        for t in TrustSavings.objects.filter(period=period)
    }
    assert totals == want["trusts"]


def period_of(kind: str, day: dt.date) -> Period:
    return Period.objects.get(kind=kind, starts_on=bounds(kind, day)[0])


@pytest.fixture
def gloves_market():
    """Five trusts buy nitrile gloves in boxes of 100. The 10th centile is £0.0224906 a glove, which
    rounds to £0.0225: against the rounded figure the dearer trust's saving would be £12.36."""
    gloves = ProductFactory(name="Nitrile examination gloves, medium, box of 100")
    leeds = TrustFactory(name="Leeds Teaching Hospitals NHS Trust", region=Region.NORTH_EAST_AND_YORKSHIRE)
    # Leeds and the two cheapest trusts are in North East and Yorkshire, the other two in London.
    others = [TrustFactory(region=Region.NORTH_EAST_AND_YORKSHIRE) for _ in range(2)]
    others += [TrustFactory(region=Region.LONDON) for _ in range(2)]
    for trust, boxes, price in zip(
        others, ["300", "125", "40", "60"], ["2.2451", "2.2550", "2.3000", "2.5200"], strict=True
    ):
        line(trust, gloves, packs=boxes, units_per_pack=100, pack_price=price)
    line(leeds, gloves, packs="74", units_per_pack=100, pack_price="2.4170")  # 7,400 gloves
    analytics.summaries_refresh(full=True)
    return gloves, leeds


def test_a_trust_that_bought_7400_gloves_is_shown_the_saving_units_times_price_above_target(gloves_market):
    gloves, leeds = gloves_market
    period = period_of(PeriodKind.YEAR, TODAY)
    # 7,400 x (£0.02417 - £0.0224906) = £12.42756
    saving = Decimal("12.43")
    stats = ProductStats.objects.get(period=period, product=gloves)
    assert stats.ppu_p10 == Decimal("0.0225")  # shown at four places
    # With the dearest trust's 6,000 x (£0.0252 - £0.0224906) = £16.2564, unrounded until the total.
    assert stats.savings_target == Decimal("28.68")
    assert TrustSavings.objects.get(period=period, trust=leeds).savings_target == saving
    [opportunity] = selectors.trust_opportunities(trust=leeds, period=period)
    assert opportunity.saving_vs_target == saving
    assert selectors.peer_prices(product=gloves, trust=leeds, period=period).saving_vs_target == saving
    variance = selectors.product_variance(product=gloves, period=period, viewer=leeds)
    assert variance.viewer_point.saving == saving
    [regional] = selectors.top_savings(period=period, region=Region.NORTH_EAST_AND_YORKSHIRE)
    assert regional.savings_target == saving
    assert_exact(period)


def test_a_saving_just_over_the_threshold_against_the_unrounded_target_counts():
    """Against £0.0225 the dearer trust would save £9.996, below the £10 threshold; against £0.0224906,
    £10.0336."""
    gloves = ProductFactory()
    others = [TrustFactory() for _ in range(4)]
    for trust, price in zip(others, ["2.2451", "2.2550", "2.3000", "2.5200"], strict=True):
        line(trust, gloves, packs="100", units_per_pack=100, pack_price=price)
    dear = TrustFactory()
    line(dear, gloves, packs="40", units_per_pack=100, pack_price="2.4999")
    analytics.summaries_refresh(full=True)
    period = period_of(PeriodKind.YEAR, TODAY)
    assert TrustSavings.objects.get(period=period, trust=dear).savings_target == Decimal("10.03")
    assert_exact(period)


@pytest.fixture
def market():
    """Twelve trusts, four products with awkward prices, pack sizes and fractional packs, two quarters."""
    trusts = [TrustFactory() for _ in range(12)]
    products = [ProductFactory() for _ in range(4)]
    for index, trust in enumerate(trusts):
        line(trust, products[0], packs="7400", units_per_pack=1, pack_price=f"0.0{225 + 7 * index}")
        line(trust, products[0], packs="13", units_per_pack=100, pack_price=f"2.{3100 + 97 * index}")
        if index % 3:
            price = f"{9 + index / 7:.4f}"
            line(trust, products[1], packs=f"{17 + index}.5", units_per_pack=12, pack_price=price)
        price = f"{31 + (index * 13) % 9}.1234"
        line(trust, products[2], packs=f"{3 + index}", units_per_pack=50, pack_price=price)
        line(
            trust,
            products[3],
            packs=f"{1000 + 37 * index}",
            units_per_pack=1,
            pack_price=f"0.{1234 + 311 * index}",
            day=previous_quarter_day(),
        )
    return trusts, products


def test_every_stored_total_equals_the_exact_recomputation_to_the_penny(market):
    trusts, products = market
    analytics.summaries_refresh(full=True)
    for period in Period.objects.all():
        assert_exact(period)
    # An incremental refresh (totals adjusted by difference on PostgreSQL) lands in the same place.
    line(trusts[4], products[0], packs="999", units_per_pack=1, pack_price="0.0311")
    line(TrustFactory(), products[2], packs="9", units_per_pack=50, pack_price="40.0001")
    analytics.summaries_refresh()
    for period in Period.objects.all():
        assert_exact(period)


def test_each_trusts_figures_on_its_pages_equal_the_exact_recomputation(market):
    trusts, products = market
    analytics.summaries_refresh(full=True)
    period = period_of(PeriodKind.YEAR, TODAY)
    want = exact(period)["pairs"]
    for trust in trusts:
        for opportunity in selectors.trust_opportunities(trust=trust, period=period, limit=None):
            vs_target, _ = want[opportunity.product.pk, trust.pk]
            assert opportunity.saving_vs_target == penny(vs_target)
        for product in products[:3]:
            peer = selectors.peer_prices(product=product, trust=trust, period=period)
            if peer.own_units is not None:
                vs_target, vs_median = want[product.pk, trust.pk]
                assert peer.saving_vs_target == penny(max(vs_target, Decimal(0)))
                assert peer.saving_vs_median == penny(max(vs_median, Decimal(0)))
