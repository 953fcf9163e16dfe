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
-- (period, product, trust) order, so the first pass reads it through that key's index, already
-- grouped by product, instead of sorting it (the planner prefers a bitmap scan and a sort, twice as slow).
--
-- The figures are then written only where they change: each product's doubles (its aggregates,
-- centiles and savings before rounding) are kept beside its figures (ProductStats.*_unrounded), every
-- figure is a function of them, and a product whose doubles come out the same is neither rounded nor
-- written again. A nightly full refresh after a day's lines changes about one product in 25.
-- (pricing.analytics.pair_totals_rebuild empties the summaries, so a repair recomputes and writes everything.)
--
-- Only the stale products (not %(full)s): the centiles also carry each product's targets as last stored
-- (target_before, median_before), and the savings pass also sums, per trust, what the current rollup
-- rows contributed against those; pricing/sql/trust_savings_by_difference.postgresql.sql uses both
-- to adjust the trusts' totals instead of summing every pair of the period again.

-- Dropped first: when the caller's transaction is still open, the previous period's table is too.
DROP TABLE IF EXISTS pricing_refresh_centiles, pricing_refresh_savings, pricing_refresh_figures;

-- Planner hints for these statements only (reset below). Full: read the whole period in index order.
-- Stale products only: probe the index once per product rather than read the whole period. Stored
-- summary rows are found through the unique index (period, product), never by reading the table: its
-- statistics can say it is empty while other periods' refreshes fill it (after a rebuild of the
-- rollup), and a plan reading the whole table once per product then takes minutes.
SELECT set_config('enable_sort', CASE WHEN %(full)s THEN 'off' ELSE 'on' END, true),
       set_config('enable_bitmapscan', CASE WHEN %(full)s THEN 'off' ELSE 'on' END, true),
       set_config('enable_hashjoin', 'off', true),
       set_config('enable_mergejoin', CASE WHEN %(full)s THEN 'on' ELSE 'off' END, true),
       set_config('enable_seqscan', 'off', true);

-- Each product's aggregates in double precision (stale products only: beside their figures as stored).
CREATE TEMPORARY TABLE pricing_refresh_centiles ON COMMIT DROP AS
SELECT c.*,
       -- The 12-place targets the savings are computed against, in double precision. Converted once
       -- per product, not once per pair below (double to numeric goes through text); reading them from
       -- the stored rows instead cost more than converting.
       ROUND(c.pc[1]::numeric, 12)::float8 AS target_f,
       ROUND(c.pc[2]::numeric, 12)::float8 AS median_f,
       -- Stale products only: the targets as last stored.
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
           STDDEV_POP(t.ppu) / NULLIF(AVG(t.ppu), 0) AS cv_signed,
           AVG(t.ppu) > 0 AS mean_positive,
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

-- So that the planner knows how many products there are (a merge join for a whole period).
ANALYZE pricing_refresh_centiles (product_id);

RESET enable_sort;

RESET enable_bitmapscan;

-- Each pair's savings, summed per product and, in the same pass, per trust. The per-trust sums are
-- the trusts' totals when every product of the period is being recomputed (full); otherwise they are
-- what the stale products contribute now, and pricing/sql/trust_savings_by_difference.postgresql.sql
-- adjusts the trusts' totals by them. A merge join in (product, trust) order: a hash join costs a
-- fifth more here.
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

-- The figures to write: only the products whose doubles differ from those behind the stored figures
-- (or that have none stored). Every stored figure is a function of trusts, lines and these doubles,
-- so a product computed the same as last time keeps its row untouched (no conversion to numeric, no
-- new row version, no index entries): most products in a nightly full refresh. refreshed_at is when
-- the row's figures last changed.
CREATE TEMPORARY TABLE pricing_refresh_figures ON COMMIT DROP AS
SELECT r.product_id, r.trusts, r.lines, ROUND(r.units::numeric, 3) AS units,
       ROUND(r.spend::numeric, 2) AS spend,
       r.ppu_min_4 AS ppu_min,
       -- Rounding can cross a neighbour by 0.0001: keep the stored centiles ordered.
       GREATEST(r.ppu_min_4, ROUND(r.target_n, 4)) AS ppu_p10,
       GREATEST(r.ppu_min_4, ROUND(r.median_n, 4)) AS ppu_median,
       LEAST(r.ppu_max_4, GREATEST(ROUND(r.median_n, 4), ROUND(r.p90::numeric, 4))) AS ppu_p90,
       r.ppu_max_4 AS ppu_max,
       CASE WHEN r.ppu_min > 0 THEN ROUND((r.ppu_max / r.ppu_min)::numeric, 4) END AS spread,
       ROUND(r.cv::numeric, 4) AS cv,
       ROUND(r.vs_target::numeric, 2) AS savings_target,
       ROUND(r.vs_median::numeric, 2) AS savings_median,
       ROUND(r.target_n, 12) AS target_ppu,
       ROUND(r.median_n, 12) AS median_ppu,
       r.units AS units_unrounded, r.spend AS spend_unrounded,
       r.ppu_min AS ppu_min_unrounded, r.ppu_max AS ppu_max_unrounded,
       r.p10 AS p10_unrounded, r.p50 AS median_unrounded, r.p90 AS p90_unrounded,
       r.cv AS cv_unrounded,
       r.vs_target AS savings_target_unrounded, r.vs_median AS savings_median_unrounded
FROM (
    -- Each centile converted once (OFFSET 0 keeps PostgreSQL from copying the conversion into every
    -- expression that uses it).
    SELECT q.*, q.p10::numeric AS target_n, q.p50::numeric AS median_n,
           ROUND(q.ppu_min::numeric, 4) AS ppu_min_4, ROUND(q.ppu_max::numeric, 4) AS ppu_max_4
    FROM (
        SELECT t.product_id, t.trusts, t.lines, t.units, t.spend, t.ppu_min, t.ppu_max,
               t.pc[1] AS p10, t.pc[2] AS p50, t.pc[3] AS p90,
               CASE WHEN t.mean_positive THEN t.cv_signed END AS cv,
               s.vs_target, s.vs_median
        FROM pricing_refresh_centiles t
        JOIN pricing_refresh_savings s ON s.product_id = t.product_id
        LEFT JOIN pricing_productstats o ON o.period_id = %(period)s AND o.product_id = t.product_id
        WHERE (o.trusts, o.lines, o.units_unrounded, o.spend_unrounded, o.ppu_min_unrounded,
               o.ppu_max_unrounded, o.p10_unrounded, o.median_unrounded, o.p90_unrounded,
               o.cv_unrounded, o.savings_target_unrounded, o.savings_median_unrounded)
              IS DISTINCT FROM
              (t.trusts, t.lines, t.units, t.spend, t.ppu_min, t.ppu_max, t.pc[1], t.pc[2], t.pc[3],
               CASE WHEN t.mean_positive THEN t.cv_signed END, s.vs_target, s.vs_median)
    ) q
    OFFSET 0
) r;

-- Products no longer bought in the period (their last lines moved or were unmatched).
DELETE FROM pricing_productstats s
WHERE s.period_id = %(period)s
  AND (%(full)s OR s.product_id IN (SELECT x.product_id FROM pricing_staleproduct x WHERE x.period_id = %(period)s))
  AND NOT EXISTS (SELECT 1 FROM pricing_refresh_centiles c WHERE c.product_id = s.product_id);

UPDATE pricing_productstats s
SET trusts = f.trusts, lines = f.lines, units = f.units, spend = f.spend,
    ppu_min = f.ppu_min, ppu_p10 = f.ppu_p10, ppu_median = f.ppu_median, ppu_p90 = f.ppu_p90,
    ppu_max = f.ppu_max, spread = f.spread, cv = f.cv,
    savings_target = f.savings_target, savings_median = f.savings_median,
    target_ppu = f.target_ppu, median_ppu = f.median_ppu,
    units_unrounded = f.units_unrounded, spend_unrounded = f.spend_unrounded,
    ppu_min_unrounded = f.ppu_min_unrounded, ppu_max_unrounded = f.ppu_max_unrounded,
    p10_unrounded = f.p10_unrounded, median_unrounded = f.median_unrounded,
    p90_unrounded = f.p90_unrounded, cv_unrounded = f.cv_unrounded,
    savings_target_unrounded = f.savings_target_unrounded,
    savings_median_unrounded = f.savings_median_unrounded,
    refreshed_at = %(now)s
FROM pricing_refresh_figures f
WHERE s.period_id = %(period)s AND s.product_id = f.product_id;

INSERT INTO pricing_productstats (
    period_id, product_id, trusts, lines, units, spend,
    ppu_min, ppu_p10, ppu_median, ppu_p90, ppu_max, spread, cv,
    savings_target, savings_median, target_ppu, median_ppu,
    units_unrounded, spend_unrounded, ppu_min_unrounded, ppu_max_unrounded, p10_unrounded,
    median_unrounded, p90_unrounded, cv_unrounded, savings_target_unrounded, savings_median_unrounded,
    refreshed_at
)
SELECT %(period)s, f.product_id, f.trusts, f.lines, f.units, f.spend,
       f.ppu_min, f.ppu_p10, f.ppu_median, f.ppu_p90, f.ppu_max, f.spread, f.cv,
       f.savings_target, f.savings_median, f.target_ppu, f.median_ppu,
       f.units_unrounded, f.spend_unrounded, f.ppu_min_unrounded, f.ppu_max_unrounded, f.p10_unrounded,
       f.median_unrounded, f.p90_unrounded, f.cv_unrounded, f.savings_target_unrounded,
       f.savings_median_unrounded, %(now)s
FROM pricing_refresh_figures f
WHERE NOT EXISTS (
    SELECT 1 FROM pricing_productstats s WHERE s.period_id = %(period)s AND s.product_id = f.product_id
);

RESET enable_seqscan;

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
