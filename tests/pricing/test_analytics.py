"""Every stored figure, recomputed independently with pandas from the same lines (as OpenPrescribing does)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from pricing import analytics
from pricing.models import Period, PeriodKind, ProductStats, PurchaseHistoryLine, StaleProduct, TrustSavings
from pricing.periods import bounds
from tests.catalogue.factories import ProductFactory
from tests.organisations.factories import TrustFactory
from tests.pricing.helpers import line, previous_quarter_day

pytestmark = pytest.mark.django_db

THRESHOLD = 10.0
TODAY = dt.date.today()


def expected_figures(period: Period) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Product stats and trust savings for one period, straight from the lines."""
    rows = PurchaseHistoryLine.objects.filter(
        product__isnull=False, order_date__gte=period.starts_on, order_date__lt=period.ends_on
    ).values("trust_id", "product_id", "quantity_packs", "units_per_pack", "pack_price")
    lines = pd.DataFrame.from_records(list(rows))
    lines["units"] = lines.quantity_packs.astype(float) * lines.units_per_pack
    lines["spend"] = lines.quantity_packs.astype(float) * lines.pack_price.astype(float)
    pairs = lines.groupby(["product_id", "trust_id"]).agg(
        lines=("units", "size"), units=("units", "sum"), spend=("spend", "sum")
    )
    pairs["ppu"] = pairs.spend / pairs.units
    products = []
    for product_id, group in pairs.groupby(level="product_id"):
        ppu = group.ppu.to_numpy()
        # Unrounded: savings are computed against the centiles as computed, not as shown.
        target = float(np.percentile(ppu, 10, method="linear"))
        median = float(np.percentile(ppu, 50, method="linear"))
        vs_target = group.spend - group.units * target
        vs_median = group.spend - group.units * median
        products.append(
            {
                "product_id": product_id,
                "trusts": len(group),
                "lines": int(group.lines.sum()),
                "units": group.units.sum(),
                "spend": group.spend.sum(),
                "ppu_min": ppu.min(),
                "ppu_p10": target,
                "ppu_median": median,
                "ppu_p90": float(np.percentile(ppu, 90, method="linear")),
                "ppu_max": ppu.max(),
                "spread": ppu.max() / ppu.min(),
                "cv": ppu.std(ddof=0) / ppu.mean(),
                "savings_target": vs_target[vs_target >= THRESHOLD].sum(),
                "savings_median": vs_median[vs_median >= THRESHOLD].sum(),
            }
        )
    stats = pd.DataFrame(products).set_index("product_id")
    joined = pairs.join(stats[["ppu_p10", "ppu_median"]], on="product_id")
    joined["vs_target"] = joined.spend - joined.units * joined.ppu_p10
    joined["vs_median"] = joined.spend - joined.units * joined.ppu_median
    joined["vs_target_counted"] = joined.vs_target.where(joined.vs_target >= THRESHOLD, 0)
    joined["vs_median_counted"] = joined.vs_median.where(joined.vs_median >= THRESHOLD, 0)
    trusts = joined.groupby(level="trust_id").agg(
        products=("ppu", "size"),
        spend=("spend", "sum"),
        savings_target=("vs_target_counted", "sum"),
        savings_median=("vs_median_counted", "sum"),
    )
    return stats, trusts


def assert_summaries_match(period: Period) -> None:
    stats, trusts = expected_figures(period)
    stored = {s.product_id: s for s in ProductStats.objects.filter(period=period)}
    assert set(stored) == set(stats.index)
    for product_id, want in stats.iterrows():
        got = stored[product_id]
        assert (got.trusts, got.lines) == (want.trusts, want.lines)
        assert float(got.units) == pytest.approx(want.units, abs=0.001)
        assert float(got.spend) == pytest.approx(want.spend, abs=0.006)
        for name in ("ppu_min", "ppu_p10", "ppu_median", "ppu_p90", "ppu_max", "spread", "cv"):
            assert float(getattr(got, name)) == pytest.approx(want[name], abs=0.00006), name
        assert float(got.savings_target) == pytest.approx(want.savings_target, abs=0.006)
        assert float(got.savings_median) == pytest.approx(want.savings_median, abs=0.006)
    stored_trusts = {t.trust_id: t for t in TrustSavings.objects.filter(period=period)}
    assert set(stored_trusts) == set(trusts.index)
    for trust_id, want in trusts.iterrows():
        got = stored_trusts[trust_id]
        assert got.products == want.products
        assert float(got.spend) == pytest.approx(want.spend, abs=0.006)
        assert float(got.savings_target) == pytest.approx(want.savings_target, abs=0.006)
        assert float(got.savings_median) == pytest.approx(want.savings_median, abs=0.006)


def period_of(kind: str, day: dt.date) -> Period:
    return Period.objects.get(kind=kind, starts_on=bounds(kind, day)[0])


@pytest.fixture
def market():
    """Ten trusts buying three products in different pack sizes, prices and quantities."""
    trusts = [TrustFactory() for _ in range(10)]
    stockings, gloves, dressings = ProductFactory(), ProductFactory(), ProductFactory()
    for index, trust in enumerate(trusts):
        # Stockings: packs of 10 for some trusts, single pairs for others; prices rise by trust.
        if index % 2:
            line(trust, stockings, packs="30", units_per_pack=10, pack_price=f"{40 + 3 * index}.00")
        else:
            line(trust, stockings, packs="250", units_per_pack=1, pack_price=f"{4 + index * 0.3:.2f}")
        line(trust, stockings, packs="7", units_per_pack=1, pack_price="5.10", day=previous_quarter_day())
        # Gloves: boxes of 100, a few trusts only; one buys a single small line.
        if index < 4:
            line(trust, gloves, packs="12.5", units_per_pack=100, pack_price=f"{6 + index:.4f}")
    line(trusts[9], dressings, packs="3", units_per_pack=5, pack_price="12.3456")
    return trusts, (stockings, gloves, dressings)


def test_stored_figures_agree_with_an_independent_recomputation(market):
    analytics.summaries_refresh(full=True)
    for kind in (PeriodKind.YEAR, PeriodKind.QUARTER):
        assert_summaries_match(period_of(kind, TODAY))
    assert_summaries_match(period_of(PeriodKind.QUARTER, previous_quarter_day()))


def test_packs_of_ten_and_of_one_compare_per_unit(market):
    _, (stockings, _, _) = market
    analytics.summaries_refresh(full=True)
    stats = ProductStats.objects.get(product=stockings, period=period_of(PeriodKind.QUARTER, TODAY))
    # The dearest: trust 9 paid £67.00 for 10 pairs, £6.70 a pair; the cheapest £4.00 a pair.
    assert stats.ppu_max == Decimal("6.7000")
    assert stats.ppu_min == Decimal("4.0000")
    assert stats.spread == Decimal("1.6750")


def test_a_product_bought_by_one_trust_once_has_no_saving(market):
    _, (_, _, dressings) = market
    analytics.summaries_refresh(full=True)
    stats = ProductStats.objects.get(product=dressings, period=period_of(PeriodKind.YEAR, TODAY))
    assert stats.trusts == 1
    assert stats.ppu_min == stats.ppu_p10 == stats.ppu_median == stats.ppu_max == Decimal("2.4691")
    assert stats.savings_target == Decimal("0.00")
    assert stats.cv == Decimal("0.0000")


def test_ties_at_the_tenth_centile_interpolate_between_equal_prices():
    product = ProductFactory()
    trusts = [TrustFactory() for _ in range(5)]
    for trust, price in zip(trusts, ["2.00", "2.00", "2.00", "3.00", "5.00"], strict=True):
        line(trust, product, packs="100", pack_price=price)
    analytics.summaries_refresh(full=True)
    stats = ProductStats.objects.get(product=product, period=period_of(PeriodKind.YEAR, TODAY))
    assert (stats.ppu_p10, stats.ppu_median, stats.ppu_p90) == (
        Decimal("2.0000"),
        Decimal("2.0000"),
        Decimal("4.2000"),
    )
    # Savings against £2.00: (3 - 2) x 100 + (5 - 2) x 100.
    assert stats.savings_target == Decimal("400.00")
    assert_summaries_match(period_of(PeriodKind.YEAR, TODAY))


def test_savings_below_the_threshold_are_left_out_of_totals(settings):
    settings.PRICING_SAVINGS_THRESHOLD = "10"
    product = ProductFactory()
    cheap, slightly_dear, dear = TrustFactory(), TrustFactory(), TrustFactory()
    line(cheap, product, packs="100", pack_price="1.00")
    line(slightly_dear, product, packs="100", pack_price="1.05")  # would save £5: below £10
    line(dear, product, packs="100", pack_price="1.50")  # would save £50
    analytics.summaries_refresh(full=True)
    period = period_of(PeriodKind.YEAR, TODAY)
    stats = ProductStats.objects.get(product=product, period=period)
    assert stats.ppu_p10 == Decimal("1.0100")
    assert stats.savings_target == Decimal("49.00")
    assert TrustSavings.objects.get(trust=slightly_dear, period=period).savings_target == Decimal("0.00")
    assert TrustSavings.objects.get(trust=dear, period=period).savings_target == Decimal("49.00")


def test_a_refresh_after_new_lines_recomputes_only_what_changed_and_agrees_with_a_full_one(market):
    trusts, (stockings, gloves, _) = market
    analytics.summaries_refresh(full=True)
    assert not StaleProduct.objects.exists()
    untouched = ProductStats.objects.get(product=stockings, period=period_of(PeriodKind.YEAR, TODAY))
    line(trusts[5], gloves, packs="40", units_per_pack=100, pack_price="11.00")
    assert set(StaleProduct.objects.values_list("product_id", flat=True)) == {gloves.pk}
    analytics.summaries_refresh()
    assert not StaleProduct.objects.exists()
    again = ProductStats.objects.get(product=stockings, period=period_of(PeriodKind.YEAR, TODAY))
    assert again.refreshed_at == untouched.refreshed_at
    for kind in (PeriodKind.YEAR, PeriodKind.QUARTER):
        assert_summaries_match(period_of(kind, TODAY))


def trust_totals() -> dict[tuple[int, int], tuple]:
    return {
        (t.period_id, t.trust_id): (t.products, t.spend, t.savings_target, t.savings_median)
        for t in TrustSavings.objects.all()
    }


def assert_every_period_matches() -> None:
    for period in Period.objects.all():
        assert_summaries_match(period)


def test_trusts_totals_kept_by_difference_over_several_refreshes_equal_a_full_recomputation(market):
    """Incremental refreshes adjust each trust's totals by what the stale products contributed when last
    counted and contribute now (PostgreSQL); they must land where a full recomputation does."""
    from django.db import connection

    trusts, (stockings, gloves, dressings) = market
    analytics.summaries_refresh(full=True)
    year = period_of(PeriodKind.YEAR, TODAY)

    newcomer = TrustFactory()
    line(newcomer, stockings, packs="90", pack_price="6.90")  # a new trust, paying the most
    line(trusts[0], gloves, packs="5", units_per_pack=100, pack_price="30.00", reference="MOVE")
    analytics.summaries_refresh()
    assert_every_period_matches()

    # The same order line corrected to another product and an earlier quarter: its pair disappears.
    line(
        trusts[0],
        dressings,
        packs="2",
        units_per_pack=5,
        pack_price="20.00",
        reference="MOVE",
        day=previous_quarter_day(),
    )
    line(trusts[9], dressings, packs="1", units_per_pack=5, pack_price="10.00")
    # Two writes to one pair between refreshes: the pair as last counted is the one before the first.
    line(newcomer, stockings, packs="10", pack_price="7.00", reference="TWICE")
    line(newcomer, stockings, packs="12", pack_price="7.10", reference="TWICE")
    analytics.summaries_refresh()
    assert_every_period_matches()

    bystander = TrustSavings.objects.get(period=year, trust=trusts[7])  # buys no gloves
    line(trusts[1], gloves, packs="1", units_per_pack=100, pack_price="9.00")
    analytics.summaries_refresh()
    assert_every_period_matches()
    if connection.vendor == "postgresql":
        # Only trusts that bought a stale product were rewritten.
        untouched = TrustSavings.objects.get(period=year, trust=trusts[7])
        assert untouched.refreshed_at == bystander.refreshed_at

    by_difference = trust_totals()
    analytics.summaries_refresh(full=True)
    assert trust_totals() == by_difference

    # After the rollup is rebuilt from the lines, the next refresh computes everything afresh.
    analytics.pair_totals_rebuild()
    analytics.summaries_refresh()
    assert trust_totals() == by_difference
    assert_every_period_matches()


def stored_rows() -> dict[str, dict[tuple[int, int], tuple]]:
    """Every summary row with its refreshed_at and, on PostgreSQL, the transaction that wrote its version
    (xmin): a row the refresh left alone keeps both."""
    from django.db import connection

    rows: dict[str, dict[tuple[int, int], tuple]] = {}
    for table, other in (("pricing_productstats", "product_id"), ("pricing_trustsavings", "trust_id")):
        version = "xmin::text" if connection.vendor == "postgresql" else "''"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT period_id, {other}, refreshed_at, {version} FROM {table}")
            rows[table] = {(period, key): (at, xmin) for period, key, at, xmin in cursor.fetchall()}
    return rows


def test_a_full_refresh_where_nothing_changed_writes_nothing_and_leaves_the_same_figures(market):
    """A full refresh writes a product's figures, or a trust's totals, only where they differ from those
    stored: most of them in a nightly refresh. What it leaves alone must equal a recomputation."""
    trusts, (_, gloves, _) = market
    analytics.summaries_refresh(full=True)
    first = stored_rows()
    figures = trust_totals()
    analytics.summaries_refresh(full=True)
    assert stored_rows() == first
    assert trust_totals() == figures
    assert_every_period_matches()

    # A new line for gloves: only the gloves' figures and the totals of trusts that buy gloves change.
    line(trusts[5], gloves, packs="40", units_per_pack=100, pack_price="11.00")
    StaleProduct.objects.all().delete()  # left to the full refresh below
    analytics.summaries_refresh(full=True)
    after = stored_rows()
    year = period_of(PeriodKind.YEAR, TODAY)
    changed = {
        key
        for key in after["pricing_productstats"]
        if after["pricing_productstats"][key] != first["pricing_productstats"].get(key)
    }
    assert changed == {(year.pk, gloves.pk), (period_of(PeriodKind.QUARTER, TODAY).pk, gloves.pk)}
    assert (
        after["pricing_trustsavings"][(year.pk, trusts[9].pk)]
        == first["pricing_trustsavings"][(year.pk, trusts[9].pk)]
    )
    assert after["pricing_trustsavings"][(year.pk, trusts[5].pk)] != first["pricing_trustsavings"].get(
        (year.pk, trusts[5].pk)
    )
    assert_every_period_matches()

    # A product's only line moves to the quarter before: its figures for this quarter go, and so does
    # the quarter's total of the one trust that bought it, left with nothing in that quarter.
    loner, rare = TrustFactory(), ProductFactory()
    line(loner, rare, packs="2", units_per_pack=5, pack_price="9.00", reference="LONER")
    analytics.summaries_refresh(full=True)
    quarter = period_of(PeriodKind.QUARTER, TODAY)
    assert ProductStats.objects.filter(product=rare, period=quarter).exists()
    assert TrustSavings.objects.filter(trust=loner, period=quarter).exists()
    line(
        loner,
        rare,
        packs="2",
        units_per_pack=5,
        pack_price="9.00",
        reference="LONER",
        day=previous_quarter_day(),
    )
    StaleProduct.objects.all().delete()
    analytics.summaries_refresh(full=True)
    assert not ProductStats.objects.filter(product=rare, period=quarter).exists()
    assert not TrustSavings.objects.filter(trust=loner, period=quarter).exists()
    assert_every_period_matches()


def test_figures_stored_without_their_doubles_are_computed_and_written_again(market):
    """Rows written before their doubles were kept (or by SQLite's refresh) carry none: the next refresh
    writes them whole, and the one after leaves them alone."""
    from django.db import connection

    analytics.summaries_refresh(full=True)
    from django.db.models import F

    # Figures gone wrong, as if written by older code: the refresh must not trust them.
    ProductStats.objects.update(ppu_p10=F("ppu_min"), savings_target=Decimal("0.00"), p10_unrounded=None)
    analytics.summaries_refresh(full=True)
    assert_every_period_matches()
    if connection.vendor == "postgresql":
        assert not ProductStats.objects.filter(p10_unrounded__isnull=True).exists()
    first = stored_rows()
    analytics.summaries_refresh(full=True)
    assert stored_rows() == first


def test_totals_from_before_the_unrounded_sums_are_summed_afresh_at_the_next_refresh(market):
    """As after migration 0006 on a live database: stored totals without unrounded sums, flagged."""
    trusts, (stockings, _, _) = market
    analytics.summaries_refresh(full=True)
    TrustSavings.objects.update(spend_unrounded=0, savings_target_unrounded=0, savings_median_unrounded=0)
    Period.objects.update(trust_totals_resum=True)
    line(trusts[2], stockings, packs="20", pack_price="6.50")
    analytics.summaries_refresh()
    assert_every_period_matches()
    assert not Period.objects.filter(trust_totals_resum=True).exists()


def test_deleting_a_product_has_trusts_totals_summed_afresh(market):
    _, (_, _, dressings) = market
    analytics.summaries_refresh(full=True)
    dressings.delete()  # only trust 9 bought it; its lines become unmatched
    assert Period.objects.filter(trust_totals_resum=True).exists()
    analytics.summaries_refresh()
    assert_every_period_matches()
    assert not ProductStats.objects.filter(product_id=dressings.pk).exists()


def test_an_import_refreshes_the_summaries(market):
    from organisations.models import Role
    from tests.catalogue.factories import OfferFactory
    from tests.organisations.factories import member
    from tests.pricing.helpers import row, upload

    trusts, _ = market
    product = OfferFactory(supplier_sku="NEW-1").product
    buyer = member(Role.BUYER, trusts[0])
    upload(buyer, [row(trust_ods=trusts[0].ods_code, supplier_sku="NEW-1", pack_price="3.00")])
    assert ProductStats.objects.filter(product=product).count() == 2
    assert not StaleProduct.objects.exists()


def test_the_nightly_task_matches_lines_the_catalogue_can_now_match_and_refreshes(settings):
    from organisations.models import Role
    from pricing.tasks import nightly
    from tests.catalogue.factories import OfferFactory
    from tests.organisations.factories import member
    from tests.pricing.helpers import row, upload

    assert settings.CELERY_BEAT_SCHEDULE["pricing-nightly"]["task"] == "pricing.nightly"
    trust = TrustFactory(ods_code="T0001")
    upload(member(Role.BUYER, trust), [row(supplier_sku="LATER-1")])
    assert PurchaseHistoryLine.objects.get().product_id is None
    product = OfferFactory(supplier_sku="LATER-1").product
    result = nightly.delay().get()
    assert result["rematched"] == 1
    assert PurchaseHistoryLine.objects.get().product_id == product.pk
    assert ProductStats.objects.filter(product=product).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_full_refresh_outside_a_transaction_refreshes_periods_side_by_side_with_the_same_figures(
    market, monkeypatch
):
    """The nightly refresh runs in no transaction; on PostgreSQL it spreads periods over connections."""
    from django.db import connection

    on_own_connection = []
    original = analytics._refresh_period_on_own_connection

    def spy(period_id, **kwargs):
        on_own_connection.append(period_id)
        original(period_id, **kwargs)

    monkeypatch.setattr(analytics, "_refresh_period_on_own_connection", spy)
    analytics.summaries_refresh(full=True)
    periods = set(Period.objects.values_list("id", flat=True))
    if connection.vendor == "postgresql":
        assert set(on_own_connection) == periods
    else:
        assert on_own_connection == []  # SQLite: one connection, one period after another
    assert set(ProductStats.objects.values_list("period_id", flat=True)) == periods
    for kind in (PeriodKind.YEAR, PeriodKind.QUARTER):
        assert_summaries_match(period_of(kind, TODAY))
    assert_summaries_match(period_of(PeriodKind.QUARTER, previous_quarter_day()))


@pytest.mark.django_db(transaction=True)
def test_new_lines_wait_while_their_period_is_being_refreshed_so_no_stale_mark_is_lost():
    """A refresh ends by clearing its period's stale marks; a write committed beside it would lose its mark.

    On PostgreSQL, with real concurrent transactions: while one connection holds a period's refresh
    lock, a second connection writing a line in that period waits (here: times out) instead of
    committing beside the refresh.
    """
    import threading

    from django.db import OperationalError, connection, connections, transaction

    if connection.vendor != "postgresql":
        pytest.skip("advisory locks and concurrent transactions are tested on PostgreSQL (CI runs it)")
    trust, product = TrustFactory(), ProductFactory()
    line(trust, product)
    period_id = StaleProduct.objects.values_list("period_id", flat=True).first()
    refresh_holds_lock, writer_done = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def refresh_in_progress() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s, %s)", [analytics.LOCK_PERIOD_REFRESH, period_id]
                )
                refresh_holds_lock.set()
                writer_done.wait(timeout=10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=refresh_in_progress)
    holder.start()
    assert refresh_holds_lock.wait(timeout=10)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '300ms'")
            line(trust, product)
    except OperationalError as error:
        outcome["error"] = str(error)
    finally:
        writer_done.set()
        holder.join(timeout=10)
    assert "lock timeout" in str(outcome.get("error", ""))
    # Once the refresh has finished, the same write goes through and marks the product stale.
    line(trust, product)
    assert StaleProduct.objects.filter(period_id=period_id, product=product).exists()
