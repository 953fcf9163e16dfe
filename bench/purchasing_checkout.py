"""Benchmark: checkout of a 200-line basket across 20 suppliers on PostgreSQL.

    python bench/purchasing_checkout.py [--lines 200] [--suppliers 20] [--baseline-lines 20] [--runs 5]
        [--database-url postgres://postgres@127.0.0.1:5432/mp_purchasing_bench]
    python bench/purchasing_checkout.py --smoke    # 20 lines across 4 suppliers, one run (make bench-smoke)

It (re)creates its own database (a copy of the migrated bench template, `bench/databases.py`), and
builds one trust with a buyer, a delivery site
and a cost centre, and `--suppliers` suppliers with offers (each with a volume tier). For each run
it fills the buyer's basket (rows written directly: the bench times checkout, not adding) and runs
`purchasing.services.basket_checkout` exactly as the API will: every line priced again through the
strategy, one order per supplier with its lines, the basket emptied, each order submitted (events,
audit). It prints the median and worst time and the query count of the big basket beside the
baseline, a basket of `--baseline-lines` lines across the same suppliers, with the ratios.

Target (issue 12): under 1 s for 200 lines across 20 suppliers, with a query count that does not
grow with the number of lines (it grows with the number of suppliers: each order is a few rows).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/mp_purchasing_bench"
SMOKE_URL = "postgres://postgres@127.0.0.1:5432/mp_purchasing_bench_smoke"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int)
    parser.add_argument("--suppliers", type=int)
    parser.add_argument("--baseline-lines", type=int)
    parser.add_argument("--runs", type=int)
    parser.add_argument("--smoke", action="store_true", help="a tiny run, to check the bench still works")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    # --smoke: the same checkout at a scale that runs in seconds, so the bench cannot rot unnoticed.
    small = {"lines": 20, "suppliers": 4, "baseline_lines": 4, "runs": 1}
    full = {"lines": 200, "suppliers": 20, "baseline_lines": 20, "runs": 5}
    for name, value in (small if args.smoke else full).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.database_url = (
        args.database_url
        or os.environ.get("BENCH_DATABASE_URL")
        or (SMOKE_URL if args.smoke else DEFAULT_URL)
    )

    from bench.databases import create_database

    create_database(args.database_url, drop=True)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.pop("REDIS_URL", None)  # emails are queued to Celery's in-memory broker
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from catalogue.models import Category, Offer, OfferStatus, Product, VolumeTier
    from marketplace.celery import app as celery_app
    from organisations.acting import Acting
    from organisations.models import Membership, Organisation, OrganisationKind, Region, Role, User
    from purchasing.models import BasketLine, CostCentre, DeliverySite
    from purchasing.services import basket_checkout, basket_get_or_create
    from purchasing.types import OrderInput

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # As in a web request with a broker: the emails are queued on commit (here to the in-memory
    # broker), not sent inside the checkout.
    celery_app.conf.task_always_eager = False
    call_command("migrate", verbosity=0)

    trust = Organisation.objects.create(
        kind=OrganisationKind.TRUST,
        name="Bench Hospitals NHS Trust",
        slug="bench-trust",
        ods_code="RB1",
        region=Region.LONDON,
    )
    buyer = User.objects.create_user("buyer@bench.nhs.uk", None)
    Membership.objects.create(user=buyer, organisation=trust, role=Role.BUYER)
    site = DeliverySite.objects.create(trust=trust, name="Stores", address="Goods-in", postcode="BE1 1AA")
    centre = CostCentre.objects.create(trust=trust, code="BENCH", name="Bench")
    category = Category.objects.create(name="Bench", slug="bench")
    suppliers = [
        Organisation.objects.create(kind=OrganisationKind.SUPPLIER, name=f"Supplier {n:02d}", slug=f"s-{n}")
        for n in range(args.suppliers)
    ]
    per_supplier = -(-args.lines // args.suppliers)
    offers: list[Offer] = []
    for n in range(per_supplier * args.suppliers):
        product = Product.objects.create(name=f"Item {n}", slug=f"item-{n}", category=category)
        offer = Offer.objects.create(
            supplier=suppliers[n % args.suppliers],
            product=product,
            supplier_sku=f"SKU-{n}",
            pack_price=Decimal("10.00") + n % 7,
            status=OfferStatus.LIVE,
        )
        VolumeTier.objects.create(offer=offer, min_packs=50, pack_price=Decimal("9.00"))
        offers.append(offer)
    acting = Acting(organisation=trust, explicit=True, kind=trust.kind)
    orders = [
        OrderInput(supplier_id=s.pk, delivery_site_id=site.pk, cost_centre_id=centre.pk) for s in suppliers
    ]
    basket = basket_get_or_create(actor=buyer, acting=acting)
    run_number = 0

    def checkout(lines: int) -> tuple[float, int]:
        nonlocal run_number
        run_number += 1
        BasketLine.objects.bulk_create(
            BasketLine(basket=basket, offer=offer, quantity=2, seen_pack_price=offer.pack_price)
            for offer in offers[:lines]
        )
        reset_queries()  # the log keeps 9,000 queries; the setup would fill it
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            made = basket_checkout(
                basket=basket,
                actor=buyer,
                acting=acting,
                idempotency_key=f"bench-{run_number}",
                orders=[o for o in orders if o.supplier_id in {x.supplier_id for x in offers[:lines]}],
            )
            elapsed = time.perf_counter() - started
        assert len(made) == min(lines, args.suppliers)
        return elapsed, len(queries)

    def measure(lines: int) -> tuple[float, float, int]:
        checkout(lines)  # warm up (caches, prepared plans)
        results = [checkout(lines) for _ in range(args.runs)]
        times = [t for t, _ in results]
        return statistics.median(times), max(times), results[-1][1]

    big = measure(args.lines)
    small = measure(args.baseline_lines)
    print(f"Load average: {os.getloadavg()[0]:.1f}")
    print(
        f"Checkout of {args.lines} lines across {args.suppliers} suppliers: median {big[0] * 1000:.0f} ms, "
        f"worst {big[1] * 1000:.0f} ms, {big[2]} queries"
    )
    print(
        f"Baseline, {args.baseline_lines} lines across the same suppliers: median {small[0] * 1000:.0f} ms, "
        f"worst {small[1] * 1000:.0f} ms, {small[2]} queries"
    )
    print(
        f"Ratio: {big[0] / small[0]:.1f}x the time for {args.lines / args.baseline_lines:.0f}x the lines; "
        f"queries {big[2]} vs {small[2]}"
    )
    print(
        "Target: under 1 s; the query count does not grow with lines:",
        "MET" if big[0] < 1 and big[2] == small[2] else "NOT MET",
    )


if __name__ == "__main__":
    main()
