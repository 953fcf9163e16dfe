-- Write checked lines (already copied into the temporary table pricing_incoming_line) into the
-- purchase history, keyed by (trust, order reference, line number): a line already held is replaced.
-- What the write changes in the rollup goes to pricing_dirtypair under %(batch)s, for
-- pricing/sql/pair_totals_apply.sql: the replaced lines taken out of the rollup rows they counted
-- towards (their old product and periods), the written lines added to theirs.
-- PostgreSQL only (the ORM does the same on SQLite); runs inside the writer's transaction, which
-- holds the advisory locks of the lines' trusts (pricing.analytics.rollup_writers_lock), so the
-- replaced lines read here are the ones the upsert overwrites.
-- units = packs x units per pack; spend = packs x pack price (GBP excluding VAT).

-- The replaced lines, read before they are overwritten.
INSERT INTO pricing_dirtypair (batch, period_id, product_id, trust_id, lines, units, spend)
SELECT %(batch)s, p.id, l.product_id, l.trust_id,
       -COUNT(*), -SUM(l.quantity_packs * l.units_per_pack), -SUM(l.quantity_packs * l.pack_price)
FROM pricing_incoming_line i
JOIN pricing_purchasehistoryline l
  ON l.trust_id = i.trust_id
 AND l.order_reference = i.order_reference
 AND l.line_number = i.line_number
JOIN pricing_period p ON l.order_date >= p.starts_on AND l.order_date < p.ends_on
WHERE l.product_id IS NOT NULL
GROUP BY p.id, l.product_id, l.trust_id;

-- In (product, trust) order, so that the lines' (product, trust) index, where new lines land at random
-- places, is walked once from left to right; the unique index (trust, order, line) takes a day's new
-- orders at the end of each trust's, a few pages that stay in memory in any order.
INSERT INTO pricing_purchasehistoryline (
    trust_id, order_reference, line_number, order_date, supplier_name, gtin, npc, supplier_sku,
    manufacturer_part_number, description, quantity_packs, units_per_pack, pack_price, product_id,
    source, import_job_id, created_at, updated_at
)
SELECT i.trust_id, i.order_reference, i.line_number, i.order_date, i.supplier_name, i.gtin, i.npc,
       i.supplier_sku, i.manufacturer_part_number, i.description, i.quantity_packs, i.units_per_pack,
       i.pack_price, i.product_id, %(source)s, %(import_job_id)s, %(now)s, %(now)s
FROM pricing_incoming_line i
ORDER BY i.product_id, i.trust_id, i.order_reference, i.line_number
ON CONFLICT (trust_id, order_reference, line_number) DO UPDATE SET
    order_date = EXCLUDED.order_date,
    supplier_name = EXCLUDED.supplier_name,
    gtin = EXCLUDED.gtin,
    npc = EXCLUDED.npc,
    supplier_sku = EXCLUDED.supplier_sku,
    manufacturer_part_number = EXCLUDED.manufacturer_part_number,
    description = EXCLUDED.description,
    quantity_packs = EXCLUDED.quantity_packs,
    units_per_pack = EXCLUDED.units_per_pack,
    pack_price = EXCLUDED.pack_price,
    product_id = EXCLUDED.product_id,
    source = EXCLUDED.source,
    import_job_id = EXCLUDED.import_job_id,
    updated_at = EXCLUDED.updated_at;

-- The written lines.
INSERT INTO pricing_dirtypair (batch, period_id, product_id, trust_id, lines, units, spend)
SELECT %(batch)s, p.id, i.product_id, i.trust_id,
       COUNT(*), SUM(i.quantity_packs * i.units_per_pack), SUM(i.quantity_packs * i.pack_price)
FROM pricing_incoming_line i
JOIN pricing_period p ON i.order_date >= p.starts_on AND i.order_date < p.ends_on
WHERE i.product_id IS NOT NULL
GROUP BY p.id, i.product_id, i.trust_id;

DROP TABLE pricing_incoming_line;
