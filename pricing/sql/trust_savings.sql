-- Per trust and period: products bought, spend, and possible savings against the stored targets,
-- summed over every product of the period. The SQLite path (plain SQL, after product stats are
-- refreshed for the same period); PostgreSQL adjusts by difference after an incremental refresh
-- (pricing/sql/trust_savings_by_difference.postgresql.sql) and sums in the full refresh's own pass.
-- A pair's saving = spend - units x target, counted where it reaches %(threshold)s.
-- Double precision (the tables' double copies of spend, units and targets), rounded to the penny.

DELETE FROM pricing_trustsavings WHERE period_id = %(period)s;

INSERT INTO pricing_trustsavings (
    period_id, trust_id, products, spend, savings_target, savings_median,
    spend_unrounded, savings_target_unrounded, savings_median_unrounded, refreshed_at
)
SELECT y.period_id, y.trust_id, y.products,
       ROUND(CAST(y.spend AS NUMERIC), 2),
       ROUND(CAST(y.vs_target AS NUMERIC), 2),
       ROUND(CAST(y.vs_median AS NUMERIC), 2),
       y.spend, y.vs_target, y.vs_median, %(now)s
FROM (
    SELECT %(period)s AS period_id, x.trust_id,
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
    GROUP BY x.trust_id
) y;
