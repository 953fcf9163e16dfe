"""Search benchmark: 200,000 products and 1,000,000 offers on PostgreSQL, 200 realistic queries.

    python bench/search_bench.py                 # generate (first run), index, measure
    python bench/search_bench.py --regenerate    # rebuild the data and the index
    python bench/search_bench.py --reindex       # rebuild the index only
    python bench/search_bench.py --after-compaction  # then writes, a compaction, the first pass after it
    python bench/search_bench.py --smoke         # 2,000 products, seconds (make bench-smoke)

Data goes into its own database (--database-url or BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/mp_search_bench; --smoke uses mp_search_bench_smoke),
generated in SQL (bench/search_data.sql), then indexed with `search_reindex`'s service. Each query runs
what the results page runs: the identifier lookup, then the search with total and all five facets.
The baseline is the naive ORM: `icontains` on name, description, manufacturer and codes for every word,
a count, and category and supplier facets counted by joining the matches to their offers.
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
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/mp_search_bench"
N_PRODUCTS = 200_000
N_SUPPLIERS = 300
# --smoke: the same data and queries at a scale that runs in seconds, so the bench cannot rot unnoticed.
SMOKE_PRODUCTS = 2_000
SMOKE_SUPPLIERS = 30
SMOKE_URL = "postgres://postgres@127.0.0.1:5432/mp_search_bench_smoke"


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")
    os.environ.pop("ELASTICSEARCH_URL", None)
    os.environ["SEARCH_BACKEND"] = "database"
    import django

    django.setup()


def ensure_database(url: str) -> None:
    from bench.databases import create_database

    create_database(url, drop=False)


def generate() -> None:
    from django.db import connection

    sql = (ROOT / "bench" / "search_data.sql").read_text()
    sql = sql.replace(":n_products", str(N_PRODUCTS)).replace(":n_suppliers", str(N_SUPPLIERS))
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql)
    print(
        f"Generated {N_PRODUCTS:,} products and {5 * N_PRODUCTS:,} offers "
        f"in {time.perf_counter() - started:.0f}s."
    )


def reindex() -> None:
    from django.db import connection

    from search import services

    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if done % 20_000 < 1000 or done == total:
            print(f"  indexed {done:,}/{total:,}", flush=True)

    written = services.rebuild_index(object_type="product", batch_size=2000, progress=progress)
    with connection.cursor() as cursor:
        for table in ("search_searchdocument", "search_searchterm", "search_searchcode"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    print(f"Indexed {written:,} products in {time.perf_counter() - started:.0f}s.")


# The fixed query set: what NHS buyers type, from the bench vocabulary (bench/search_data.sql).
NAMES = [
    "nitrile gloves medium",
    "nitrile examination glove large",
    "vinyl glove",
    "latex surgical glove sterile",
    "20ml syringe luer lock",
    "syringe luer slip 5ml",
    "hypodermic needle 21G",
    "transit wheelchair",
    "walking frame",
    "rollator with seat",
    "walking stick adjustable",
    "commode chair",
    "mobile hoist",
    "hoist sling",
    "incontinence pad",
    "continence brief",
    "bed pad",
    "foam wound dressing",
    "hydrocolloid dressing",
    "crepe bandage",
    "adhesive plaster",
    "foley catheter",
    "urine drainage bag",
    "type iir mask",
    "ffp3 respirator",
    "disposable apron",
    "isolation gown",
    "sharps container",
    "clinical waste bag",
    "blood pressure cuff",
    "pulse oximeter",
    "thermometer probe cover",
    "alcohol wipe",
    "hand sanitiser gel",
    "cotton wool ball",
    "gauze swab",
    "specimen container",
    "tongue depressor",
    "storage box",
    "pill organiser",
    "raised toilet seat",
    "bath board",
    "pressure relieving cushion",
    "overbed table",
    "reacher grabber",
    "kidney dish",
    "oxygen mask",
    "nasal cannula",
    "nebuliser mask",
    "suction catheter",
    "yankauer",
    "endotracheal tube",
    "laryngoscope blade",
    "iv cannula",
    "infusion giving set",
    "extension set luer lock",
    "three way tap",
    "blood collection tube edta",
    "tourniquet latex free",
    "safety lancet",
    "glucose test strip",
    "urine test strip",
    "pregnancy test",
    "ecg electrode",
    "defibrillator pad",
    "stethoscope",
    "otoscope speculum",
    "couch roll",
    "pillow case wipe clean",
    "mattress cover",
    "alternating air mattress",
    "slide sheet",
    "transfer board",
    "grab rail",
    "shower chair",
    "perching stool",
    "bed lever",
    "profiling bed",
    "elbow crutch",
    "ferrule",
    "stoma bag",
    "adhesive remover spray",
    "barrier cream",
    "emollient",
    "wound closure strip",
    "skin stapler",
    "absorbable suture",
    "scalpel",
    "stitch cutter",
    "dressing pack",
    "sodium chloride irrigation",
    "film dressing",
    "alginate dressing",
    "tubular bandage",
    "cohesive bandage",
    "triangular bandage",
    "eye pad",
    "instant ice pack",
    "heat pack",
    "vomit bag",
    "bedpan",
    "urinal bottle",
    "denture pot",
    "identification wristband",
    "chlorine wipe",
    "detergent wipe",
    "spill kit",
    "paper towel",
    "microfibre cloth",
    "mop head",
    "medicine cup",
    "oral syringe enfit",
    "nasogastric feeding tube",
    "pill crusher",
    "tablet cutter",
    "fridge thermometer",
    "hearing aid battery 312",
    "illuminated magnifier",
]
SYNONYMS = [
    "TED stockings",
    "ted stockings thigh length",
    "anti embolism stockings",
    "dvt stockings",
    "compression stockings knee length",
    "zimmer frame",
    "zimmer",
    "walker",
    "self propelled wheelchair",
    "manual wheelchair",
    "continence pads",
    "incontinence products",
    "patient lifter",
    "toilet chair",
    "exam gloves",
    "sharps bin",
    "surgical mask",
    "hand rub",
    "sats probe",
    "bp cuff",
    "wheeled walker",
    "plasters",
    "swabs",
    "temperature probe",
    "pressure cushion",
]
TYPOS = [
    "wheelchiar",
    "wheelchar",
    "stokings",
    "nitril gloves",
    "glvoes",
    "syrnge",
    "commod",
    "catheterr",
    "incontinance pad",
    "bandge",
    "dresing",
    "oximeter puls",
    "stethoscop",
    "rollater",
    "sanitiser gell",
    "thermometr",
    "respirater",
    "cannnula",
    "matress cover",
    "electorde",
]
COMMON = ["gloves", "large", "sterile", "box", "dressing", "single use", "mask", "bandage"]
FACETED = [
    ("gloves", {"stock": ["in_stock"]}),
    ("syringe", {"price_band": ["under-1"]}),
    ("wheelchair", {"patient_eligible": ["true"]}),
    ("dressing", {"stock": ["in_stock"], "price_band": ["1-5"]}),
    ("stocking", {"category": ["1"]}),
    ("catheter", {"supplier": ["1", "2", "3"]}),
    ("bandage", {"category": ["5"]}),
    ("mask", {"price_band": ["5-20", "20-100"]}),
    ("hoist", {"stock": ["in_stock", "low_stock"]}),
    ("wipe", {"patient_eligible": ["true"], "stock": ["in_stock"]}),
    ("", {"category": ["3"], "patient_eligible": ["true"]}),
    ("", {"category": ["2"], "price_band": ["under-1"]}),
]


def query_set() -> list[tuple[str, str, dict]]:
    """200 queries: (kind, text, filters)."""
    from catalogue.models import Offer, Product

    codes: list[str] = []
    for product_id in range(1_357, N_PRODUCTS, 14_003)[:12]:
        product = (
            Product.objects.filter(id=product_id).values("gtin", "npc", "manufacturer_part_number").first()
        )
        if product:
            codes.append(product["gtin"][1:])  # typed as GTIN-13
            codes.append(product["npc"] or product["manufacturer_part_number"])
    codes += list(
        Offer.objects.filter(product_id__in=range(5_001, 200_000, 25_000)).values_list(
            "supplier_sku", flat=True
        )[:8]
    )
    out: list[tuple[str, str, dict]] = []
    out += [("name", q, {}) for q in NAMES]
    out += [("synonym", q, {}) for q in SYNONYMS]
    out += [("typo", q, {}) for q in TYPOS]
    out += [("common word", q, {}) for q in COMMON]
    out += [("with filters", q, f) for q, f in FACETED]
    out += [("code", q, {}) for q in codes]
    return out[:200]


def engine_call(text: str, filters: dict) -> int:
    """What the results page does: identifier first, then the search with total and facets."""
    from search import selectors
    from search.types import SearchQuery

    if text and not filters and selectors.find_identifier(text):
        return 1
    return selectors.search(SearchQuery(text=text, filters=filters, limit=20)).total


def baseline_call(text: str, filters: dict) -> int:
    """The naive ORM: icontains per word, count, category and supplier facets joined through offers."""
    from django.db.models import Count, Q

    from catalogue.models import Offer, OfferStatus, Product

    products = Product.objects.filter(is_active=True, offers__status=OfferStatus.LIVE).distinct()
    for word in text.split():
        products = products.filter(
            Q(name__icontains=word)
            | Q(description__icontains=word)
            | Q(manufacturer__icontains=word)
            | Q(gtin__icontains=word)
            | Q(npc__icontains=word)
            | Q(offers__supplier_sku__icontains=word)
        )
    if "category" in filters:
        products = products.filter(category__parent__parent_id__in=filters["category"])
    if "supplier" in filters:
        products = products.filter(offers__supplier_id__in=filters["supplier"])
    ids = products.values("id")
    list(products.order_by("name")[:20])
    total = products.count()
    list(Product.objects.filter(id__in=ids).values("category").annotate(n=Count("id")))
    list(
        Offer.objects.filter(product_id__in=ids, status=OfferStatus.LIVE)
        .values("supplier")
        .annotate(n=Count("product", distinct=True))
    )
    return total


def compared_backend(checkout: str):
    """The PostgreSQL search backend of another checkout (main's, say), loaded beside this one. It runs
    with this checkout's base classes and tables, so it must share their interface."""
    import importlib.util

    path = Path(checkout) / "search" / "backends" / "database" / "postgres.py"
    spec = importlib.util.spec_from_file_location("compared_postgres_backend", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PostgresBackend()


def compare(queries, passes: int, checkout: str) -> None:
    """Both backends on each query in turn (alternating which goes first), so load on a shared
    machine falls on both alike; identifiers are left out (the same lookup on both)."""
    from search import registry, selectors
    from search.backends import get_backend
    from search.types import SearchQuery

    document_type = registry.get("product")
    backends = [("this checkout", get_backend()), (f"compared ({checkout})", compared_backend(checkout))]
    searches = [(k, t, f) for k, t, f in queries if not (t and not f and selectors.find_identifier(t))]
    timings: dict[str, dict[str, list[float]]] = {name: {} for name, _ in backends}
    for n in range(passes + 1):  # the first pass warms both up
        for kind, text, filters in searches:
            query = SearchQuery(text=text, filters=filters, limit=20)
            for name, backend in backends if n % 2 else reversed(backends):
                started = time.perf_counter()
                backend.search(document_type, query)
                if n:
                    timings[name].setdefault(kind, []).append((time.perf_counter() - started) * 1000)
    print(
        f"\nInterleaved comparison, {passes} passes of {len(searches)} searches after one warming pass"
        " (identifiers left out):"
    )
    for name, by_kind in timings.items():
        every = [t for values in by_kind.values() for t in values]
        print(f"  {name}: p50 {statistics.median(every):6.1f} ms   p95 {percentile(every, 95):6.1f} ms")
        for kind, values in by_kind.items():
            print(
                f"    {kind:13} p50 {statistics.median(values):6.1f} ms  p95 {percentile(values, 95):6.1f} ms"
            )


def write_and_compact(queries) -> None:
    """Writes between compactions, then the compaction the reconcile beat runs: the best documents of
    the broad queries and 500 others reindexed through the search service (their rows superseded and
    written again), 50 of them deleted from the index (the reconcile puts them back), then
    `search.services.reconcile_index`, which repairs the drift and compacts."""
    import random

    from search import selectors, services
    from search.backends import get_backend
    from search.models import SearchDocument
    from search.types import SearchQuery

    broad = [text for kind, text, _ in queries if kind == "common word"]
    best = {h.object_id for text in broad for h in selectors.search(SearchQuery(text=text, limit=20)).hits}
    every = sorted(SearchDocument.objects.filter(object_type="product").values_list("object_id", flat=True))
    rng = random.Random(11)
    others = rng.sample(every, min(500, len(every) // 4))
    written = sorted(best | set(others))
    started = time.perf_counter()
    services.index_documents(object_type="product", object_ids=written)
    services.delete_documents(object_type="product", object_ids=rng.sample(written, 50))
    wrote = time.perf_counter() - started
    # The compaction is timed apart from the reconcile's comparison of every product's version.
    backend_class = type(get_backend())
    compact = backend_class.compact
    compacted: list[float] = []

    def timed_compact(backend, document_type) -> None:
        started = time.perf_counter()
        compact(backend, document_type)
        compacted.append(time.perf_counter() - started)

    backend_class.compact = timed_compact
    started = time.perf_counter()
    try:
        services.reconcile_index(object_type="product", expected=True)
    finally:
        backend_class.compact = compact
    print(
        f"\nWrote {len(written):,} documents ({len(best)} of them among the best 20 of the common words)"
        f" and deleted 50 in {wrote:.1f}s; the reconcile took {time.perf_counter() - started:.1f}s,"
        f" of which the compaction {sum(compacted):.1f}s."
    )


def print_pass(title: str, timings: list[float], by_kind: dict[str, list[float]]) -> None:
    print(f"\n{title}:")
    print(
        f"  p50 {statistics.median(timings):6.1f} ms   p95 {percentile(timings, 95):6.1f} ms"
        f"   max {max(timings):6.1f} ms"
    )
    for kind, values in by_kind.items():
        print(
            f"  {kind:13} n={len(values):3}  p50 {statistics.median(values):6.1f} ms"
            f"  p95 {percentile(values, 95):6.1f} ms  max {max(values):6.1f} ms"
        )


def empty_result_cache() -> None:
    """Forget the cached broad results (as a rebuild does, or a compaction for the searches not made
    since the last one), so the next pass starts cold."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM search_resultcache")


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def measure(
    call, queries, passes: int
) -> tuple[list[float], dict[str, list[float]], list[tuple[float, str]]]:
    timings: list[float] = []
    by_kind: dict[str, list[float]] = {}
    slowest: list[tuple[float, str]] = []
    for _ in range(passes):
        for kind, text, filters in queries:
            started = time.perf_counter()
            call(text, filters)
            elapsed = (time.perf_counter() - started) * 1000
            timings.append(elapsed)
            by_kind.setdefault(kind, []).append(elapsed)
            slowest.append((elapsed, f"{text!r} {filters or ''}"))
    return timings, by_kind, sorted(slowest, reverse=True)[:8]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--reindex", action="store_true")
    parser.add_argument("--passes", type=int, default=3, help="Measured passes over the 200 queries.")
    parser.add_argument("--baseline-passes", type=int, default=1)
    parser.add_argument(
        "--baseline-queries",
        type=int,
        default=200,
        help="How many of the 200 queries the slow baseline runs.",
    )
    parser.add_argument(
        "--database-url", help=f"default: BENCH_DATABASE_URL, else {DEFAULT_URL} ({SMOKE_URL} with --smoke)"
    )
    parser.add_argument(
        "--compare-with",
        metavar="CHECKOUT",
        help="Also time another checkout's PostgreSQL backend (e.g. main's) on the same data, "
        "query by query in turn with this one's, then stop.",
    )
    parser.add_argument(
        "--without-result-cache",
        action="store_true",
        help="Search every broad query live, as before the result cache (search_resultcache).",
    )
    parser.add_argument(
        "--after-compaction",
        action="store_true",
        help="After the measured passes, write documents, compact through the reconcile service and "
        "time the first pass after the compaction, then one more (always on with --smoke).",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help=f"{SMOKE_PRODUCTS:,} products, one pass, a 10-query baseline; fails if searches find nothing",
    )
    args = parser.parse_args()
    global N_PRODUCTS, N_SUPPLIERS
    if args.smoke:
        N_PRODUCTS, N_SUPPLIERS = SMOKE_PRODUCTS, SMOKE_SUPPLIERS
        args.passes, args.baseline_queries, args.baseline_passes = 1, 10, 1
        args.after_compaction = True
    url = args.database_url or (
        SMOKE_URL if args.smoke else os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    )
    ensure_database(url)
    setup_django(url)
    from django.core.management import call_command
    from django.db import connection

    from catalogue.models import Product
    from search import registry
    from search.backends import get_backend
    from search.models import SearchDocument

    call_command("migrate", verbosity=0)
    if args.regenerate or Product.objects.count() != N_PRODUCTS:
        generate()
        args.reindex = True
    if args.reindex or not SearchDocument.objects.exists():
        reindex()
    # Documents written since the facet bitmaps were built (or by an older version) are folded in, as
    # the reconcile beat task does; a no-op when there are none.
    started = time.perf_counter()
    get_backend().compact(registry.get("product"))
    print(f"Facet bitmaps up to date ({time.perf_counter() - started:.1f}s).")

    queries = query_set()
    print(f"\n{len(queries)} queries; {SearchDocument.objects.count():,} products indexed.")
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        print(
            cursor.fetchone()[0].split(",")[0],
            "| load average:",
            " ".join(f"{x:.1f}" for x in os.getloadavg()),
        )

    if args.compare_with:
        empty_result_cache()
        compare(queries, args.passes, args.compare_with)
        return
    if args.without_result_cache:
        from search.backends.database import postgres

        postgres.CACHE_TOP = 0  # no search is cacheable: every one reads and ranks its matches
    # The first pass with nothing cached: each broad search is answered live and its result cached.
    empty_result_cache()
    cold, cold_by_kind, _ = measure(engine_call, queries, 1)
    print_pass(
        "First pass with nothing cached (each broad search read live once"
        f"{'; result cache off' if args.without_result_cache else ''})",
        cold,
        cold_by_kind,
    )
    if not args.without_result_cache:
        # As after a rebuild or a reconcile: the broadest words' results made ahead
        # (`SearchBackend.warm`), then the first pass of every query.
        empty_result_cache()
        started = time.perf_counter()
        warmed = get_backend().warm(registry.get("product"))
        print(
            f"\nWarmed the {len(warmed)} broadest words in {time.perf_counter() - started:.1f}s "
            f"({', '.join(warmed[:8])}{', ...' if len(warmed) > 8 else ''})."
        )
        common = [text for kind, text, _ in queries if kind == "common word"]
        among = ", ".join(word for word in common if word in warmed) or "none"
        print(f"  of the query set's {len(common)} common words: {among}")
        warm_first, warm_first_by_kind, _ = measure(engine_call, queries, 1)
        print_pass("First pass after the warm-up (nothing else cached)", warm_first, warm_first_by_kind)
    timings, by_kind, slowest = measure(engine_call, queries, args.passes)
    p50, p95 = statistics.median(timings), percentile(timings, 95)
    print(f"\nSearch (database backend, PostgreSQL FTS), {args.passes} passes, exact facets included:")
    print(
        f"  p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   max {max(timings):6.1f} ms"
        "   (target p50 <= 15, p95 <= 50)"
    )
    for kind, values in by_kind.items():
        n = len(values) // args.passes
        print(
            f"  {kind:13} n={n:3}  p50 {statistics.median(values):6.1f} ms"
            f"  p95 {percentile(values, 95):6.1f} ms"
        )
    print("  slowest:", "; ".join(f"{ms:.0f} ms {text}" for ms, text in slowest[:5]))
    if args.after_compaction:
        # The searches above were made since the last compaction: the compaction carries them over.
        write_and_compact(queries)
        first, first_by_kind, first_slowest = measure(engine_call, queries, 1)
        print_pass("First pass after the compaction", first, first_by_kind)
        print("  slowest:", "; ".join(f"{ms:.0f} ms {text}" for ms, text in first_slowest[:5]))
        again, again_by_kind, _ = measure(engine_call, queries, 1)
        print_pass("The pass after it", again, again_by_kind)
    names = [text for kind, text, _ in queries if kind == "name"]
    found = sum(1 for text in names if engine_call(text, {}) > 0)
    print(f"  product-name queries with at least one result: {found} of {len(names)}")
    if found < len(names) // 2:
        raise SystemExit("most product-name queries found nothing: the data or the index is broken")

    sample = queries[:: max(1, round(len(queries) / max(1, args.baseline_queries)))]
    print(
        f"\nBaseline over {len(sample)} of the queries (every {len(queries) // len(sample)}th)...", flush=True
    )
    measure(baseline_call, sample[:5], 1)
    base, _, _ = measure(baseline_call, sample, args.baseline_passes)
    b50, b95 = statistics.median(base), percentile(base, 95)
    print("\nBaseline (ORM icontains, count, category and supplier facets through offers):")
    print(f"  p50 {b50:6.1f} ms   p95 {b95:6.1f} ms   max {max(base):6.1f} ms")
    print(f"\nRatio baseline/search: p50 {b50 / p50:.1f}x faster, p95 {b95 / p95:.1f}x faster")


if __name__ == "__main__":
    main()
