-- Per product and period, across trusts: volumes, price-per-unit centiles, spread, variation, savings.
-- Reads the rollup (pricing_pairtotal) for one period: every product when %(full)s is true, else only
-- the stale ones (pricing_staleproduct). It reads the rollup's double-precision copies (units_f,
-- spend_f, ppu), made once when each rollup row is written.
--
-- A trust's price per unit (ppu) = its spend / its units over the period.
-- Centiles: percentile_cont (linear interpolation) over trusts' ppu, one value per trust.
-- Target = 10th centile, unrounded (kept to 12 places); median likewise. They are shown rounded to
-- 4 places (ppu_p10, ppu_median), but savings are computed against the unrounded figures.
-- A trust's possible saving = units x (ppu - target) = spend - units x target, where positive;
-- pairs whose saving is below %(threshold)s are left out of the totals. The same against the median.
-- Arithmetic is in double precision (fast, and exact to far below a penny at these magnitudes);
-- only the final amounts are rounded, once: money to the penny, displayed prices to 4 places.
--
-- Two passes over the period's rollup rows: the first computes each product's centiles into a
-- temporary table, the second each pair's savings against them. The rollup is stored in
-- (period, product, trust) order, so the first pass reads it through that unique index, already
-- grouped by product, instead of sorting it (the planner prefers a bitmap scan and a sort, twice as slow).
--
-- Only the stale products (not %(full)s): the centiles also carry each product's targets as last stored
-- (target_before, median_before), and the savings pass also sums, per trust, what the current rollup
-- rows contributed against those; pricing/sql/trust_savings_by_difference.postgresql.sql uses both
-- to adjust the trusts' totals instead of summing every pair of the period again.

-- Dropped first: when the caller's transaction is still open, the previous period's table is too.
DROP TABLE IF EXISTS pricing_refresh_centiles, pricing_refresh_savings, pricing_refresh_figures;

-- Planner hints for this statement only (reset below). Full: read the whole period in index order.
-- Stale products only: probe the index once per product rather than read the whole period.
SELECT set_config('enable_sort', CASE WHEN %(full)s THEN 'off' ELSE 'on' END, true),
       set_config('enable_bitmapscan', CASE WHEN %(full)s THEN 'off' ELSE 'on' END, true),
       set_config('enable_hashjoin', CASE WHEN %(full)s THEN 'on' ELSE 'off' END, true),
       set_config('enable_mergejoin', CASE WHEN %(full)s THEN 'on' ELSE 'off' END, true);

CREATE TEMPORARY TABLE pricing_refresh_centiles ON COMMIT DROP AS
SELECT c.*,
       -- Converted once per product here, not once per pair below (double to numeric goes through
       -- text). The savings use the 12-place figures; the 4-place ones are for display only.
       ROUND(c.pc[1]::numeric, 12) AS target,
       ROUND(c.pc[2]::numeric, 12) AS median,
       ROUND(c.pc[1]::numeric, 12)::float8 AS target_f,
       ROUND(c.pc[2]::numeric, 12)::float8 AS median_f,
       ROUND(c.pc[1]::numeric, 4) AS target_4,
       ROUND(c.pc[2]::numeric, 4) AS median_4,
       ROUND(c.ppu_min::numeric, 4) AS ppu_min_4,
       ROUND(c.ppu_max::numeric, 4) AS ppu_max_4,
       o.target_f AS target_before,
       o.median_f AS median_before
FROM (
    SELECT t.product_id,
           COUNT(*) AS trusts,
           SUM(t.lines) AS lines,
           SUM(t.units_f) AS units,
           SUM(t.spend_f) AS spend,
           MIN(t.ppu) AS ppu_min,
           MAX(t.ppu) AS ppu_max,
           AVG(t.ppu) AS ppu_mean,
           STDDEV_POP(t.ppu) AS ppu_sd,
           percentile_cont(ARRAY[0.1, 0.5, 0.9]) WITHIN GROUP (ORDER BY t.ppu) AS pc
    FROM pricing_pairtotal t
    WHERE t.period_id = %(period)s
      AND (%(full)s OR t.product_id = ANY (ARRAY(
          SELECT x.product_id FROM pricing_staleproduct x WHERE x.period_id = %(period)s ORDER BY 1
      )))
    GROUP BY t.product_id
) c
LEFT JOIN pricing_productstats o
  ON NOT %(full)s AND o.period_id = %(period)s AND o.product_id = c.product_id;

RESET enable_sort;

RESET enable_bitmapscan;

-- Each pair's savings, summed per product and, in the same pass, per trust. The per-trust sums are
-- the trusts' totals when every product of the period is being recomputed (full); otherwise they are
-- what the stale products contribute now, and pricing/sql/trust_savings_by_difference.postgresql.sql
-- adjusts the trusts' totals by them.
CREATE TEMPORARY TABLE pricing_refresh_savings ON COMMIT DROP AS
SELECT p.product_id,
       p.trust_id,
       COUNT(*) AS products,
       SUM(p.spend_f) AS spend,
       COALESCE(SUM(p.spend_f - p.units_f * c.target_f) FILTER (
           WHERE p.spend_f - p.units_f * c.target_f >= CAST(%(threshold)s AS DOUBLE PRECISION)
       ), 0) AS vs_target,
       COALESCE(SUM(p.spend_f - p.units_f * c.median_f) FILTER (
           WHERE p.spend_f - p.units_f * c.median_f >= CAST(%(threshold)s AS DOUBLE PRECISION)
       ), 0) AS vs_median,
       -- Stale products only: the same rows against the targets as last stored (none for a new product).
       COUNT(*) FILTER (WHERE NOT %(full)s AND c.target_before IS NOT NULL) AS products_before,
       COALESCE(SUM(p.spend_f) FILTER (WHERE NOT %(full)s AND c.target_before IS NOT NULL), 0)
           AS spend_before,
       COALESCE(SUM(p.spend_f - p.units_f * c.target_before) FILTER (
           WHERE NOT %(full)s AND p.spend_f - p.units_f * c.target_before >= CAST(%(threshold)s AS DOUBLE PRECISION)
       ), 0) AS vs_target_before,
       COALESCE(SUM(p.spend_f - p.units_f * c.median_before) FILTER (
           WHERE NOT %(full)s AND p.spend_f - p.units_f * c.median_before >= CAST(%(threshold)s AS DOUBLE PRECISION)
       ), 0) AS vs_median_before
FROM pricing_refresh_centiles c
JOIN pricing_pairtotal p ON p.period_id = %(period)s AND p.product_id = c.product_id
GROUP BY GROUPING SETS ((p.product_id), (p.trust_id));

RESET enable_hashjoin;

RESET enable_mergejoin;

-- The figures as they are to be stored, then written only where they differ from what is stored: a
-- product whose rollup rows did not change since the last refresh keeps its row untouched (no new row
-- version, no index entries), which is most products in a nightly full refresh. refreshed_at is when
-- the row's figures last changed.
CREATE TEMPORARY TABLE pricing_refresh_figures ON COMMIT DROP AS
SELECT t.product_id, t.trusts, t.lines, ROUND(t.units::numeric, 3) AS units,
       ROUND(t.spend::numeric, 2) AS spend,
       t.ppu_min_4 AS ppu_min,
       -- Rounding can cross a neighbour by 0.0001: keep the stored centiles ordered.
       GREATEST(t.ppu_min_4, t.target_4) AS ppu_p10,
       GREATEST(t.ppu_min_4, t.median_4) AS ppu_median,
       LEAST(t.ppu_max_4, GREATEST(t.median_4, ROUND(t.pc[3]::numeric, 4))) AS ppu_p90,
       t.ppu_max_4 AS ppu_max,
       CASE WHEN t.ppu_min > 0 THEN ROUND((t.ppu_max / t.ppu_min)::numeric, 4) END AS spread,
       CASE WHEN t.ppu_mean > 0 THEN ROUND((t.ppu_sd / t.ppu_mean)::numeric, 4) END AS cv,
       ROUND(s.vs_target::numeric, 2) AS savings_target,
       ROUND(s.vs_median::numeric, 2) AS savings_median,
       t.target AS target_ppu,
       t.median AS median_ppu
FROM pricing_refresh_centiles t
JOIN pricing_refresh_savings s ON s.product_id = t.product_id;

-- Products no longer bought in the period (their last lines moved or were unmatched).
DELETE FROM pricing_productstats s
WHERE s.period_id = %(period)s
  AND (%(full)s OR s.product_id IN (SELECT x.product_id FROM pricing_staleproduct x WHERE x.period_id = %(period)s))
  AND NOT EXISTS (SELECT 1 FROM pricing_refresh_figures f WHERE f.product_id = s.product_id);

UPDATE pricing_productstats s
SET trusts = f.trusts, lines = f.lines, units = f.units, spend = f.spend,
    ppu_min = f.ppu_min, ppu_p10 = f.ppu_p10, ppu_median = f.ppu_median, ppu_p90 = f.ppu_p90,
    ppu_max = f.ppu_max, spread = f.spread, cv = f.cv,
    savings_target = f.savings_target, savings_median = f.savings_median,
    target_ppu = f.target_ppu, median_ppu = f.median_ppu, refreshed_at = %(now)s
FROM pricing_refresh_figures f
WHERE s.period_id = %(period)s
  AND s.product_id = f.product_id
  AND (s.trusts, s.lines, s.units, s.spend, s.ppu_min, s.ppu_p10, s.ppu_median, s.ppu_p90, s.ppu_max,
       s.spread, s.cv, s.savings_target, s.savings_median, s.target_ppu, s.median_ppu)
      IS DISTINCT FROM
      (f.trusts, f.lines, f.units, f.spend, f.ppu_min, f.ppu_p10, f.ppu_median, f.ppu_p90, f.ppu_max,
       f.spread, f.cv, f.savings_target, f.savings_median, f.target_ppu, f.median_ppu);

INSERT INTO pricing_productstats (
    period_id, product_id, trusts, lines, units, spend,
    ppu_min, ppu_p10, ppu_median, ppu_p90, ppu_max, spread, cv,
    savings_target, savings_median, target_ppu, median_ppu, refreshed_at
)
SELECT %(period)s, f.product_id, f.trusts, f.lines, f.units, f.spend,
       f.ppu_min, f.ppu_p10, f.ppu_median, f.ppu_p90, f.ppu_max, f.spread, f.cv,
       f.savings_target, f.savings_median, f.target_ppu, f.median_ppu, %(now)s
FROM pricing_refresh_figures f
WHERE NOT EXISTS (
    SELECT 1 FROM pricing_productstats s WHERE s.period_id = %(period)s AND s.product_id = f.product_id
);

-- Full: every trust's totals, written likewise only where they differ. Trusts with no pair left in the
-- period lose their row.
DELETE FROM pricing_trustsavings o
WHERE %(full)s AND o.period_id = %(period)s
  AND NOT EXISTS (
      SELECT 1 FROM pricing_refresh_savings s WHERE s.product_id IS NULL AND s.trust_id = o.trust_id
  );

UPDATE pricing_trustsavings o
SET products = s.products, spend = ROUND(s.spend::numeric, 2),
    savings_target = ROUND(s.vs_target::numeric, 2), savings_median = ROUND(s.vs_median::numeric, 2),
    spend_unrounded = s.spend, savings_target_unrounded = s.vs_target,
    savings_median_unrounded = s.vs_median, refreshed_at = %(now)s
FROM pricing_refresh_savings s
WHERE %(full)s AND o.period_id = %(period)s
  AND s.product_id IS NULL AND s.trust_id = o.trust_id
  AND (o.products, o.spend_unrounded, o.savings_target_unrounded, o.savings_median_unrounded)
      IS DISTINCT FROM (s.products, s.spend, s.vs_target, s.vs_median);

INSERT INTO pricing_trustsavings (
    period_id, trust_id, products, spend, savings_target, savings_median,
    spend_unrounded, savings_target_unrounded, savings_median_unrounded, refreshed_at
)
SELECT %(period)s, s.trust_id, s.products, ROUND(s.spend::numeric, 2),
       ROUND(s.vs_target::numeric, 2), ROUND(s.vs_median::numeric, 2),
       s.spend, s.vs_target, s.vs_median, %(now)s
FROM pricing_refresh_savings s
WHERE %(full)s AND s.product_id IS NULL
  AND NOT EXISTS (
      SELECT 1 FROM pricing_trustsavings o WHERE o.period_id = %(period)s AND o.trust_id = s.trust_id
  );

-- The temporary tables stay until the end of the transaction: an incremental refresh reads the
-- per-trust rows of pricing_refresh_savings next (pricing/sql/trust_savings_by_difference.postgresql.sql).
