-- Per trust and period: products bought, spend, and possible savings against the stored targets.
-- Runs on PostgreSQL and SQLite alike, after product stats are refreshed for the same period.
-- A pair's saving = spend - units x target, counted where it reaches %(threshold)s.
-- Double precision (the tables' double copies of spend, units and targets), rounded to the penny.

DELETE FROM pricing_trustsavings WHERE period_id = %(period)s;

INSERT INTO pricing_trustsavings (period_id, trust_id, products, spend, savings_target, savings_median, refreshed_at)
SELECT %(period)s, x.trust_id,
       COUNT(*),
       ROUND(CAST(SUM(x.spend) AS NUMERIC), 2),
       ROUND(CAST(SUM(CASE WHEN x.vs_target >= %(threshold)s THEN x.vs_target ELSE 0 END) AS NUMERIC), 2),
       ROUND(CAST(SUM(CASE WHEN x.vs_median >= %(threshold)s THEN x.vs_median ELSE 0 END) AS NUMERIC), 2),
       %(now)s
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
