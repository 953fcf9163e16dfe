-- Per trust and period: products bought, spend, and possible savings against the stored targets.
-- Runs on PostgreSQL and SQLite alike, after product stats are refreshed for the same period.
-- A pair's saving = units x (ppu - target) where it reaches %(threshold)s; smaller ones are left out.

DELETE FROM pricing_trustsavings WHERE period_id = %(period)s;

INSERT INTO pricing_trustsavings (period_id, trust_id, products, spend, savings_target, savings_median, refreshed_at)
SELECT x.period_id, x.trust_id,
       COUNT(*),
       ROUND(SUM(x.spend), 2),
       ROUND(SUM(CASE WHEN x.vs_target >= %(threshold)s THEN x.vs_target ELSE 0 END), 2),
       ROUND(SUM(CASE WHEN x.vs_median >= %(threshold)s THEN x.vs_median ELSE 0 END), 2),
       %(now)s
FROM (
    SELECT t.period_id, t.trust_id, t.spend,
           t.spend - t.units * s.ppu_p10 AS vs_target,
           t.spend - t.units * s.ppu_median AS vs_median
    FROM pricing_pairtotal t
    JOIN pricing_productstats s ON s.period_id = t.period_id AND s.product_id = t.product_id
    WHERE t.period_id = %(period)s
) x
GROUP BY x.period_id, x.trust_id;
