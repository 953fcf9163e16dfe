-- Per product and period, across trusts: volumes, price-per-unit centiles, spread, variation, savings.
-- Reads the rollup (pricing_pairtotal) for one period; recomputes either every product
-- (%(full)s true) or only the stale ones (pricing_staleproduct).
--
-- A trust's price per unit (ppu) = its spend / its units over the period.
-- Centiles: percentile_cont (linear interpolation) over trusts' ppu, one row per trust.
-- Target = 10th centile rounded to 4 decimal places, as stored and shown.
-- A trust's possible saving = units x (ppu - target) where positive; pairs whose saving is below
-- %(threshold)s are left out of the totals. The same against the median.

DELETE FROM pricing_productstats s
WHERE s.period_id = %(period)s
  AND (%(full)s OR EXISTS (
      SELECT 1 FROM pricing_staleproduct x WHERE x.period_id = s.period_id AND x.product_id = s.product_id
  ));

INSERT INTO pricing_productstats (
    period_id, product_id, trusts, lines, units, spend,
    ppu_min, ppu_p10, ppu_median, ppu_p90, ppu_max, spread, cv,
    savings_target, savings_median, refreshed_at
)
WITH pair AS (
    SELECT t.period_id, t.product_id, t.lines, t.units, t.spend, t.spend / t.units AS ppu
    FROM pricing_pairtotal t
    WHERE t.period_id = %(period)s
      AND (%(full)s OR EXISTS (
          SELECT 1 FROM pricing_staleproduct x WHERE x.period_id = t.period_id AND x.product_id = t.product_id
      ))
),
centiles AS (
    SELECT period_id, product_id,
           COUNT(*) AS trusts,
           SUM(lines) AS lines,
           SUM(units) AS units,
           SUM(spend) AS spend,
           MIN(ppu) AS ppu_min,
           MAX(ppu) AS ppu_max,
           AVG(ppu) AS ppu_mean,
           STDDEV_POP(ppu) AS ppu_sd,
           percentile_cont(ARRAY[0.1, 0.5, 0.9]) WITHIN GROUP (ORDER BY ppu::float8) AS pc
    FROM pair
    GROUP BY period_id, product_id
),
targets AS (
    SELECT c.*,
           ROUND(c.pc[1]::numeric, 4) AS target,
           ROUND(c.pc[2]::numeric, 4) AS median
    FROM centiles c
),
savings AS (
    SELECT pair.period_id, pair.product_id,
           -- units x (ppu - target) written as spend - units x target: exact, no division.
           SUM(pair.spend - pair.units * t.target) FILTER (
               WHERE pair.spend - pair.units * t.target >= %(threshold)s
           ) AS vs_target,
           SUM(pair.spend - pair.units * t.median) FILTER (
               WHERE pair.spend - pair.units * t.median >= %(threshold)s
           ) AS vs_median
    FROM pair
    JOIN targets t ON t.period_id = pair.period_id AND t.product_id = pair.product_id
    GROUP BY pair.period_id, pair.product_id
)
SELECT t.period_id, t.product_id, t.trusts, t.lines, t.units, ROUND(t.spend, 2),
       ROUND(t.ppu_min, 4),
       -- Rounding floats can cross a neighbour by 0.0001: keep the centiles ordered.
       GREATEST(ROUND(t.ppu_min, 4), t.target),
       GREATEST(ROUND(t.ppu_min, 4), t.median),
       LEAST(ROUND(t.ppu_max, 4), GREATEST(t.median, ROUND(t.pc[3]::numeric, 4))),
       ROUND(t.ppu_max, 4),
       CASE WHEN t.ppu_min > 0 THEN ROUND(t.ppu_max / t.ppu_min, 4) END,
       CASE WHEN t.ppu_mean > 0 THEN ROUND(t.ppu_sd / t.ppu_mean, 4) END,
       ROUND(COALESCE(s.vs_target, 0), 2),
       ROUND(COALESCE(s.vs_median, 0), 2),
       %(now)s
FROM targets t
JOIN savings s ON s.period_id = t.period_id AND s.product_id = t.product_id;
