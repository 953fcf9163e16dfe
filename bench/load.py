"""Load benchmark: gunicorn with the production settings, signed-in demo users, locust, per page.

    python bench/load.py                          # demo catalogue, 16 clients, 30 s per page
    python bench/load.py --users 16 --seconds 30 --catalogue demo
    python bench/load.py --catalogue bench        # the search benchmark's 200,000 products
    python bench/load.py --smoke                  # 4 clients, 3 s per page, 2 workers (make bench-smoke)

It builds its own PostgreSQL database (default mp_load_bench; --database-url), migrated and seeded
with `seed_demo`, collects the static files into its own directory (whitenoise serves them from the
manifest with DEBUG off), and starts gunicorn with infra/gunicorn.conf.py on the loopback only, with
DEBUG off, its own SECRET_KEY, and its own Redis database (default redis://127.0.0.1:6379/15,
--redis-url; emptied before and after). It signs the trust demo users in through the sign-in page
(CSRF token and all, so django-axes sees real sign-ins) and obtains their API tokens from
/api/v1/auth/token/. Then, for each page in turn (category, a category filtered by a price bound,
product, search, the products API),
locust's clients request that page as fast as it answers for --seconds, and it prints requests/s,
p50, p95, p99 and errors per page. Everything it started is stopped at the end, whatever happens.
It exits non-zero if any request failed.

Targets (issue 11): at least 200 requests/s on the product, category and search pages of the demo
catalogue, at least 100 on the bench catalogue, zero errors.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import math
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VENV_BIN = Path(sys.executable).parent
# "filtered": a category page with a price bound (and sometimes "in stock"), whose supplier facet is
# counted from the offers, on a second connection (`common.concurrent_reads`).
PAGES = ("category", "filtered", "product", "search", "api")
TARGETS = {"demo": 200, "bench": 100}  # requests/s on the product, category and search pages
DEFAULT_URLS = {
    "demo": "postgres://postgres@127.0.0.1:5432/mp_load_bench",
    "bench": "postgres://postgres@127.0.0.1:5432/mp_load_bench_big",
}
SEARCH_BENCH_URL = "postgres://postgres@127.0.0.1:5432/mp_search_bench"


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--seconds", type=int, default=30, help="seconds of load per page (default 30)")
    parser.add_argument("--catalogue", choices=("demo", "bench"), default="demo")
    parser.add_argument("--database-url", help="default mp_load_bench (demo) or mp_load_bench_big (bench)")
    parser.add_argument(
        "--search-bench-url",
        default=os.environ.get("BENCH_DATABASE_URL", SEARCH_BENCH_URL),
        help="--catalogue bench: the search benchmark's database to copy (built by bench/search_bench.py)",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("LOAD_BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"),
        help="the server's cache and broker; a database of its own, emptied before and after",
    )
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: infra/gunicorn.conf.py's)")
    parser.add_argument("--fresh", action="store_true", help="drop and rebuild the bench database")
    parser.add_argument("--pages", default=",".join(PAGES), help=f"which pages, of {','.join(PAGES)}")
    parser.add_argument("--smoke", action="store_true", help="4 clients, 3 s per page, 2 workers")
    parser.add_argument("--collect-static", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.smoke:
        args.users, args.seconds, args.workers = 4, 3, args.workers or 2
    args.database_url = args.database_url or DEFAULT_URLS[args.catalogue]
    args.pages = [p for p in args.pages.split(",") if p]
    if unknown := set(args.pages) - set(PAGES):
        parser.error(f"unknown pages: {', '.join(sorted(unknown))}")
    return args


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_flush(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def _copy_search_bench(source: str, target: str) -> None:
    """The bench catalogue: a copy of the search benchmark's database, which is left as it was."""
    import psycopg
    from psycopg import sql

    base, name = target.rsplit("/", 1)
    source_name = source.rsplit("/", 1)[1]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [source_name]).fetchone():
            raise SystemExit(
                f"--catalogue bench copies {source_name}, which does not exist: build it first with "
                "`python bench/search_bench.py` (its data step takes a few minutes)."
            )
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        print(f"Copying {source_name} into {name}...", flush=True)
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(source_name)
            )
        )


def _analyze() -> None:
    """The planner's statistics for tables a bulk copy or build filled (autovacuum may be off, as on
    this machine): without them the seed's and the lists' plans read whole tables."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _prepare(args: argparse.Namespace) -> dict:
    """Database migrated and seeded; what the clients will ask for (no connection is left open)."""
    from bench.databases import create_database

    base, name = args.database_url.rsplit("/", 1)
    if args.catalogue == "bench":
        import psycopg

        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if args.fresh or not exists:
            _copy_search_bench(args.search_bench_url, args.database_url)
    else:
        create_database(args.database_url, drop=args.fresh)

    # Seeding runs in this process with the embedded defaults (eager Celery, so the demo products are
    # indexed for search here and now; the local-memory cache), on the bench's database.
    os.environ["DATABASE_URL"] = args.database_url
    for key in ("REDIS_URL", "CELERY_BROKER_URL", "ELASTICSEARCH_URL"):
        os.environ.pop(key, None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "marketplace.settings"
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from catalogue.models import Category, Product
    from catalogue.selectors import buyable_offer_q
    from organisations.demo import DEMO_PASSWORD, MEMBERS
    from organisations.models import Role

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    if args.catalogue == "bench":
        _analyze()
    with open(os.devnull, "w") as quiet:
        if args.catalogue == "bench":
            # The benchmark's catalogue as it is, plus the demo organisations and their people.
            from django.db import transaction

            from organisations import demo

            with transaction.atomic():
                demo.seed(quiet)
        else:
            call_command("seed_demo", stdout=quiet)
    print(f"Database {name} migrated and seeded in {time.perf_counter() - started:.0f} s.", flush=True)

    trust_roles = {Role.BUYER, Role.APPROVER, Role.TRUST_ADMIN}
    emails = [email for email, _, role, _ in MEMBERS if role in trust_roles]
    products = Product.objects.filter(buyable_offer_q(prefix="offers__")).distinct()
    total = products.count()
    # The search benchmark's SQL writes products and offers only: the browse data every list reads
    # (kept by the catalogue's writes in production) is made here, once per copy, or the category
    # pages and the products API would list nothing, quickly.
    from catalogue.browse_data import product_browse_rebuild
    from catalogue.models import ProductBrowse

    listed = ProductBrowse.objects.filter(offer_count__gt=0).count()
    if listed != total:
        started = time.perf_counter()
        product_browse_rebuild()
        listed = ProductBrowse.objects.filter(offer_count__gt=0).count()
        print(
            f"Browse data built for {listed:,} products in {time.perf_counter() - started:.0f} s.", flush=True
        )
    if listed != total:
        raise SystemExit(
            f"{listed:,} products listed but {total:,} buyable: the browse data is not the catalogue's"
        )
    if args.catalogue == "bench":
        _analyze()
    # An even spread over the catalogue (ids are dense in both catalogues), not just its first rows.
    step = max(1, total // 2000)
    product_slugs = list(products.order_by("id").values_list("slug", flat=True)[::step][:2000])
    categories = list(Category.objects.values_list("slug", flat=True))
    names = products.order_by("id").values_list("name", flat=True)[::step][:400]
    words = sorted({w.lower() for n in names for w in re.findall(r"[A-Za-z]{4,}", n)})
    queries = [urllib.parse.quote_plus(w) for w in random.Random(11).sample(words, min(200, len(words)))]
    connections.close_all()
    if not (product_slugs and categories and queries):
        raise SystemExit(f"the {args.catalogue} catalogue has no products, categories or words to search")
    print(
        f"Catalogue: {total:,} buyable products; {len(categories)} categories, {len(product_slugs)} product "
        f"pages and {len(queries)} search words sampled; signing in {len(emails)} trust users.",
        flush=True,
    )
    return {
        "emails": emails,
        "password": DEMO_PASSWORD,
        "categories": categories,
        "products": product_slugs,
        "queries": queries,
        "api_pages": max(1, min(20, math.ceil(total / 50))),
    }


def _server_env(args: argparse.Namespace, static_root: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "ELASTICSEARCH_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="marketplace.settings",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        STATIC_ROOT=str(static_root),
        LOG_LEVEL="WARNING",
        PORT=str(port),
    )
    if args.workers:
        env["WEB_CONCURRENCY"] = str(args.workers)
    return env


def _collectstatic(env: dict[str, str], static_root: Path) -> None:
    """With DEBUG off whitenoise serves hashed names from the manifest; without it every page is a 500."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--collect-static"], cwd=ROOT, env=env, check=True
    )
    print(f"Static files in {static_root} ({time.perf_counter() - started:.0f} s).", flush=True)


def collect_static() -> None:
    """In a child process with the server's settings: collectstatic unless the sources are unchanged.

    The same hashed names and manifest as production's storage writes, without its gzip and brotli
    copies of every file (most of collectstatic's time here): the clients fetch no static files, and
    production's storage reads this manifest as its own.
    """
    import hashlib

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.staticfiles import finders
    from django.core.management import call_command
    from django.test import override_settings

    digest = hashlib.sha256()
    for finder in finders.get_finders():
        for path, storage in finder.list([]):
            stat = os.stat(storage.path(path))
            digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    wanted = digest.hexdigest()
    stamp = Path(settings.STATIC_ROOT) / ".bench-sources"
    if stamp.exists() and stamp.read_text() == wanted and (stamp.parent / "staticfiles.json").exists():
        return
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        call_command("collectstatic", interactive=False, clear=True, verbosity=0)
    stamp.write_text(wanted)


def _wait_until_up(port: int, server: subprocess.Popen, log: Path) -> None:
    import requests

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited ({server.returncode}):\n{log.read_text()[-3000:]}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.5)
    raise SystemExit(f"gunicorn did not answer /healthz in 90 s:\n{log.read_text()[-3000:]}")


def _sign_in(base: str, email: str, password: str) -> dict[str, str]:
    """Through the sign-in page as a browser does (CSRF cookie and token, then the form); and a token."""
    import requests

    https = {"X-Forwarded-Proto": "https"}
    page = requests.get(f"{base}/accounts/sign-in/", headers=https, timeout=30)
    page.raise_for_status()
    csrf_cookie = page.cookies.get("csrftoken")
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if not (csrf_cookie and match):
        raise SystemExit("the sign-in page gave no CSRF cookie or token")
    answer = requests.post(
        f"{base}/accounts/sign-in/",
        data={"username": email, "password": password, "csrfmiddlewaretoken": match.group(1)},
        headers={
            **https,
            "Cookie": f"csrftoken={csrf_cookie}",
            "Referer": f"https://{base.split('://', 1)[1]}/accounts/sign-in/",
        },
        allow_redirects=False,
        timeout=30,
    )
    session = answer.cookies.get("sessionid")
    if answer.status_code != 302 or not session:
        raise SystemExit(f"signing in {email} failed: HTTP {answer.status_code}")
    token = requests.post(
        f"{base}/api/v1/auth/token/",
        json={"email": email, "password": password},
        headers=https,
        timeout=30,
    )
    if token.status_code != 200:
        raise SystemExit(
            f"the API token for {email} was refused: HTTP {token.status_code} {token.text[:200]}"
        )
    new_csrf = answer.cookies.get("csrftoken") or csrf_cookie
    return {
        "email": email,
        "cookie": f"sessionid={session}; csrftoken={new_csrf}",
        "token": token.json()["token"],
    }


def _run_page(page: str, args: argparse.Namespace, base: str, plan_path: Path, workdir: Path) -> dict:
    prefix = workdir / page
    env = {**os.environ, "LOAD_BENCH_PLAN": str(plan_path)}
    command = [
        str(VENV_BIN / "locust"),
        "-f",
        str(ROOT / "bench" / "load_locustfile.py"),
        "--headless",
        "--host",
        base,
        "--users",
        str(args.users),
        "--spawn-rate",
        str(args.users),
        "--run-time",
        f"{args.seconds}s",
        # At the end each client finishes the request it has in flight (up to gunicorn's timeout), so
        # slow pages are not cut short and left out of the figures.
        "--stop-timeout",
        "60",
        "--tags",
        page,
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--exit-code-on-error",
        "0",
    ]
    done = subprocess.run(
        command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=args.seconds + 180, check=False
    )
    if done.returncode:
        sys.stderr.write(done.stderr[-3000:])
        raise SystemExit(f"locust failed on the {page} page ({done.returncode})")
    with (workdir / f"{page}_stats.csv").open(newline="") as handle:
        rows = {row["Name"]: row for row in csv.DictReader(handle)}
    row = rows.get(page)
    if row is None:  # not one request answered: a page slower than the run
        return {
            "requests": 0,
            "errors": args.users,
            "rps": 0.0,
            "p50": math.nan,
            "p95": math.nan,
            "p99": math.nan,
            "failures": [f"{args.users} x no answer within {args.seconds} s + 60 s"],
        }
    failures = []
    failures_csv = workdir / f"{page}_failures.csv"
    if failures_csv.exists():
        with failures_csv.open(newline="") as handle:
            failures = [f"{r['Occurrences']} x {r['Error']}" for r in csv.DictReader(handle)]
    return {
        "requests": int(row["Request Count"]),
        "errors": int(row["Failure Count"]),
        "rps": float(row["Requests/s"]),
        "p50": float(row["50%"]),
        "p95": float(row["95%"]),
        "p99": float(row["99%"]),
        "failures": failures,
    }


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=40)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


def main() -> None:
    args = _parse()
    if args.collect_static:
        collect_static()
        return
    plan = _prepare(args)
    workdir = Path(tempfile.mkdtemp(prefix="load-bench-"))
    database = args.database_url.rsplit("/", 1)[1]
    static_root = Path(tempfile.gettempdir()) / "load_bench_static" / database
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = _server_env(args, static_root, port)
    _collectstatic(env, static_root)
    _redis_flush(args.redis_url)
    log = workdir / "gunicorn.log"
    with log.open("w") as log_file:
        server = subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"),
                "marketplace.wsgi:application",
                "--config",
                str(ROOT / "infra" / "gunicorn.conf.py"),
                "--bind",
                f"127.0.0.1:{port}",  # loopback only, whatever the config file says
            ],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as one
        )
    results: dict[str, dict] = {}
    try:
        _wait_until_up(port, server, log)
        accounts = [_sign_in(base, email, plan["password"]) for email in plan["emails"]]
        plan_path = workdir / "plan.json"
        plan_path.write_text(json.dumps({**plan, "accounts": accounts, "password": None}))
        workers = args.workers or "the config's"
        print(
            f"gunicorn on {base} (infra/gunicorn.conf.py, {workers} workers, DEBUG off); "
            f"{args.users} clients, {args.seconds} s per page; loadavg before "
            f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}",
            flush=True,
        )
        for page in args.pages:
            results[page] = _run_page(page, args, base, plan_path, workdir)
            r = results[page]
            print(f"  {page:9} done: {r['rps']:.1f} requests/s", flush=True)
    finally:
        _stop(server)
        with contextlib.suppress(Exception):
            _redis_flush(args.redis_url)
    errors_in_log = sum(1 for line in log.read_text().splitlines() if "Traceback" in line)

    target = TARGETS[args.catalogue]
    print(f"\n{args.catalogue} catalogue, {args.users} clients, {args.seconds} s per page:")
    print(
        f"  {'page':9} {'requests':>9} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>7}"
    )
    for page, r in results.items():
        print(
            f"  {page:9} {r['requests']:>9,} {r['rps']:>8.1f} {r['p50']:>7.0f} {r['p95']:>7.0f} "
            f"{r['p99']:>7.0f} {r['errors']:>7}"
        )
        for failure in r["failures"][:5]:
            print(f"      {failure}")
    met = [p for p in ("category", "product", "search") if p in results and results[p]["rps"] >= target]
    print(
        f"Target: >= {target} requests/s on the category, product and search pages ({args.catalogue} "
        f"catalogue), zero errors: {len(met)} of 3 pages at the rate"
    )
    print(f"loadavg after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    errors = sum(r["errors"] for r in results.values())
    if errors or errors_in_log:
        raise SystemExit(f"{errors} failed requests; {errors_in_log} tracebacks in the server's log ({log})")
    shutil.rmtree(workdir, ignore_errors=True)  # kept, with the server's log, only when something failed


if __name__ == "__main__":
    main()
