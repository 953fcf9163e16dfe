-- Recompute the rollup rows (period, product, trust) that one write touched.
-- The touched keys are in pricing_dirtypair under one batch number; they are consumed here.
-- Runs on PostgreSQL and SQLite alike, inside the writer's transaction.
-- units = packs x units per pack; spend = packs x pack price (GBP excluding VAT).

-- Keep each touched row as the last refresh of its period counted it (the first change since that
-- refresh wins; empty units: the row did not exist then), so that the refresh can adjust trusts'
-- totals by difference.
INSERT INTO pricing_pairseen (period_id, product_id, trust_id, units, spend)
SELECT d.period_id, d.product_id, d.trust_id, t.units, t.spend
FROM (
    SELECT DISTINCT period_id, product_id, trust_id FROM pricing_dirtypair WHERE batch = %(batch)s
) d
LEFT JOIN pricing_pairtotal t
  ON t.period_id = d.period_id
 AND t.product_id = d.product_id
 AND t.trust_id = d.trust_id
WHERE true
ON CONFLICT (period_id, product_id, trust_id) DO NOTHING;

DELETE FROM pricing_pairtotal
WHERE EXISTS (
    SELECT 1 FROM pricing_dirtypair d
    WHERE d.batch = %(batch)s
      AND d.period_id = pricing_pairtotal.period_id
      AND d.product_id = pricing_pairtotal.product_id
      AND d.trust_id = pricing_pairtotal.trust_id
);

INSERT INTO pricing_pairtotal (period_id, product_id, trust_id, lines, units, spend)
SELECT d.period_id, d.product_id, d.trust_id,
       COUNT(*),
       SUM(l.quantity_packs * l.units_per_pack),
       SUM(l.quantity_packs * l.pack_price)
FROM (
    SELECT DISTINCT period_id, product_id, trust_id FROM pricing_dirtypair WHERE batch = %(batch)s
) d
JOIN pricing_period p ON p.id = d.period_id
JOIN pricing_purchasehistoryline l
  ON l.product_id = d.product_id
 AND l.trust_id = d.trust_id
 AND l.order_date >= p.starts_on
 AND l.order_date < p.ends_on
GROUP BY d.period_id, d.product_id, d.trust_id;

-- The products whose centiles and savings the next refresh must recompute.
INSERT INTO pricing_staleproduct (period_id, product_id)
SELECT DISTINCT d.period_id, d.product_id
FROM pricing_dirtypair d
WHERE d.batch = %(batch)s
  AND NOT EXISTS (
      SELECT 1 FROM pricing_staleproduct s
      WHERE s.period_id = d.period_id AND s.product_id = d.product_id
  );

DELETE FROM pricing_dirtypair WHERE batch = %(batch)s;
