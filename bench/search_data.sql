-- Bench data for search_bench.py: 200,000 products with 1,000,000 offers, generated in SQL.
-- Parameters (psql -v or Python format): n_products, n_suppliers. Offers: 5 per product.
-- Names follow what NHS buyers see: a product type, a qualifier, a size and a pack.

BEGIN;

TRUNCATE catalogue_volumetier, catalogue_offer, catalogue_product, catalogue_category RESTART IDENTITY CASCADE;
DELETE FROM organisations_organisation WHERE slug LIKE 'bench-supplier-%';

-- 8 roots x 3 groups x 3 leaves.
CREATE TEMP TABLE bench_roots(i int, name text) ON COMMIT DROP;
INSERT INTO bench_roots VALUES
 (1, 'Clinical consumables'), (2, 'Gloves and protective wear'), (3, 'Mobility and daily living'),
 (4, 'Continence care'), (5, 'Wound care'), (6, 'Syringes and needles'),
 (7, 'Diagnostics'), (8, 'Storage and waste');

INSERT INTO catalogue_category (id, name, slug, parent_id, path, depth, description, attribute_names)
SELECT i, name, 'bench-' || i, NULL, name, 0, '', '[]'::jsonb FROM bench_roots;

INSERT INTO catalogue_category (id, name, slug, parent_id, path, depth, description, attribute_names)
SELECT 100 + r.i * 10 + g, r.name || ' group ' || g, 'bench-' || r.i || '-' || g, r.i,
       r.name || ' > ' || r.name || ' group ' || g, 1, '', '[]'::jsonb
FROM bench_roots r, generate_series(1, 3) g;

INSERT INTO catalogue_category (id, name, slug, parent_id, path, depth, description, attribute_names)
SELECT 1000 + r.i * 100 + g * 10 + l, 'Range ' || g || '.' || l, 'bench-' || r.i || '-' || g || '-' || l,
       100 + r.i * 10 + g,
       r.name || ' > ' || r.name || ' group ' || g || ' > Range ' || g || '.' || l, 2, '', '[]'::jsonb
FROM bench_roots r, generate_series(1, 3) g, generate_series(1, 3) l;

SELECT setval(pg_get_serial_sequence('catalogue_category', 'id'), 10000);

INSERT INTO organisations_organisation
  (kind, name, slug, ods_code, region, legal_name, companies_house_number, vat_number,
   is_trusted_supplier, share_prices_by_name, is_active, created_at)
SELECT 'supplier',
       (ARRAY['Medline', 'Bunzl', 'Williams Medical', 'Vernacare', 'Drive DeVilbiss', 'Invacare',
              'Essity', 'Smith Nephew', 'Mölnlycke', 'BD', 'Cardinal Health', 'Ansell'])[1 + s % 12]
         || ' Supplies ' || s,
       'bench-supplier-' || s, NULL, '', '', '', '', true, false, true, now()
FROM generate_series(1, :n_suppliers) s;

CREATE TEMP TABLE bench_supplier_ids ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY id) - 1 AS n, id
FROM organisations_organisation WHERE slug LIKE 'bench-supplier-%';

CREATE TEMP TABLE bench_types(i int, name text, words text) ON COMMIT DROP;
INSERT INTO bench_types VALUES
 (0, 'Anti-embolism stocking', 'graduated compression hosiery for DVT prophylaxis'),
 (1, 'Compression stocking', 'class 2 compression hosiery'),
 (2, 'Nitrile examination glove', 'ambidextrous textured fingertips'),
 (3, 'Latex surgical glove', 'sterile pairs, beaded cuff'),
 (4, 'Vinyl glove', 'general purpose non-sterile'),
 (5, 'Syringe luer lock', 'single use, graduated barrel'),
 (6, 'Syringe luer slip', 'single use, graduated barrel'),
 (7, 'Hypodermic needle', 'regular bevel, colour coded hub'),
 (8, 'Self-propelled wheelchair', 'folding frame with pneumatic tyres'),
 (9, 'Transit wheelchair', 'attendant propelled, lightweight'),
 (10, 'Walking frame', 'height adjustable aluminium'),
 (11, 'Rollator', 'four wheeled with seat and brakes'),
 (12, 'Walking stick', 'adjustable with ergonomic handle'),
 (13, 'Commode chair', 'with removable pan and padded seat'),
 (14, 'Mobile hoist', 'electric patient lifter'),
 (15, 'Hoist sling', 'universal quick fit'),
 (16, 'Incontinence pad', 'shaped, breathable backing'),
 (17, 'Continence brief', 'all in one, adult'),
 (18, 'Bed pad', 'disposable underpad'),
 (19, 'Foam wound dressing', 'silicone adhesive border'),
 (20, 'Hydrocolloid dressing', 'thin, for superficial wounds'),
 (21, 'Crepe bandage', 'light support, cotton'),
 (22, 'Adhesive plaster', 'washproof, assorted'),
 (23, 'Foley catheter', 'two way, silicone coated'),
 (24, 'Urine drainage bag', 'with lever tap'),
 (25, 'Surgical face mask type IIR', 'fluid resistant, ear loops'),
 (26, 'FFP3 respirator', 'valved, fit tested'),
 (27, 'Disposable apron', 'polythene, on a roll'),
 (28, 'Isolation gown', 'fluid resistant, long sleeve'),
 (29, 'Sharps container', 'yellow lid, temporary closure'),
 (30, 'Clinical waste bag', 'orange, for infectious waste'),
 (31, 'Blood pressure cuff', 'reusable, adult'),
 (32, 'Pulse oximeter', 'fingertip, battery powered'),
 (33, 'Thermometer probe cover', 'for tympanic thermometers'),
 (34, 'Alcohol wipe', 'isopropyl 70 percent'),
 (35, 'Hand sanitiser gel', 'alcohol based, pump bottle'),
 (36, 'Cotton wool ball', 'non-sterile'),
 (37, 'Gauze swab', 'woven, 8 ply'),
 (38, 'Specimen container', 'screw cap, labelled'),
 (39, 'Tongue depressor', 'wooden, single use'),
 (40, 'Storage box', 'stackable with lid'),
 (41, 'Pill organiser box', 'weekly, seven compartments'),
 (42, 'Raised toilet seat', 'with lid, four inch'),
 (43, 'Bath board', 'slatted, adjustable'),
 (44, 'Pressure relieving cushion', 'foam, with cover'),
 (45, 'Overbed table', 'height adjustable, on castors'),
 (46, 'Reacher grabber', 'lightweight, magnetic tip'),
 (47, 'Kidney dish', 'pulp, disposable'),
 (48, 'Oxygen mask', 'adult, medium concentration with tubing'),
 (49, 'Nasal cannula', 'soft prongs, 2 metre tubing'),
 (50, 'Nebuliser mask', 'paediatric and adult'),
 (51, 'Suction catheter', 'graduated, whistle tip'),
 (52, 'Yankauer suction tip', 'rigid, vented'),
 (53, 'Endotracheal tube', 'cuffed, murphy eye'),
 (54, 'Laryngoscope blade', 'single use, macintosh'),
 (55, 'Cannula IV', 'with injection port'),
 (56, 'Infusion giving set', 'gravity, 20 drops per ml'),
 (57, 'Extension set', 'luer lock, low volume'),
 (58, 'Three way tap', 'with extension'),
 (59, 'Blood collection tube', 'vacuum, EDTA'),
 (60, 'Tourniquet', 'latex free, single patient'),
 (61, 'Lancet', 'safety, pressure activated'),
 (62, 'Blood glucose test strip', 'for meters'),
 (63, 'Urine test strip', 'ten parameter'),
 (64, 'Pregnancy test', 'cassette, urine'),
 (65, 'ECG electrode', 'foam, pre-gelled'),
 (66, 'Defibrillator pad', 'adult, multifunction'),
 (67, 'Stethoscope', 'dual head'),
 (68, 'Otoscope speculum', 'disposable'),
 (69, 'Examination couch roll', 'two ply, perforated'),
 (70, 'Pillow case', 'wipe clean, fluid proof'),
 (71, 'Mattress cover', 'vapour permeable'),
 (72, 'Pressure relieving mattress', 'alternating air'),
 (73, 'Slide sheet', 'tubular, low friction'),
 (74, 'Transfer board', 'curved, polished'),
 (75, 'Grab rail', 'fluted, white'),
 (76, 'Shower chair', 'with arms and back'),
 (77, 'Perching stool', 'adjustable height, sloping seat'),
 (78, 'Bed lever', 'fits under mattress'),
 (79, 'Profiling bed', 'electric, four section'),
 (80, 'Crutch', 'elbow, adjustable'),
 (81, 'Ferrule', 'rubber, for walking aids'),
 (82, 'Stoma bag', 'drainable, cut to fit'),
 (83, 'Ostomy adhesive remover', 'spray, sting free'),
 (84, 'Barrier cream', 'skin protectant'),
 (85, 'Emollient', 'for dry skin'),
 (86, 'Wound closure strip', 'reinforced'),
 (87, 'Skin stapler', 'disposable, 35 staples'),
 (88, 'Suture', 'absorbable, braided, with needle'),
 (89, 'Scalpel', 'sterile, disposable, stainless'),
 (90, 'Stitch cutter', 'sterile, single use'),
 (91, 'Dressing pack', 'sterile, with gloves and apron'),
 (92, 'Irrigation solution', 'sodium chloride 0.9 percent'),
 (93, 'Film dressing', 'transparent, breathable'),
 (94, 'Alginate dressing', 'highly absorbent, cavity'),
 (95, 'Tubular bandage', 'elasticated, cotton'),
 (96, 'Cohesive bandage', 'self adherent'),
 (97, 'Triangular bandage', 'calico, with safety pins'),
 (98, 'Eye pad', 'sterile, oval'),
 (99, 'Ice pack', 'instant, single use'),
 (100, 'Heat pack', 'reusable gel'),
 (101, 'Vomit bag', 'with measurement scale'),
 (102, 'Bedpan', 'pulp, disposable'),
 (103, 'Urinal bottle', 'male, pulp'),
 (104, 'Denture pot', 'with lid, labelled'),
 (105, 'Patient identification wristband', 'write on, adult'),
 (106, 'Disinfectant wipe', 'chlorine, large canister'),
 (107, 'Detergent wipe', 'general purpose'),
 (108, 'Spill kit', 'body fluids'),
 (109, 'Paper towel', 'hand towel, interfold'),
 (110, 'Cleaning cloth', 'microfibre, colour coded'),
 (111, 'Mop head', 'cotton, looped'),
 (112, 'Medicine cup', 'graduated, polypropylene'),
 (113, 'Oral syringe', 'enteral, ENFit'),
 (114, 'Enteral feeding tube', 'nasogastric, ENFit'),
 (115, 'Pill crusher', 'manual, with cups'),
 (116, 'Tablet cutter', 'with blade guard'),
 (117, 'Drug fridge thermometer', 'digital, min max'),
 (118, 'Hearing aid battery', 'size 312'),
 (119, 'Magnifier', 'illuminated, handheld');

CREATE TEMP TABLE bench_qualifiers(i int, name text) ON COMMIT DROP;
INSERT INTO bench_qualifiers SELECT row_number() OVER () - 1, q FROM unnest(ARRAY[
 'sterile', 'non-sterile', 'powder free', 'latex free', 'single use', 'reusable', 'bariatric',
 'paediatric', 'extra absorbent', 'white', 'blue', 'black', 'heavy duty', 'standard', 'premium',
 'economy', 'hospital grade', 'antimicrobial', 'waterproof', 'lightweight']) q;

CREATE TEMP TABLE bench_sizes(i int, name text) ON COMMIT DROP;
INSERT INTO bench_sizes SELECT row_number() OVER () - 1, s FROM unnest(ARRAY[
 'small', 'medium', 'large', 'extra large', '2ml', '5ml', '10ml', '20ml', '50ml', '10cm x 10cm',
 '15cm x 20cm', 'thigh length', 'knee length', 'one size', '18 inch seat', '20 inch seat',
 '21G', '23G', '25G', '600ml', '1 litre', '5 litre', 'size 3', 'size 5']) s;

CREATE TEMP TABLE bench_packs(i int, name text) ON COMMIT DROP;
INSERT INTO bench_packs SELECT row_number() OVER () - 1, p FROM unnest(ARRAY[
 'box of 100', 'box of 50', 'pack of 10', 'pack of 5', 'case of 500', 'each', 'pair', 'roll of 200',
 'box of 200', 'pack of 30', 'carton of 12', 'bag of 250', 'single', 'set']) p;

INSERT INTO catalogue_product
  (id, name, slug, description, category_id, manufacturer, manufacturer_part_number, gtin, npc,
   unit_of_measure, units_per_pack, attributes, image_id, is_active, created_at, updated_at)
SELECT p,
       t.name || ', ' || q.name || ', ' || s.name || ', ' || pk.name,
       'bench-product-' || p,
       t.name || ': ' || t.words || '. ' || initcap(q.name) || ' ' || lower(t.name) || ' supplied '
         || pk.name || '. Model ' || (p % 97) || '.',
       1000 + (1 + t.i % 8) * 100 + (1 + (t.i / 8) % 3) * 10 + 1 + (t.i / 24) % 3,
       (ARRAY['Medline', 'Mölnlycke', 'Essity', 'Invacare', 'Drive DeVilbiss', 'BD', 'Smith & Nephew',
              'Ansell', 'Cardinal Health', 'Hartmann', 'Convatec', 'Coloplast', 'B. Braun', '3M',
              'Kimberly-Clark', 'Vernacare', 'Sunrise Medical', 'Days Healthcare', 'Arjo', 'Tena'])[1 + (hashint4(p + 4000037) & 2147483647) % 20],
       'MPN-' || lpad(p::text, 7, '0'),
       lpad((5012345000000 + p)::text, 14, '0'),
       CASE WHEN p % 2 = 0 THEN 'NPC' || lpad(p::text, 7, '0') END,
       'each', 1 + (p % 4) * 25, '{}'::jsonb, NULL, p % 50 <> 0, now(), now()
FROM generate_series(1, :n_products) p
JOIN bench_types t ON t.i = (hashint4(p) & 2147483647) % 120
JOIN bench_qualifiers q ON q.i = (hashint4(p + 1000003) & 2147483647) % 20
JOIN bench_sizes s ON s.i = (hashint4(p + 2000003) & 2147483647) % 24
JOIN bench_packs pk ON pk.i = (hashint4(p + 3000017) & 2147483647) % 14;

SELECT setval(pg_get_serial_sequence('catalogue_product', 'id'), :n_products + 1);

INSERT INTO catalogue_offer
  (supplier_id, product_id, supplier_sku, pack_price, vat_rate, units_per_pack, lead_time_days,
   min_order_packs, stock_status, valid_from, valid_to, patient_eligible, status, pending_changes,
   moderation_note, created_at, updated_at)
SELECT sup.id, p, 'S' || lpad(p::text, 7, '0') || '-' || k,
       round((0.5 + ((p * 7 + k * 13) % 4000) / 10.0)::numeric, 2), 20, 1 + (p % 4) * 25, 2 + k,
       1,
       (ARRAY['in_stock', 'in_stock', 'in_stock', 'low_stock', 'out_of_stock', 'made_to_order'])[1 + (hashint4(p * 5 + k) & 2147483647) % 6],
       NULL, NULL, (p + k) % 5 = 0,
       CASE WHEN (p + k) % 10 = 0 THEN 'withdrawn' ELSE 'live' END, NULL, '', now(), now()
FROM generate_series(1, :n_products) p
CROSS JOIN generate_series(0, 4) k
JOIN bench_supplier_ids sup
  ON sup.n = ((hashint4(p) & 2147483647) % :n_suppliers + k * (1 + (hashint4(p + 7) & 2147483647) % 59)) % :n_suppliers;

COMMIT;

ANALYZE catalogue_category;
ANALYZE catalogue_product;
ANALYZE catalogue_offer;
