"""Benchmark: the order list (GET /api/v1/orders/) of a trust holding 100,000 orders, on PostgreSQL.

    python bench/purchasing_orders.py [--orders 100000] [--requests 60]
        [--database-url postgres://postgres@127.0.0.1:5432/mp_purchasing_orders_bench]
    python bench/purchasing_orders.py --smoke      # 2,000 orders, a few requests (make bench-smoke)

It makes its own database (a copy of the migrated bench template, `bench/databases.py`) and builds,
in a few INSERT ... SELECT statements: the big trust with `--orders` orders of 3 lines each over two
years to 20 suppliers in every state, another trust with a fifth as many (so that the table is not
one trust's), and the baseline trust with 1,000 orders. Then it asks the API for pages of the big
trust's list, in-process (the API view, serializers and queries; no network), the way a trust's ERP
does: pages drawn at random across the whole list (deep pages included), and the first pages
filtered by state, by supplier and by a month of dates. It prints p50 and p95 per page and the
queries per request for each, and the same for the baseline trust's list with the ratio.

Target (issue 12): p95 under 50 ms per page, with a query count that does not grow with orders.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/mp_purchasing_orders_bench"
SMOKE_URL = "postgres://postgres@127.0.0.1:5432/mp_purchasing_orders_bench_smoke"
TARGET_MS = 50
SUPPLIERS = 20
BASELINE_ORDERS = 1_000
STATES = (
    ["closed"] * 6
    + ["invoiced", "received", "part_received", "dispatched", "part_dispatched", "acknowledged"]
    + ["sent", "awaiting_approval", "approved", "cancelled", "rejected"]
)


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, help="orders of the big trust (100,000; 2,000 with --smoke)")
    parser.add_argument("--requests", type=int, help="timed requests per measurement (60; 8 with --smoke)")
    parser.add_argument("--smoke", action="store_true", help="a tiny run, to check the bench still works")
    parser.add_argument("--database-url", help=f"default {DEFAULT_URL} ({SMOKE_URL} with --smoke)")
    args = parser.parse_args()
    args.orders = args.orders or (2_000 if args.smoke else 100_000)
    args.requests = args.requests or (8 if args.smoke else 60)
    args.database_url = (
        args.database_url
        or os.environ.get("BENCH_DATABASE_URL")
        or (SMOKE_URL if args.smoke else DEFAULT_URL)
    )
    return args


ORDERS_SQL = """
INSERT INTO purchasing_purchaseorder (
    number, trust_id, supplier_id, buyer_id, checkout_id, state, delivery_site_id, delivery_name,
    delivery_address, delivery_postcode, delivery_gln, cost_centre_id, required_by, note,
    approvals_required, total_excl_vat, total_vat, total_incl_vat, expected_delivery, invoice_number,
    created_at, updated_at)
SELECT %(prefix)s || '-PO-' || lpad(i::text, 6, '0'), %(trust)s,
    (%(suppliers)s::int[])[1 + i %% %(n_suppliers)s], %(buyer)s, %(checkout)s,
    (%(states)s::text[])[1 + (i * 7) %% %(n_states)s], %(site)s, 'Main stores',
    'Goods-in', 'BE1 1AA', '', %(centre)s, NULL, '', 0, 90.00, 18.00, 108.00, NULL, '',
    now() - make_interval(mins => ((%(count)s - i)::bigint * 1051200 / %(count)s)::int),
    now() - make_interval(mins => ((%(count)s - i)::bigint * 1051200 / %(count)s)::int)
FROM generate_series(1, %(count)s) AS i
"""

LINES_SQL = """
INSERT INTO purchasing_orderline (
    order_id, line_number, offer_id, product_id, description, supplier_sku, gtin, packs, units_per_pack,
    pack_price, vat_rate, line_excl_vat, line_vat, line_total, packs_dispatched, packs_received)
SELECT o.id, n, f.id, f.product_id, 'Bench item', f.supplier_sku, '', 3, 1, 10.00, 20.00, 30.00, 6.00,
    36.00, 0, 0
FROM purchasing_purchaseorder o
JOIN catalogue_offer f ON f.supplier_id = o.supplier_id
CROSS JOIN generate_series(1, 3) AS n
WHERE o.trust_id = %(trust)s
"""


def main() -> None:
    args = _parse()
    from bench.databases import create_database

    create_database(args.database_url, drop=True)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")
    os.environ["LOG_LEVEL"] = "WARNING"

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from rest_framework.test import APIClient

    from catalogue.models import Category, Offer, OfferStatus, Product
    from organisations.models import Membership, Organisation, OrganisationKind, Region, Role, User
    from purchasing.models import CheckoutRequest, CostCentre, DeliverySite

    settings.ALLOWED_HOSTS = ["*"]
    started = time.perf_counter()
    category = Category.objects.create(name="Bench", slug="bench")
    suppliers = []
    for n in range(SUPPLIERS):
        supplier = Organisation.objects.create(
            kind=OrganisationKind.SUPPLIER, name=f"Supplier {n:02d}", slug=f"supplier-{n}"
        )
        product = Product.objects.create(name=f"Item {n}", slug=f"item-{n}", category=category)
        Offer.objects.create(
            supplier=supplier,
            product=product,
            supplier_sku=f"SKU-{n}",
            pack_price=10,
            status=OfferStatus.LIVE,
        )
        suppliers.append(supplier)

    def trust_with_orders(ods: str, count: int) -> tuple[Organisation, User]:
        trust = Organisation.objects.create(
            kind=OrganisationKind.TRUST,
            name=f"{ods} Hospitals NHS Trust",
            slug=ods.lower(),
            ods_code=ods,
            region=Region.LONDON,
        )
        buyer = User.objects.create_user(f"buyer@{ods.lower()}.bench.nhs.uk", None)
        Membership.objects.create(user=buyer, organisation=trust, role=Role.BUYER)
        site = DeliverySite.objects.create(
            trust=trust, name="Main stores", address="Goods-in", postcode="BE1 1AA"
        )
        centre = CostCentre.objects.create(trust=trust, code="BENCH", name="Bench")
        checkout = CheckoutRequest.objects.create(trust=trust, key="bench", buyer=buyer)
        params = {
            "prefix": ods,
            "trust": trust.pk,
            "suppliers": [s.pk for s in suppliers],
            "n_suppliers": len(suppliers),
            "buyer": buyer.pk,
            "checkout": checkout.pk,
            "states": STATES,
            "n_states": len(STATES),
            "site": site.pk,
            "centre": centre.pk,
            "count": count,
        }
        with connection.cursor() as cursor:
            cursor.execute(ORDERS_SQL, params)
            cursor.execute(LINES_SQL, params)
        return trust, buyer

    _, big_buyer = trust_with_orders("RB1", args.orders)
    trust_with_orders("RB2", max(args.orders // 5, 1))
    _, small_buyer = trust_with_orders("RB3", BASELINE_ORDERS)
    with connection.cursor() as cursor:
        # As autovacuum leaves a table in use: statistics, and the visibility map index-only scans read.
        cursor.execute("VACUUM ANALYZE")
    total = args.orders + max(args.orders // 5, 1) + BASELINE_ORDERS
    print(f"Built {total:,} orders ({total * 3:,} lines) in {time.perf_counter() - started:.1f} s")

    def client_for(user: User) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    def measure(client: APIClient, queries: list[str]) -> tuple[float, float, list[int], float]:
        """p50 and p95 in ms over the requests (after three warm-ups), the query counts, and the
        median time spent in SQL (the rest is Python: the view, model rows, serializers, JSON)."""
        for query in queries[:3]:
            client.get(f"/api/v1/orders/{query}")
        times, counts, sql = [], set(), []
        for query in queries:
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                response = client.get(f"/api/v1/orders/{query}")
                times.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, (query, response.status_code, response.content[:300])
            counts.add(len(captured))
            sql.append(sum(float(q["time"]) for q in captured.captured_queries) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        return statistics.median(times), p95, sorted(counts), statistics.median(sql)

    rng = random.Random(12)
    page_size = settings.REST_FRAMEWORK["PAGE_SIZE"]
    pages = -(-args.orders // page_size)
    month_end = timezone.localdate()
    month_start = month_end - dt.timedelta(days=30)
    cases = {
        "pages across the list": [f"?page={rng.randint(1, pages)}" for _ in range(args.requests)],
        "first pages": [f"?page={1 + n % 5}" for n in range(args.requests)],
        "by state (closed)": [f"?state=closed&page={1 + n % 5}" for n in range(args.requests)],
        "by supplier": [f"?supplier={suppliers[n % SUPPLIERS].pk}" for n in range(args.requests)],
        "one month": [
            f"?created_from={month_start}&created_to={month_end}&page={1 + n % 2}"
            for n in range(args.requests)
        ],
    }
    print(f"Load average: {os.getloadavg()[0]:.1f}")
    print(
        f"Order list of a trust holding {args.orders:,} orders, {page_size} a page, "
        f"{args.requests} requests each:"
    )
    big_client = client_for(big_buyer)
    worst = 0.0
    results = {}
    for name, queries in cases.items():
        p50, p95, counts, sql = measure(big_client, queries)
        results[name] = (p50, p95, counts)
        worst = max(worst, p95)
        print(
            f"  {name:22s} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   (SQL p50 {sql:5.1f} ms)   queries {counts}"
        )

    small_pages = -(-BASELINE_ORDERS // page_size)
    base = measure(
        client_for(small_buyer), [f"?page={rng.randint(1, small_pages)}" for _ in range(args.requests)]
    )
    print(
        f"Baseline, a trust holding {BASELINE_ORDERS:,} orders, pages across its list: "
        f"p50 {base[0]:.1f} ms   p95 {base[1]:.1f} ms   (SQL p50 {base[3]:.1f} ms)   queries {base[2]}"
    )
    across = results["pages across the list"]
    print(
        f"Ratio: {across[1] / base[1]:.1f}x the p95 for {args.orders / BASELINE_ORDERS:.0f}x the orders; "
        f"queries {across[2]} vs {base[2]}"
    )
    constant = all(r[2] == base[2] for r in results.values())
    print(
        f"Target: p95 under {TARGET_MS} ms per page, queries not growing with orders:",
        "MET" if worst < TARGET_MS and constant else "NOT MET",
    )


if __name__ == "__main__":
    main()
