"""CPU per page, in process: what one warm request of each buyer page costs this Python process.

    python bench/page_cpu.py                      # 60 timed requests per page after 5 warm-up ones
    python bench/page_cpu.py --requests 200       # more
    python bench/page_cpu.py --smoke              # 5 per page (make bench-smoke)
    python bench/page_cpu.py --top 25             # and each page's 25 most expensive functions
    python bench/page_cpu.py --pages search,api   # some pages

On a machine shared with other work, requests/s (bench/load.py) move with everybody's load; the CPU
time this process spends on a request and the Python function calls it makes (cProfile's count) move
much less, so this is the bench to iterate on. 200 requests/s on two cores, with PostgreSQL and the
load generator on the same cores, leaves about 5 ms of CPU per page.

It builds its own database as bench/load.py does (default mp_page_cpu, --database-url): a copy of
the migrated template, seeded by `seed_demo` in a child process; collects the static files as
load.py does (production's manifest storage, so `{% static %}` costs what it costs there). Then, in
this process, with the production settings (DEBUG off, PostgreSQL, Redis as the cache at --redis-url,
emptied first), the Django test client signed in as the Leeds demo buyer (a trust buyer; the API with
its token) requests each page: the largest category, a product with the most offers, a search
(`?q=gloves`), `GET /api/v1/products/` and the basket. Per page: median `time.process_time()` and
wall time over the timed requests (warm: the shared cache filled by the warm-up), the queries of one
warm request, Python function calls of one warm request under cProfile, and the ratio of the CPU
median to the baseline measured on 6 December 2026 (bench/README.md, "CPU per request, in process").
`--cold-buyer`: nothing kept per buyer (every request prices and renders its rows again, the shared
unpriced entries warm), what a trust's first view of a page costs.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/mp_page_cpu"
PAGES = ("category", "product", "search", "api", "basket")
# Median CPU ms per warm request, 6 December 2026 (bench/README.md, "CPU per request, in process").
BASELINE_MS = {"category": 8.3, "product": 10.9, "search": 20.3, "api": 21.0}
TARGET_MS = 5.0
BUYER = "buyer@leeds.demo.example"


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("PAGE_CPU_DATABASE_URL", DEFAULT_URL))
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("PAGE_CPU_REDIS_URL", "redis://127.0.0.1:6379/15"),
        help="the cache; a database of its own, emptied before and after",
    )
    parser.add_argument("--requests", type=int, default=60, help="timed requests per page (default 60)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests first (default 5)")
    parser.add_argument("--pages", default=",".join(PAGES), help=f"which pages, of {','.join(PAGES)}")
    parser.add_argument("--top", type=int, default=0, help="print each page's N costliest functions")
    parser.add_argument("--fresh", action="store_true", help="drop and rebuild the database")
    parser.add_argument(
        "--cold-buyer",
        action="store_true",
        help="nothing kept per buyer (catalogue.caching.buyer_cached computes every time): what a "
        "trust's first view of a page costs, the shared entries warm",
    )
    parser.add_argument("--smoke", action="store_true", help="5 timed requests per page after 2")
    args = parser.parse_args()
    if args.smoke:
        args.requests, args.warmup = 5, 2
    args.pages = [p for p in args.pages.split(",") if p]
    if unknown := set(args.pages) - set(PAGES):
        parser.error(f"unknown pages: {', '.join(sorted(unknown))}")
    return args


def _prepare(url: str, *, fresh: bool) -> None:
    """A copy of the migrated template, seeded with the demo in a child process (its own settings:
    eager tasks, local-memory cache), once: a seeded database is kept until its migrations change."""
    import psycopg

    from bench.databases import create_database

    created = create_database(url, drop=fresh)
    name = url.rsplit("/", 1)[1]
    if not created:
        with psycopg.connect(url) as conn:
            seeded = conn.execute("SELECT 1 FROM organisations_user WHERE email = %s", [BUYER]).fetchone()
        if seeded:
            return
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REDIS_URL", "CELERY_BROKER_URL", "ELASTICSEARCH_URL")
    }
    env.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="marketplace.settings", LOG_LEVEL="WARNING")
    started = time.perf_counter()
    for command in (["migrate", "--no-input", "--verbosity", "0"], ["seed_demo"]):
        subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
        )
    print(f"Database {name} migrated and seeded in {time.perf_counter() - started:.0f} s.", flush=True)


def _production_env(args: argparse.Namespace, static_root: Path) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="marketplace.settings",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="testserver",
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        STATIC_ROOT=str(static_root),
        LOG_LEVEL="WARNING",
    )
    for key in ("CELERY_BROKER_URL", "ELASTICSEARCH_URL", "MARKETPLACE_TESTING"):
        os.environ.pop(key, None)


def _collectstatic(static_root: Path) -> None:
    """bench/load.py's collection (manifest storage, only when the sources changed), in a child."""
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "load.py"), "--collect-static"],
        cwd=ROOT,
        env=dict(os.environ),
        check=True,
    )


def _targets() -> dict[str, tuple[str, dict]]:
    """page -> (url, query): the largest category, the product with the most buyable offers."""
    from django.db.models import Count, Q
    from django.urls import reverse

    from catalogue.models import Category, Product
    from catalogue.selectors import buyable_offer_q

    products = Product.objects.annotate(
        n=Count("offers", filter=Q(buyable_offer_q(prefix="offers__")))
    ).filter(n__gt=0)
    product = products.order_by("-n", "id").first()
    category = Category.objects.annotate(n=Count("products")).filter(n__gt=0).order_by("-n", "id").first()
    return {
        "category": (reverse("catalogue:category-detail", kwargs={"slug": category.slug}), {}),
        "product": (reverse("catalogue:product-detail", kwargs={"slug": product.slug}), {}),
        "search": ("/search/", {"q": "gloves"}),
        "api": ("/api/v1/products/", {"page": "1"}),
        "basket": (reverse("purchasing:basket") if _has_url("purchasing:basket") else "", {}),
    }


def _has_url(name: str) -> bool:
    from django.urls import NoReverseMatch, reverse

    try:
        reverse(name)
    except NoReverseMatch:
        return False
    return True


def _clients():
    from django.test import Client

    from organisations.demo import DEMO_PASSWORD
    from organisations.models import User

    page = Client()
    page.force_login(User.objects.get(email=BUYER))
    api = Client()
    answer = Client().post(
        "/api/v1/auth/token/",
        {"email": BUYER, "password": DEMO_PASSWORD},
        content_type="application/json",
        secure=True,
    )
    if answer.status_code != 200:
        raise SystemExit(f"the API token was refused: {answer.status_code} {answer.content[:200]!r}")
    api.defaults["HTTP_AUTHORIZATION"] = f"Token {answer.json()['token']}"
    return page, api


def _measure(get, args: argparse.Namespace) -> dict:
    from django.db import connection

    for _ in range(args.warmup):
        response = get()
        if response.status_code != 200:
            raise SystemExit(f"answered {response.status_code}")
    cpu, wall = [], []
    for _ in range(args.requests):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = get()
        cpu.append((time.process_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"answered {response.status_code}")
    statements: list[str] = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        get()
    # Calls per request from a few profiled requests (the same each time on a warm page); the costliest
    # functions (--top) over them all, which evens out the machine's load.
    profiled = min(10, args.requests)
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(profiled):
        get()
    profile.disable()
    stats = pstats.Stats(profile)
    top = ""
    if args.top:
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(args.top)
        top = out.getvalue()
    return {
        "cpu": statistics.median(cpu),
        "wall": statistics.median(wall),
        "queries": len(statements),
        "sql": statements,
        "calls": round(stats.total_calls / profiled),  # type: ignore[attr-defined]
        "top": top,
    }


def main() -> None:
    args = _parse()
    _prepare(args.database_url, fresh=args.fresh)
    static_root = Path(tempfile.gettempdir()) / "load_bench_static" / args.database_url.rsplit("/", 1)[1]
    _production_env(args, static_root)
    _collectstatic(static_root)
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()
    import django

    django.setup()
    from django.conf import settings

    assert not settings.DEBUG and "redis" in settings.CACHES["default"]["BACKEND"].lower()
    if args.cold_buyer:
        from catalogue import strategy

        # A strategy that cannot say when its prices change: pages keep nothing they priced.
        strategy.Strategy.shared_namespaces = lambda self: None  # type: ignore[method-assign]
    page_client, api_client = _clients()
    targets = _targets()
    # As a gunicorn worker forked from the preloading master (infra/gunicorn.conf.py, `when_ready`).
    from marketplace.collector import freeze_long_lived

    freeze_long_lived()
    print(
        f"{args.requests} timed requests per page after {args.warmup} warm-up ones, signed in as {BUYER}"
        f"{', nothing kept per buyer' if args.cold_buyer else ''}; "
        f"loadavg {' '.join(f'{x:.1f}' for x in os.getloadavg())}",
        flush=True,
    )
    results = {}
    try:
        for page in args.pages:
            url, query = targets[page]
            if not url:
                print(f"  {page}: no such page here, skipped")
                continue
            client = api_client if page == "api" else page_client

            def get(client=client, url=url, query=query):
                return client.get(url, query, secure=True)

            results[page] = _measure(get, args)
            print(
                f"  {page:9} {url}{'?' if query else ''}{'&'.join(f'{k}={v}' for k, v in query.items())}",
                flush=True,
            )
    finally:
        redis.Redis.from_url(args.redis_url).flushdb()
    print(f"\n{'page':9} {'CPU ms':>7} {'wall ms':>8} {'queries':>8} {'calls':>8} {'vs base':>8}")
    for page, r in results.items():
        base = BASELINE_MS.get(page)
        ratio = f"{r['cpu'] / base:.2f}x" if base else "-"
        print(f"{page:9} {r['cpu']:7.1f} {r['wall']:8.1f} {r['queries']:8} {r['calls']:8,} {ratio:>8}")
    print(
        f"(baseline CPU ms: {', '.join(f'{k} {v}' for k, v in BASELINE_MS.items())}; about {TARGET_MS} ms "
        "per page is what 200 requests/s on 2 cores needs)"
    )
    for page, r in results.items():
        if args.top:
            print(f"\n== {page}: queries\n" + "\n".join(f"  {sql[:160]}" for sql in r["sql"]))
            print(f"== {page}: costliest functions\n{r['top']}")


if __name__ == "__main__":
    main()
