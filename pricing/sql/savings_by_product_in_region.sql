-- Possible savings per product counting only the trusts of one region (targets stay national,
-- unrounded: target_ppu and median_ppu, not the four-place figures shown).
-- A pair's saving = spend - units x target, counted where it reaches %(threshold)s.
SELECT t.product_id,
       COUNT(*) AS trusts,
       SUM(t.spend) AS spend,
       SUM(CASE WHEN t.spend - t.units * s.target_ppu >= CAST(%(threshold)s AS NUMERIC) THEN t.spend - t.units * s.target_ppu ELSE 0 END)
           AS vs_target,
       SUM(CASE WHEN t.spend - t.units * s.median_ppu >= CAST(%(threshold)s AS NUMERIC) THEN t.spend - t.units * s.median_ppu ELSE 0 END)
           AS vs_median
FROM pricing_pairtotal t
JOIN pricing_productstats s ON s.period_id = t.period_id AND s.product_id = t.product_id
JOIN organisations_organisation o ON o.id = t.trust_id
WHERE t.period_id = %(period)s
  AND o.region = %(region)s
GROUP BY t.product_id
-- A product bought by fewer than %(min_trusts)s trusts of the region is not shown (docs/pricing.md).
HAVING COUNT(*) >= %(min_trusts)s
ORDER BY vs_target DESC, t.product_id
LIMIT %(limit)s
