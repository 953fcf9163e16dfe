-- Per product and period, across trusts: volumes, price-per-unit centiles, spread, variation, savings.
-- Reads the rollup (pricing_pairtotal) for one period: every product when %(full)s is true, else only
-- the stale ones (pricing_staleproduct). Only one branch of `pair` runs: the planner drops the other.
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
WITH pair AS (
    SELECT t.product_id, t.lines, t.units::float8 AS units, t.spend::float8 AS spend,
           t.spend::float8 / t.units::float8 AS ppu
    FROM pricing_pairtotal t
    WHERE %(full)s AND t.period_id = %(period)s
    UNION ALL
    SELECT t.product_id, t.lines, t.units::float8, t.spend::float8, t.spend::float8 / t.units::float8
    FROM pricing_staleproduct x
    JOIN pricing_pairtotal t ON t.period_id = x.period_id AND t.product_id = x.product_id
    WHERE NOT %(full)s AND x.period_id = %(period)s
),
centiles AS (
    SELECT product_id,
           COUNT(*) AS trusts,
           SUM(lines) AS lines,
           SUM(units) AS units,
           SUM(spend) AS spend,
           MIN(ppu) AS ppu_min,
           MAX(ppu) AS ppu_max,
           AVG(ppu) AS ppu_mean,
           STDDEV_POP(ppu) AS ppu_sd,
           percentile_cont(ARRAY[0.1, 0.5, 0.9]) WITHIN GROUP (ORDER BY ppu) AS pc
    FROM pair
    GROUP BY product_id
),
targets AS (
    SELECT c.*,
           ROUND(c.pc[1]::numeric, 4) AS target,
           ROUND(c.pc[2]::numeric, 4) AS median
    FROM centiles c
),
savings AS (
    SELECT pair.product_id,
           SUM(pair.spend - pair.units * t.target::float8) FILTER (
               WHERE pair.spend - pair.units * t.target::float8 >= %(threshold)s
           ) AS vs_target,
           SUM(pair.spend - pair.units * t.median::float8) FILTER (
               WHERE pair.spend - pair.units * t.median::float8 >= %(threshold)s
           ) AS vs_median
    FROM pair
    JOIN targets t ON t.product_id = pair.product_id
    GROUP BY pair.product_id
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
