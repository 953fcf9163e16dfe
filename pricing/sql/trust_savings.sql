-- Per trust and period: products bought, spend, and possible savings against the stored targets,
-- summed over every product of the period. The SQLite path (plain SQL, after product stats are
-- refreshed for the same period); PostgreSQL adjusts by difference after an incremental refresh
-- (pricing/sql/trust_savings_by_difference.postgresql.sql) and sums in the full refresh's own pass.
-- A pair's saving = spend - units x target, counted where it reaches %(threshold)s.
-- Double precision (the tables' double copies of spend, units and targets), rounded to the penny.

-- The totals as they are to be stored, then written only where they differ from what is stored (as
-- pricing/sql/product_stats.postgresql.sql does for product figures).
DROP TABLE IF EXISTS pricing_refresh_totals;

CREATE TEMPORARY TABLE pricing_refresh_totals AS
SELECT x.trust_id,
       COUNT(*) AS products,
       SUM(x.spend) AS spend,
       SUM(CASE WHEN x.vs_target >= CAST(%(threshold)s AS DOUBLE PRECISION) THEN x.vs_target ELSE 0 END) AS vs_target,
       SUM(CASE WHEN x.vs_median >= CAST(%(threshold)s AS DOUBLE PRECISION) THEN x.vs_median ELSE 0 END) AS vs_median
FROM (
    SELECT t.trust_id,
           t.spend_f AS spend,
           t.spend_f - t.units_f * s.target_f AS vs_target,
           t.spend_f - t.units_f * s.median_f AS vs_median
    FROM pricing_pairtotal t
    JOIN pricing_productstats s ON s.period_id = t.period_id AND s.product_id = t.product_id
    WHERE t.period_id = %(period)s
) x
GROUP BY x.trust_id;

-- Trusts with no pair left in the period lose their row.
DELETE FROM pricing_trustsavings
WHERE period_id = %(period)s
  AND NOT EXISTS (
      SELECT 1 FROM pricing_refresh_totals y WHERE y.trust_id = pricing_trustsavings.trust_id
  );

UPDATE pricing_trustsavings
SET products = y.products,
    spend = ROUND(CAST(y.spend AS NUMERIC), 2),
    savings_target = ROUND(CAST(y.vs_target AS NUMERIC), 2),
    savings_median = ROUND(CAST(y.vs_median AS NUMERIC), 2),
    spend_unrounded = y.spend,
    savings_target_unrounded = y.vs_target,
    savings_median_unrounded = y.vs_median,
    refreshed_at = %(now)s
FROM pricing_refresh_totals y
WHERE pricing_trustsavings.period_id = %(period)s
  AND pricing_trustsavings.trust_id = y.trust_id
  AND (pricing_trustsavings.products, pricing_trustsavings.spend_unrounded,
       pricing_trustsavings.savings_target_unrounded, pricing_trustsavings.savings_median_unrounded)
      IS DISTINCT FROM (y.products, y.spend, y.vs_target, y.vs_median);

INSERT INTO pricing_trustsavings (
    period_id, trust_id, products, spend, savings_target, savings_median,
    spend_unrounded, savings_target_unrounded, savings_median_unrounded, refreshed_at
)
SELECT %(period)s, y.trust_id, y.products,
       ROUND(CAST(y.spend AS NUMERIC), 2),
       ROUND(CAST(y.vs_target AS NUMERIC), 2),
       ROUND(CAST(y.vs_median AS NUMERIC), 2),
       y.spend, y.vs_target, y.vs_median, %(now)s
FROM pricing_refresh_totals y
WHERE NOT EXISTS (
    SELECT 1 FROM pricing_trustsavings o WHERE o.period_id = %(period)s AND o.trust_id = y.trust_id
);

DROP TABLE pricing_refresh_totals;
