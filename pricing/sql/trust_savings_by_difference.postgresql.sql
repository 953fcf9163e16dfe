-- An incremental refresh, step 3 of 3 (after pricing/sql/trust_savings_before.postgresql.sql and
-- pricing/sql/product_stats.postgresql.sql for the stale products of one period): each trust's totals
-- by difference.
--   new total = total last counted - what the stale products contributed then + what they contribute now
-- "Then" = the savings pass's sums over the current rollup rows against the targets as last stored
-- (products_before, spend_before, vs_target_before, vs_median_before), corrected for the rows written
-- since (pricing_refresh_before). "Now" = the savings pass's per-trust sums. Only the trusts that bought
-- a stale product, then or now, change. The arithmetic is on the unrounded sums kept beside the rounded
-- figures, so the result rounds as a full recomputation would.

CREATE TEMPORARY TABLE pricing_refresh_trusts ON COMMIT DROP AS
SELECT k.trust_id,
       COALESCE(o.products, 0) + COALESCE(n.products, 0)
           - COALESCE(n.products_before, 0) - COALESCE(b.products, 0) AS products,
       COALESCE(o.spend_unrounded, 0) + COALESCE(n.spend, 0)
           - COALESCE(n.spend_before, 0) - COALESCE(b.spend, 0) AS spend,
       COALESCE(o.savings_target_unrounded, 0) + COALESCE(n.vs_target, 0)
           - COALESCE(n.vs_target_before, 0) - COALESCE(b.vs_target, 0) AS vs_target,
       COALESCE(o.savings_median_unrounded, 0) + COALESCE(n.vs_median, 0)
           - COALESCE(n.vs_median_before, 0) - COALESCE(b.vs_median, 0) AS vs_median
FROM (
    SELECT trust_id FROM pricing_refresh_before
    UNION
    SELECT trust_id FROM pricing_refresh_savings WHERE product_id IS NULL
) k
LEFT JOIN pricing_trustsavings o ON o.period_id = %(period)s AND o.trust_id = k.trust_id
LEFT JOIN pricing_refresh_before b ON b.trust_id = k.trust_id
LEFT JOIN pricing_refresh_savings n ON n.product_id IS NULL AND n.trust_id = k.trust_id;

DELETE FROM pricing_trustsavings o
USING pricing_refresh_trusts k
WHERE o.period_id = %(period)s AND o.trust_id = k.trust_id;

-- A trust left with no products in the period has no row, as after a full refresh.
INSERT INTO pricing_trustsavings (
    period_id, trust_id, products, spend, savings_target, savings_median,
    spend_unrounded, savings_target_unrounded, savings_median_unrounded, refreshed_at
)
SELECT %(period)s, k.trust_id, k.products, ROUND(k.spend::numeric, 2),
       ROUND(k.vs_target::numeric, 2), ROUND(k.vs_median::numeric, 2),
       k.spend, k.vs_target, k.vs_median, %(now)s
FROM pricing_refresh_trusts k
WHERE k.products > 0;

DROP TABLE pricing_refresh_trusts, pricing_refresh_before, pricing_refresh_centiles, pricing_refresh_savings,
    pricing_refresh_figures;
