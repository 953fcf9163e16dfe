-- Bring the rollup rows (period, product, trust) that one write touched up to date, by difference.
-- The write noted its changes in pricing_dirtypair under one batch number (lines, units and spend to
-- add; negative for the lines it replaced): summed per key, they are added to the rollup rows, which
-- are created when new and deleted when no line is left. No line is read again. The tests check that
-- the rollup equals a recomputation from the lines after every kind of write.
-- Runs on PostgreSQL and SQLite alike, inside the writer's transaction, under the advisory locks of
-- the trusts it writes (pricing.analytics.rollup_writers_lock): the rows as read here stay as they are
-- until it commits.

DROP TABLE IF EXISTS pricing_rollup_change;

-- Each touched key's net change and its rollup row as it is (empty: no row yet). A line replaced by
-- the same line changes nothing and touches nothing. In key order, read and stored: the rollup's
-- key index and its table (built in key order) are then walked from left to right, here and by the
-- statements below that read this table, and each page is visited once while it is in memory.
CREATE TEMPORARY TABLE pricing_rollup_change AS
SELECT c.period_id, c.product_id, c.trust_id, c.lines, c.units, c.spend,
       t.lines AS lines_before, t.units AS units_before, t.spend AS spend_before
FROM (
    SELECT period_id, product_id, trust_id, SUM(lines) AS lines, SUM(units) AS units, SUM(spend) AS spend
    FROM pricing_dirtypair
    WHERE batch = %(batch)s
    GROUP BY period_id, product_id, trust_id
    ORDER BY period_id, product_id, trust_id
) c
LEFT JOIN pricing_pairtotal t
  ON t.period_id = c.period_id
 AND t.product_id = c.product_id
 AND t.trust_id = c.trust_id
WHERE c.lines <> 0 OR c.units <> 0 OR c.spend <> 0
ORDER BY c.period_id, c.product_id, c.trust_id;

-- PostgreSQL only: so that its planner sees how few keys there are and probes the rollup's index for
-- each. Only the columns the statements below join or filter on: the numeric ones cost two thirds of
-- it. (SQLite's ANALYZE takes no column list, and its planner probes the index without statistics.)
ANALYZE pricing_rollup_change (period_id, product_id, trust_id, lines, lines_before);

DELETE FROM pricing_dirtypair WHERE batch = %(batch)s;

-- Keep each touched row as the last refresh of its period counted it (the first change since that
-- refresh wins; empty units: the row did not exist then), so that the refresh can adjust trusts'
-- totals by difference.
INSERT INTO pricing_pairseen (period_id, product_id, trust_id, units, spend)
SELECT c.period_id, c.product_id, c.trust_id, c.units_before, c.spend_before
FROM pricing_rollup_change c
WHERE true
ON CONFLICT (period_id, product_id, trust_id) DO NOTHING;

-- Rows left with no line.
DELETE FROM pricing_pairtotal
WHERE EXISTS (
    SELECT 1 FROM pricing_rollup_change c
    WHERE c.lines_before + c.lines = 0
      AND c.period_id = pricing_pairtotal.period_id
      AND c.product_id = pricing_pairtotal.product_id
      AND c.trust_id = pricing_pairtotal.trust_id
);

UPDATE pricing_pairtotal
SET lines = pricing_pairtotal.lines + c.lines,
    units = pricing_pairtotal.units + c.units,
    spend = pricing_pairtotal.spend + c.spend
FROM pricing_rollup_change c
WHERE c.lines_before + c.lines > 0
  AND c.period_id = pricing_pairtotal.period_id
  AND c.product_id = pricing_pairtotal.product_id
  AND c.trust_id = pricing_pairtotal.trust_id;

INSERT INTO pricing_pairtotal (period_id, product_id, trust_id, lines, units, spend)
SELECT c.period_id, c.product_id, c.trust_id, c.lines, c.units, c.spend
FROM pricing_rollup_change c
WHERE c.lines_before IS NULL
ORDER BY c.period_id, c.product_id, c.trust_id;

-- The products whose centiles and savings the next refresh must recompute.
INSERT INTO pricing_staleproduct (period_id, product_id)
SELECT DISTINCT c.period_id, c.product_id
FROM pricing_rollup_change c
WHERE NOT EXISTS (
    SELECT 1 FROM pricing_staleproduct s
    WHERE s.period_id = c.period_id AND s.product_id = c.product_id
);

DROP TABLE pricing_rollup_change;
