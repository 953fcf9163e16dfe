"""Running the analytics SQL in pricing/sql/: the rollup as lines arrive, and the refresh of summaries.

PostgreSQL computes the centiles with `percentile_cont`. SQLite has no ordered-set aggregates, so
there the per-product step runs in Python with the same definition (linear interpolation between
the closest ranks); every other step is the same SQL on both engines. Savings are computed against
the unrounded centiles (kept to 12 places); only the final amounts are rounded, once.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import connection, models, transaction
from django.utils import timezone

from common.caching import shared_changed
from pricing.models import DirtyPair, PairSeen, PairTotal, Period, ProductStats, StaleProduct

SQL_DIR = Path(__file__).resolve().parent / "sql"
FOUR_PLACES = Decimal("0.0001")
TWO_PLACES = Decimal("0.01")
# The centiles as stored for computing savings (ProductStats.target_ppu and median_ppu).
TWELVE_PLACES = Decimal("0.000000000001")


# What pages keep of the figures in the shared cache (`common.caching`; a product page's peer prices):
# its version moves with every write of the rollup or the summaries below.
FIGURES_NAMESPACE = "pricing-figures"


def figures_changed() -> None:
    """The rollup or the summaries changed: pages' kept figures go (again when the transaction commits)."""
    shared_changed(FIGURES_NAMESPACE)


@functools.cache
def load_sql(name: str) -> list[str]:
    """The statements of one reviewed .sql file (comments kept, split on ';' at line ends)."""
    text = (SQL_DIR / name).read_text()
    return [s.strip() for s in text.split(";\n") if s.strip() and not _only_comments(s)]


def _only_comments(statement: str) -> bool:
    return all(not line.strip() or line.strip().startswith("--") for line in statement.splitlines())


# A statement whose comment has a line starting with this runs on PostgreSQL only (e.g. an ANALYZE with
# a column list, which SQLite's ANALYZE does not accept and its planner does not need).
POSTGRESQL_ONLY = "-- PostgreSQL only"


def run_sql(name: str, params: dict) -> None:
    with connection.cursor() as cursor:
        for statement in load_sql(name):
            if connection.vendor != "postgresql" and _postgresql_only(statement):
                continue
            cursor.execute(statement, params)


def _postgresql_only(statement: str) -> bool:
    return any(line.strip().startswith(POSTGRESQL_ONLY) for line in statement.splitlines())


def savings_threshold() -> Decimal:
    """The smallest possible saving counted in totals (GBP). The SQL casts it to the type it compares
    with (SQLite receives a Decimal parameter as text, which would compare as text)."""
    return Decimal(str(settings.PRICING_SAVINGS_THRESHOLD))


# --- The rollup ------------------------------------------------------------------------------


def new_batch() -> int:
    return secrets.randbits(62)


# One write's change to one rollup row: (period_id, product_id, trust_id, lines, units, spend), the
# last three to add (negative to take away).
RollupChange = tuple[int, int, int, int, Decimal, Decimal]


def pair_totals_apply(*, changes: Iterable[RollupChange]) -> int:
    """Add these changes to the rollup and mark their products stale.

    Call inside the transaction that changed the lines, after `rollup_writers_lock` for their trusts
    and before reading the lines the changes come from. Returns how many keys were changed.
    """
    batch = new_batch()
    with transaction.atomic():
        noted = dirty_pairs_mark(batch=batch, changes=changes)
        if noted:
            pair_totals_apply_batch(batch=batch)
    return noted


def dirty_pairs_mark(*, batch: int, changes: Iterable[RollupChange]) -> int:
    """Note changes to rollup rows under `batch`, summed per key, for `pair_totals_apply_batch`."""
    summed: dict[tuple[int, int, int], list] = {}
    for period_id, product_id, trust_id, lines, units, spend in changes:
        total = summed.setdefault((period_id, product_id, trust_id), [0, Decimal(0), Decimal(0)])
        total[0] += lines
        total[1] += units
        total[2] += spend
    rows = [
        DirtyPair(batch=batch, period_id=pe, product_id=pr, trust_id=tr, lines=li, units=un, spend=sp)
        for (pe, pr, tr), (li, un, sp) in summed.items()
    ]
    DirtyPair.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def pair_totals_apply_batch(*, batch: int) -> None:
    """Add the changes noted under `batch` in DirtyPair to the rollup, mark their products stale, and
    consume the batch (pricing/sql/pair_totals_apply.sql). Call inside the transaction that changed
    the lines, which holds `rollup_writers_lock` for their trusts."""
    with transaction.atomic():
        touched = DirtyPair.objects.filter(batch=batch)
        period_ids = sorted(set(touched.values_list("period_id", flat=True).distinct()))
        if not period_ids:
            return
        _lock_shared(LOCK_PERIOD_REFRESH, period_ids)
        _analyze_dirty_pairs()
        run_sql("pair_totals_apply.sql", {"batch": batch})
        figures_changed()


def rollup_writers_lock(trust_ids: Iterable[int]) -> None:
    """Take turns with other writers of these trusts' lines until the transaction ends (PostgreSQL).

    Changes to the rollup are computed from the lines as they are before the write (what a replaced
    line took away) and added to the rollup rows as they are: two writers of one trust's lines at once
    would both count the line as it was before either. Every writer of lines takes its trusts' locks
    first, in id order, inside its transaction, before it reads them.
    """
    _lock(LOCK_TRUST_ROLLUP, sorted(set(trust_ids)))


# Advisory-lock namespaces: writers of one trust's rollup rows, and refreshes of one period, take turns
# (two transactions recomputing the same rows would otherwise collide on the unique keys). Writers
# also hold the periods they touch in shared mode, so that a refresh (exclusive) never runs beside a
# write to its period: the refresh ends by clearing the period's stale marks, and a mark committed
# during the refresh would otherwise be cleared unseen.
LOCK_TRUST_ROLLUP = 5301
LOCK_PERIOD_REFRESH = 5302


def _lock(namespace: int, ids: Sequence[int]) -> None:
    """Transaction-scoped locks on PostgreSQL, taken in id order so that writers never deadlock."""
    _lock_all(LOCK_SQL, namespace, ids)


def _lock_shared(namespace: int, ids: Sequence[int]) -> None:
    """Shared transaction-scoped locks on PostgreSQL: many holders at once, none beside an exclusive one."""
    _lock_all(LOCK_SHARED_SQL, namespace, ids)


# One statement for all the ids (a write's lines can name hundreds of trusts), taking the locks one
# after another in id order.
KEYS_IN_ORDER = "FROM (SELECT DISTINCT unnest(%s::integer[]) AS k ORDER BY 1) ids"
LOCK_SQL = "SELECT pg_advisory_xact_lock(%s, k) " + KEYS_IN_ORDER
LOCK_SHARED_SQL = "SELECT pg_advisory_xact_lock_shared(%s, k) " + KEYS_IN_ORDER


def _lock_all(sql: str, namespace: int, ids: Sequence[int]) -> None:
    if connection.vendor != "postgresql" or not ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(sql, [namespace, list(ids)])


def _analyze_dirty_pairs() -> None:
    """Let PostgreSQL's planner see how few keys there are, so it probes the rollup by index."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Its row count, and the columns read by pair_totals_apply.sql's filter and grouping (not
            # the numeric sums, most of the cost).
            cursor.execute("ANALYZE pricing_dirtypair (batch, period_id, product_id, trust_id)")


def pair_totals_rebuild() -> None:
    """Rebuild the whole rollup from the lines; every product becomes stale."""
    with transaction.atomic():
        run_sql("pair_totals_rebuild.sql", {})
        figures_changed()


def product_deleted(sender, instance, **kwargs) -> None:
    """A deleted product's rollup rows and stale marks go, and its figures went with it (a cascade):
    trusts' totals need a fresh sum.

    The rollup and the stale marks have no index on the product alone (each would take a random page
    for every row a write changes), so their rows are found here through their keys' indexes, one
    probe per period, rather than by a cascade's scan of every row."""
    period_ids = list(Period.objects.values_list("id", flat=True))
    PairTotal.objects.filter(period_id__in=period_ids, product_id=instance.pk).delete()
    StaleProduct.objects.filter(period_id__in=period_ids, product_id=instance.pk).delete()
    Period.objects.filter(trust_totals_resum=False).update(trust_totals_resum=True)
    figures_changed()


# --- The refresh -----------------------------------------------------------------------------


def summaries_refresh(*, full: bool = False, period_ids: Sequence[int] | None = None) -> dict:
    """Recompute product stats (all, or only stale products) and trust savings for the periods.

    Without `period_ids`: every period that has stale products, or every period when `full`.
    On PostgreSQL, outside a caller's transaction, periods are refreshed side by side on
    `PRICING_REFRESH_WORKERS` connections (default 2): each period is one transaction of its own, and
    the per-period SQL uses one core for most of its time.
    """
    if period_ids is None:
        if full:
            period_ids = list(Period.objects.values_list("id", flat=True))
        else:
            period_ids = sorted(
                set(StaleProduct.objects.values_list("period_id", flat=True))
                | set(Period.objects.filter(trust_totals_resum=True).values_list("id", flat=True))
            )
    now = timezone.now()
    workers = settings.PRICING_REFRESH_WORKERS
    if (
        connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and workers > 1
        and len(period_ids) > 1
    ):
        # Largest periods first, so that the two workers finish at about the same time.
        sizes = dict(
            Period.objects.filter(id__in=period_ids)
            .annotate(days=models.F("ends_on") - models.F("starts_on"))
            .values_list("id", "days")
        )
        ordered = sorted(period_ids, key=lambda pk: sizes.get(pk) or dt.timedelta(0), reverse=True)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(lambda pk: _refresh_period_on_own_connection(pk, full=full, now=now), ordered))
    else:
        for period_id in period_ids:
            _refresh_period(period_id, full=full, now=now)
    # Pages cache which periods have figures (pricing.selectors.periods_with_figures), and the figures.
    cache.delete("pricing:periods-with-figures")
    figures_changed()
    return {"periods": len(period_ids)}


def _refresh_period_on_own_connection(period_id: int, *, full: bool, now) -> None:
    try:
        _refresh_period(period_id, full=full, now=now)
    finally:
        # Each worker thread opened its own connection; close it rather than leave it idle.
        connection.close()


def _refresh_period(period_id: int, *, full: bool, now) -> None:
    with transaction.atomic():
        _lock(LOCK_PERIOD_REFRESH, [period_id])
        resum = Period.objects.filter(pk=period_id, trust_totals_resum=True).exists()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Centiles sort every pair of the period: keep that sort in memory. JIT compiling
                # costs more than it saves on these short, wide aggregates.
                cursor.execute("SET LOCAL work_mem = '1GB'")
                cursor.execute("SET LOCAL jit = off")
            params = {"period": period_id, "full": full, "threshold": savings_threshold(), "now": now}
            if full:
                # Every product's figures and, in the same pass, every trust's totals.
                run_sql("product_stats.postgresql.sql", params)
            elif resum:
                # The stale products' figures, then every trust's totals summed afresh.
                run_sql("product_stats.postgresql.sql", params)
                run_sql("trust_savings.sql", params)
            else:
                # The stale products' figures; trusts' totals adjusted by what those contributed
                # then and contribute now, instead of summed again over every pair of the period.
                run_sql("trust_savings_before.postgresql.sql", params)
                run_sql("product_stats.postgresql.sql", params)
                run_sql("trust_savings_by_difference.postgresql.sql", params)
        else:
            _product_stats_python(period_id=period_id, full=full, now=now)
            run_sql("trust_savings.sql", {"period": period_id, "threshold": savings_threshold(), "now": now})
        StaleProduct.objects.filter(period_id=period_id).delete()
        PairSeen.objects.filter(period_id=period_id).delete()
        if resum:
            Period.objects.filter(pk=period_id).update(trust_totals_resum=False)


def percentile_cont(sorted_values: Sequence[Decimal], fraction: Decimal) -> Decimal:
    """PostgreSQL's percentile_cont: linear interpolation between the two closest ranks."""
    position = fraction * (len(sorted_values) - 1)
    lower = int(position)
    upper = min(lower + 1, len(sorted_values) - 1)
    weight = position - lower
    return sorted_values[lower] + (sorted_values[upper] - sorted_values[lower]) * weight


def _q4(value: Decimal) -> Decimal:
    return value.quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)


def _q12(value: Decimal) -> Decimal:
    return value.quantize(TWELVE_PLACES, rounding=ROUND_HALF_UP)


def _q2(value: Decimal) -> Decimal:
    return value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def _product_stats_python(*, period_id: int, full: bool, now) -> None:
    """The SQLite path of product_stats.postgresql.sql: the same figures, computed in Python."""
    pairs = PairTotal.objects.filter(period_id=period_id)
    stats = ProductStats.objects.filter(period_id=period_id)
    if not full:
        stale = StaleProduct.objects.filter(period_id=period_id).values("product_id")
        pairs = pairs.filter(product_id__in=stale)
        stats = stats.filter(product_id__in=stale)
    by_product: dict[int, list[tuple[int, Decimal, Decimal]]] = defaultdict(list)
    for product_id, lines, units, spend in pairs.values_list("product_id", "lines", "units", "spend"):
        by_product[product_id].append((lines, Decimal(units), Decimal(spend)))
    threshold = savings_threshold()
    rows = []
    for product_id, pairs_of_product in by_product.items():
        ppus = sorted(spend / units for _, units, spend in pairs_of_product)
        count = len(ppus)
        mean = sum(ppus) / count
        variance = sum((p - mean) ** 2 for p in ppus) / count
        # Unrounded for the savings; rounded to four places only for display.
        target = _q12(percentile_cont(ppus, Decimal("0.1")))
        median = _q12(percentile_cont(ppus, Decimal("0.5")))
        p90 = percentile_cont(ppus, Decimal("0.9"))
        vs_target = [spend - units * target for _, units, spend in pairs_of_product]
        vs_median = [spend - units * median for _, units, spend in pairs_of_product]
        rows.append(
            ProductStats(
                period_id=period_id,
                product_id=product_id,
                trusts=count,
                lines=sum(lines for lines, _, _ in pairs_of_product),
                units=sum(units for _, units, _ in pairs_of_product),
                spend=_q2(sum(spend for _, _, spend in pairs_of_product)),
                ppu_min=_q4(ppus[0]),
                ppu_p10=_q4(target),
                ppu_median=_q4(median),
                ppu_p90=_q4(p90),
                target_ppu=target,
                median_ppu=median,
                ppu_max=_q4(ppus[-1]),
                spread=_q4(ppus[-1] / ppus[0]) if ppus[0] > 0 else None,
                cv=_q4(variance.sqrt() / mean) if mean > 0 else None,
                savings_target=_q2(sum((s for s in vs_target if s >= threshold), Decimal(0))),
                savings_median=_q2(sum((s for s in vs_median if s >= threshold), Decimal(0))),
                refreshed_at=now,
            )
        )
    _product_stats_write_changed(stats, rows)


# The stored figures of a product and period (everything but when they were refreshed).
STATS_FIGURES = [
    "trusts", "lines", "units", "spend", "ppu_min", "ppu_p10", "ppu_median", "ppu_p90", "ppu_max",
    "spread", "cv", "savings_target", "savings_median", "target_ppu", "median_ppu",
]  # fmt: skip


def _product_stats_write_changed(stored: models.QuerySet, rows: list[ProductStats]) -> None:
    """Write the computed figures only where they differ from those stored, as the PostgreSQL path does:
    new products are inserted, changed ones updated, products no longer bought deleted."""
    existing = {s.product_id: s for s in stored}
    new, changed = [], []
    for row in rows:
        old = existing.pop(row.product_id, None)
        if old is None:
            new.append(row)
        elif any(getattr(old, name) != getattr(row, name) for name in STATS_FIGURES):
            row.pk = old.pk
            changed.append(row)
    ProductStats.objects.filter(pk__in=[s.pk for s in existing.values()]).delete()
    ProductStats.objects.bulk_update(changed, [*STATS_FIGURES, "refreshed_at"], batch_size=500)
    ProductStats.objects.bulk_create(new, batch_size=2000)
