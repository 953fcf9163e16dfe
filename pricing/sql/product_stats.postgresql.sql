-- Per product and period, across trusts: volumes, price-per-unit centiles, spread, variation, savings.
-- Reads the rollup (pricing_pairtotal) for one period: every product when %(full)s is true, else only
-- the stale ones (pricing_staleproduct). It reads the rollup's double-precision copies (units_f,
-- spend_f, ppu), made once when each rollup row is written.
--
-- A trust's price per unit (ppu) = its spend / its units over the period.
-- Centiles: percentile_cont (linear interpolation) over trusts' ppu, one value per trust.
-- Target = 10th centile rounded to 4 decimal places, as stored and shown; median likewise.
-- A trust's possible saving = units x (ppu - target) = spend - units x target, where positive;
-- pairs whose saving is below %(threshold)s are left out of the totals. The same against the median.
-- Arithmetic is in double precision (fast, and exact to far below a penny at these magnitudes);
-- every stored figure is rounded: prices to 4 places, money to 2.

DELETE FROM pricing_productstats s
WHERE s.period_id = %(period)s
  AND (%(full)s OR s.product_id IN (SELECT x.product_id FROM pricing_staleproduct x WHERE x.period_id = %(period)s));

INSERT INTO pricing_productstats (
    period_id, product_id, trusts, lines, units, spend,
    ppu_min, ppu_p10, ppu_median, ppu_p90, ppu_max, spread, cv,
    savings_target, savings_median, refreshed_at
)
WITH scope AS (
    -- The products to recompute: the period's stale ones, or (full) all of them.
    SELECT x.product_id FROM pricing_staleproduct x WHERE NOT %(full)s AND x.period_id = %(period)s
),
centiles AS (
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
    WHERE t.period_id = %(period)s AND (%(full)s OR t.product_id IN (SELECT product_id FROM scope))
    GROUP BY t.product_id
),
targets AS (
    SELECT c.*,
           ROUND(c.pc[1]::numeric, 4) AS target,
           ROUND(c.pc[2]::numeric, 4) AS median,
           -- Converted once per product here, not once per pair below.
           ROUND(c.pc[1]::numeric, 4)::float8 AS target_f,
           ROUND(c.pc[2]::numeric, 4)::float8 AS median_f
    FROM centiles c
),
savings AS (
    SELECT t.product_id,
           SUM(p.spend_f - p.units_f * t.target_f) FILTER (
               WHERE p.spend_f - p.units_f * t.target_f >= %(threshold)s
           ) AS vs_target,
           SUM(p.spend_f - p.units_f * t.median_f) FILTER (
               WHERE p.spend_f - p.units_f * t.median_f >= %(threshold)s
           ) AS vs_median
    FROM targets t
    JOIN pricing_pairtotal p ON p.period_id = %(period)s AND p.product_id = t.product_id
    GROUP BY t.product_id
)
SELECT %(period)s, t.product_id, t.trusts, t.lines, ROUND(t.units::numeric, 3), ROUND(t.spend::numeric, 2),
       ROUND(t.ppu_min::numeric, 4),
       -- Rounding can cross a neighbour by 0.0001: keep the stored centiles ordered.
       GREATEST(ROUND(t.ppu_min::numeric, 4), t.target),
       GREATEST(ROUND(t.ppu_min::numeric, 4), t.median),
       LEAST(ROUND(t.ppu_max::numeric, 4), GREATEST(t.median, ROUND(t.pc[3]::numeric, 4))),
       ROUND(t.ppu_max::numeric, 4),
       CASE WHEN t.ppu_min > 0 THEN ROUND((t.ppu_max / t.ppu_min)::numeric, 4) END,
       CASE WHEN t.ppu_mean > 0 THEN ROUND((t.ppu_sd / t.ppu_mean)::numeric, 4) END,
       ROUND(COALESCE(s.vs_target, 0)::numeric, 2),
       ROUND(COALESCE(s.vs_median, 0)::numeric, 2),
       %(now)s
FROM targets t
JOIN savings s ON s.product_id = t.product_id;
