-- An incremental refresh, step 1 of 3, run while the stale products' figures as last stored are still
-- there (before pricing/sql/product_stats.postgresql.sql replaces them).
--
-- To adjust a trust's totals by difference the refresh needs what the stale products contributed when
-- they were last counted: their rollup rows as they were then, against their targets as stored then.
-- The savings pass of product_stats.postgresql.sql sums the rollup rows as they are now against those
-- targets. This corrects that sum for the rows written since (kept in pricing_pairseen; empty units: the
-- row did not exist then): add each such row as it was, take it out as it is now. Only those rows are
-- read (one day's writes touch a few thousand), not the stale products' every row.
-- A pair's saving = spend - units x target, counted where it reaches %(threshold)s.

DROP TABLE IF EXISTS pricing_refresh_before;

CREATE TEMPORARY TABLE pricing_refresh_before ON COMMIT DROP AS
SELECT b.trust_id,
       COUNT(b.units) - COUNT(t.trust_id) AS products,
       COALESCE(SUM(b.spend::float8), 0) - COALESCE(SUM(t.spend_f), 0) AS spend,
       COALESCE(SUM(b.spend::float8 - b.units::float8 * o.target_f) FILTER (
           WHERE b.spend::float8 - b.units::float8 * o.target_f >= CAST(%(threshold)s AS DOUBLE PRECISION)
       ), 0)
       - COALESCE(SUM(t.spend_f - t.units_f * o.target_f) FILTER (
           WHERE t.spend_f - t.units_f * o.target_f >= CAST(%(threshold)s AS DOUBLE PRECISION)
       ), 0) AS vs_target,
       COALESCE(SUM(b.spend::float8 - b.units::float8 * o.median_f) FILTER (
           WHERE b.spend::float8 - b.units::float8 * o.median_f >= CAST(%(threshold)s AS DOUBLE PRECISION)
       ), 0)
       - COALESCE(SUM(t.spend_f - t.units_f * o.median_f) FILTER (
           WHERE t.spend_f - t.units_f * o.median_f >= CAST(%(threshold)s AS DOUBLE PRECISION)
       ), 0) AS vs_median
FROM pricing_pairseen b
-- A product with no stored figures (new in the period) contributed nothing.
JOIN pricing_productstats o ON o.period_id = b.period_id AND o.product_id = b.product_id
LEFT JOIN pricing_pairtotal t
  ON t.period_id = b.period_id AND t.product_id = b.product_id AND t.trust_id = b.trust_id
WHERE b.period_id = %(period)s
GROUP BY b.trust_id;
