-- Rebuild the whole rollup from the purchase-history lines (after a bulk load or to repair).
-- Each matched line counts once in its financial year and once in its quarter.

DELETE FROM pricing_pairtotal;

-- Summaries start again from nothing: every product is stale below, so the next refresh computes
-- every product's figures and every trust's totals afresh (there is nothing to adjust by difference).
DELETE FROM pricing_pairseen;

DELETE FROM pricing_productstats;

DELETE FROM pricing_trustsavings;

INSERT INTO pricing_pairtotal (period_id, product_id, trust_id, lines, units, spend)
SELECT p.id, l.product_id, l.trust_id,
       COUNT(*),
       SUM(l.quantity_packs * l.units_per_pack),
       SUM(l.quantity_packs * l.pack_price)
FROM pricing_purchasehistoryline l
JOIN pricing_period p
  ON l.order_date >= p.starts_on
 AND l.order_date < p.ends_on
WHERE l.product_id IS NOT NULL
GROUP BY p.id, l.product_id, l.trust_id
-- Stored in key order, so that reading one period's products is a sequential read.
ORDER BY p.id, l.product_id, l.trust_id;

DELETE FROM pricing_staleproduct;

INSERT INTO pricing_staleproduct (period_id, product_id)
SELECT DISTINCT period_id, product_id FROM pricing_pairtotal;
