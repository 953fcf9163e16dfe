"""Browse benchmark: category pages and GET /api/v1/products/ at 200,000 products and 1,000,000 offers.

    python bench/browse_bench.py                   # generate (first run), fill the browse data, measure
    python bench/browse_bench.py --regenerate      # rebuild the data first
    python bench/browse_bench.py --products 20000  # a smaller catalogue (its own data)
    python bench/browse_bench.py --smoke           # 1,000 products, seconds: does it still run?

Data goes into its own database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/mp_browse_bench; the smoke run uses mp_browse_bench_smoke), generated
by the search benchmark's SQL (bench/search_data.sql: 8 top-level categories, 24 groups, 72 leaves,
5 offers per product, 90% live, 300 suppliers), then the per-product browse data is filled with
`catalogue.browse_data.product_browse_rebuild` (timed). Each case is a real request through Django's
test client (middleware, view, template or serializer; DEBUG off), signed in as a trust's buyer; the
figures are server time in this process, without a network. Query counts come from one run of each;
"pg own time" is PostgreSQL's planning and execution time of that run's SELECTs (EXPLAIN ANALYZE of
each), the database's share without the scheduler's waits of a loaded machine between statements.

The baseline is the old code path: the product list as it was computed per request before issue 11 -
an Exists and three per-product subqueries over `buyable_offer_q` for every product of the category,
sorted by the lowest unit price - with its count, timed as bare queries (no view, no facets, so the
ratio understates the old page).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/mp_browse_bench"
SMOKE_URL = "postgres://postgres@127.0.0.1:5432/mp_browse_bench_smoke"
TARGET_P95_MS = 50.0


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")
    os.environ.pop("ELASTICSEARCH_URL", None)
    os.environ.pop("REDIS_URL", None)  # per-process caches: what is timed is the database work
    os.environ["SEARCH_BACKEND"] = "database"
    # Production's request path (no debug toolbar, no query log), served by the test client.
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "browse-bench-only")
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["MARKETPLACE_TESTING"] = "true"  # only so {% static %} needs no collectstatic manifest
    import warnings

    import django

    warnings.filterwarnings("ignore", message="No directory at", module="django.core.handlers.base")
    django.setup()


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"Created database {name}.")


def prepare(n_products: int, n_suppliers: int, regenerate: bool) -> None:
    from django.core.management import call_command
    from django.db import connection

    from catalogue.browse_data import product_browse_rebuild
    from catalogue.models import CategoryFacetCount, Product, ProductBrowse

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"Migrated in {time.perf_counter() - started:.1f} s.")
    have = Product.objects.filter(slug__startswith="bench-product-").count()
    if regenerate or have != n_products:
        sql = (ROOT / "bench" / "search_data.sql").read_text()
        sql = sql.replace(":n_products", str(n_products)).replace(":n_suppliers", str(n_suppliers))
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql)
        print(
            f"Generated {n_products:,} products and {5 * n_products:,} offers "
            f"in {time.perf_counter() - started:.1f} s."
        )
    filled = ProductBrowse.objects.count() == n_products and CategoryFacetCount.objects.exists()
    if regenerate or have != n_products or not filled:
        started = time.perf_counter()
        count = product_browse_rebuild()
        print(f"Browse data of {count:,} products filled in {time.perf_counter() - started:.1f} s.")
    # Statistics for the planner, and the visibility map that lets the covering indexes answer alone
    # (autovacuum does both in production; here the rows were all just written).
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE catalogue_offer")
        cursor.execute("VACUUM ANALYZE catalogue_productbrowse")
        cursor.execute("VACUUM ANALYZE catalogue_productbrowsesubset")
        cursor.execute("VACUUM ANALYZE catalogue_offerbrowse")
        cursor.execute("VACUUM ANALYZE catalogue_categoryfacetcount")


def buyer_client():
    from django.test import Client

    from organisations.models import Membership, Organisation, OrganisationKind, Region, Role, User

    trust, _ = Organisation.objects.get_or_create(
        slug="browse-bench-trust",
        defaults={
            "kind": OrganisationKind.TRUST,
            "name": "Browse Bench Hospitals NHS Trust",
            "ods_code": "BB1",
            "region": Region.LONDON,
        },
    )
    user = User.objects.filter(email="browse-bench-buyer@example.nhs.uk").first()
    if user is None:
        user = User.objects.create_user(email="browse-bench-buyer@example.nhs.uk", password=None)
    Membership.objects.get_or_create(user=user, organisation=trust, role=Role.BUYER)
    client = Client()
    client.force_login(user)
    return client


def cases(n_products: int) -> list[tuple[str, str, dict]]:
    """(label, url, params): every kind of page the issue names."""
    from django.urls import reverse

    from organisations.models import Organisation

    supplier = Organisation.objects.filter(slug="bench-supplier-1").values_list("id", flat=True).first()
    top = reverse("catalogue:category-detail", kwargs={"slug": "bench-1"})
    leaf = reverse("catalogue:category-detail", kwargs={"slug": "bench-1-1-1"})
    api = reverse("api-product-list")
    # Page 50 when the catalogue has one (20 products a page; a top-level category holds ~1/8).
    far = "50" if n_products >= 8 * 20 * 50 else "3"
    far_api = "20" if n_products >= 2 * 50 * 20 else "2"  # 50 products a page
    return [
        ("top-level category, page 1 (price)", top, {}),
        (f"top-level category, page {far}", top, {"page": far}),
        ("top-level category, sort name", top, {"sort": "name"}),
        ("top-level category, sort lead time", top, {"sort": "lead_time"}),
        ("top-level category, one supplier", top, {"supplier": supplier}),
        ("top-level category, supplier + in stock", top, {"supplier": supplier, "stock": "in_stock"}),
        ("top-level category, patient eligible", top, {"patient_eligible": "true"}),
        ("top-level category, supplier + price", top, {"supplier": supplier, "unit_price_max": "5"}),
        ("top-level category, in stock + price", top, {"stock": "in_stock", "unit_price_max": "5"}),
        # A bound most offers meet (82%): the supplier facet counts most of the category's offer rows.
        ("top-level category, price <= 100", top, {"unit_price_max": "100"}),
        ("leaf category, page 1", leaf, {}),
        (f"leaf category, page {far}", leaf, {"page": far}),
        ("leaf category, sort name", leaf, {"sort": "name"}),
        ("API, no filter", api, {}),
        (f"API, page {far_api}, sort name", api, {"page": far_api, "sort": "name"}),
        ("API, category", api, {"category": "bench-1"}),
        ("API, supplier", api, {"supplier": supplier}),
        (
            "API, supplier + price + lead time",
            api,
            {"supplier": supplier, "unit_price_min": "1", "lead_time_max": "4"},
        ),
        (
            "API, category + in stock + price",
            api,
            {"category": "bench-2", "stock": "in_stock", "unit_price_max": "5"},
        ),
    ]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def measure(client, url: str, params: dict, repeats: int, cold: str = "catalogue") -> dict:
    """Per request: wall time, the process's CPU time (Python's share, which other work on the
    machine slows less) and the time spent waiting on the database (on the request's own connection:
    a read sent beside it, `common.concurrent_reads`, is waited for in Python); and the number of
    statements (all on the request's connection in the counted request).

    Every request is a first view of the catalogue: before each, `cold` "catalogue" moves the
    catalogue's cache version (what any change of an offer, product, supplier or category does), so
    nothing the catalogue keeps is read, while the buyer's session, memberships and contract and pooled
    prices stay cached as they would after an offer changed; "all" empties the whole cache (as after a
    Redis restart: the session, the memberships and the trust's prices are read again too)."""
    from django.core.cache import cache
    from django.db import connection
    from django.test import override_settings

    from catalogue.caching import catalogue_changed

    def forget() -> None:
        if cold == "all":
            cache.clear()
        else:
            catalogue_changed()

    statements = []
    waited = [0.0]

    def timed(execute, sql, params, many, context):
        statements.append((sql, params))
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            waited[0] += time.perf_counter() - started

    with connection.execute_wrapper(timed):
        # What is timed is the work behind the shared cache, as on the first request after a change
        # (a warm page reads no catalogue row). The counted request sends every statement on this
        # connection (none beside it, `common.concurrent_reads`), so all are counted and explained.
        forget()
        with override_settings(DATABASE_CONCURRENT_READS=False):
            response = client.get(url, params, secure=True)  # production redirects plain HTTP
        if response.status_code != 200:
            raise SystemExit(f"{url} {params} answered {response.status_code}")
        queries = len(statements)
        wall, cpu, db = [], [], []
        for _ in range(repeats):
            waited[0] = 0.0
            forget()
            started, started_cpu = time.perf_counter(), time.process_time()
            client.get(url, params, secure=True)
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            db.append(waited[0] * 1000)
    own = executed(statements[:queries])
    return {"wall": wall, "cpu": cpu, "db": db, "queries": queries, "executed": own}


def executed(statements: list[tuple[str, object]]) -> float:
    """PostgreSQL's own planning and execution time of one request's SELECTs (EXPLAIN ANALYZE of each,
    as sent): the database's work without the waits of a loaded machine's scheduler between them."""
    from django.db import connection

    total = 0.0
    with connection.cursor() as cursor:
        # As the side connection runs its reads (`common.concurrent_reads`): without JIT compiling,
        # which a correlated subquery's estimated cost can bring on. No other statement of these
        # pages is estimated past `jit_above_cost`.
        cursor.execute("SET jit = off")
        for sql, params in statements:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
            plan = plan[0] if isinstance(plan, list) else plan
            total += plan["Planning Time"] + plan["Execution Time"]
        cursor.execute("RESET jit")
    return total


def old_product_list(*, category_slug: str | None, supplier: int | None, sort: str, offset: int):
    """The list as the old ProductFilter built it: Exists plus three subqueries per product over
    `buyable_offer_q`, for every product in the category, then sorted - and its count."""
    from django.db.models import Count, Exists, F, OuterRef, Subquery
    from django.db.models.functions import Lower

    from catalogue.models import Category, Product
    from catalogue.selectors import buyable_offers, in_category_q

    products = Product.objects.filter(is_active=True)
    if category_slug:
        products = products.filter(in_category_q(Category.objects.get(slug=category_slug)))
    offers = buyable_offers()
    if supplier:
        offers = offers.filter(supplier_id=supplier)
    per_product = offers.filter(product=OuterRef("pk")).order_by()
    products = products.filter(Exists(per_product)).annotate(
        min_unit_price=Subquery(per_product.order_by("unit_price").values("unit_price")[:1]),
        min_lead_time_days=Subquery(
            per_product.filter(lead_time_days__isnull=False)
            .order_by("lead_time_days")
            .values("lead_time_days")[:1]
        ),
        offer_count=Subquery(per_product.values("product").annotate(n=Count("id")).values("n")[:1]),
    )
    if sort == "name":
        products = products.order_by(Lower("name"), "id")
    else:
        products = products.order_by(F("min_unit_price").asc(), Lower("name"), "id")
    count = products.count()
    page = list(products[offset : offset + 20].values_list("id", "min_unit_price"))
    return count, page


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--products", type=int, default=200_000)
    parser.add_argument("--suppliers", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=30, help="timed requests per case")
    parser.add_argument("--baseline-repeats", type=int, default=3, help="timed runs of each old query")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="1,000 products, 3 repeats: a quick check")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--cases", default="", help="only the cases whose label contains this")
    parser.add_argument(
        "--cold",
        choices=("catalogue", "all"),
        default="catalogue",
        help="before each request: move the catalogue's cache version (default; as any catalogue change "
        "does) or empty the whole cache (sessions, memberships and trusts' prices too)",
    )
    args = parser.parse_args()
    if args.smoke:
        args.products, args.suppliers, args.repeats, args.baseline_repeats = 1000, 30, 3, 1
    url = (
        args.database_url
        or os.environ.get("BENCH_DATABASE_URL")
        or (SMOKE_URL if args.smoke else DEFAULT_URL)
    )
    ensure_database(url)
    setup_django(url)
    prepare(args.products, args.suppliers, args.regenerate)

    client = buyer_client()
    # As a gunicorn worker forked from the preloading master (infra/gunicorn.conf.py, `when_ready`):
    # what the import made is frozen out of the garbage collector's full passes.
    from django.core.cache import cache

    from marketplace.collector import freeze_long_lived

    freeze_long_lived()
    # And as such a worker once it has answered its first requests (`post_fork`: templates compiled,
    # URL resolvers' caches filled, then frozen too): one request of each case.
    for label, path, params in cases(args.products):
        if args.cases in label:
            client.get(path, params, secure=True)
    cache.clear()
    freeze_long_lived()
    print(
        f"\n{args.products:,} products, {5 * args.products:,} offers; {args.repeats} requests per case "
        f"after one warm-up (server time, ms); before each, "
        f"{'the whole cache emptied' if args.cold == 'all' else 'the catalogue cache version moved'}.\n"
    )
    print(f"{'':<44} {'server time':>17} {'database':>17} {'python cpu':>10} {'':>8} {'pg own':>8}")
    print(f"{'case':<44} {'p50':>8} {'p95':>8} {'p50':>8} {'p95':>8} {'p50':>10} {'queries':>8} {'time':>8}")
    worst = 0.0
    results = {}
    for label, path, params in cases(args.products):
        if args.cases not in label:
            continue
        m = measure(client, path, params, args.repeats, args.cold)
        p50, p95 = statistics.median(m["wall"]), percentile(m["wall"], 95)
        worst = max(worst, p95)
        results[label] = (p50, statistics.median(m["db"]))
        print(
            f"{label:<44} {p50:>8.1f} {p95:>8.1f} {statistics.median(m['db']):>8.1f} "
            f"{percentile(m['db'], 95):>8.1f} {statistics.median(m['cpu']):>10.1f} {m['queries']:>8} "
            f"{m['executed']:>8.1f}",
            flush=True,
        )
    verdict = "met" if worst <= TARGET_P95_MS else "NOT met"
    print(
        f"\nLoad average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other work slows every figure)."
    )
    print(f"Worst p95 {worst:.1f} ms; target p95 <= {TARGET_P95_MS:.0f} ms {verdict}.")

    from organisations.models import Organisation

    supplier = Organisation.objects.filter(slug="bench-supplier-1").values_list("id", flat=True).first()
    baselines = [
        (
            "top-level category, page 1 (price)",
            {"category_slug": "bench-1", "supplier": None, "sort": "price", "offset": 0},
        ),
        (
            "leaf category, page 1",
            {"category_slug": "bench-1-1-1", "supplier": None, "sort": "price", "offset": 0},
        ),
        (
            "top-level category, one supplier",
            {"category_slug": "bench-1", "supplier": supplier, "sort": "price", "offset": 0},
        ),
        ("API, no filter", {"category_slug": None, "supplier": None, "sort": "price", "offset": 0}),
    ]
    print(
        "\nBaseline: the old per-request offer subqueries (list + count only, bare queries), "
        f"{args.baseline_repeats} runs each,\nagainst the whole new request and its database time.\n"
    )
    print(f"{'':<44} {'old list':>9} {'new page: server':>17} {'database':>17}")
    print(f"{'case':<44} {'p50':>9} {'p50':>8} {'ratio':>8} {'p50':>8} {'ratio':>8}")
    for label, kwargs in baselines:
        if label not in results:
            continue
        old_product_list(**kwargs)  # warm
        times = []
        for _ in range(args.baseline_repeats):
            started = time.perf_counter()
            old_product_list(**kwargs)
            times.append((time.perf_counter() - started) * 1000)
        old = statistics.median(times)
        server, db = results[label]
        print(
            f"{label:<44} {old:>9.1f} {server:>8.1f} {old / server:>7.1f}x {db:>8.1f} {old / db:>7.1f}x",
            flush=True,
        )


if __name__ == "__main__":
    main()
