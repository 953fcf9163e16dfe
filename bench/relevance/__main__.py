"""Top-5 recall and MRR of the judged relevance set, per database backend.

    .venv/bin/python -m bench.relevance                       # SQLite FTS5
    .venv/bin/python -m bench.relevance --postgres postgres://postgres@127.0.0.1:5432/mk_rel
    DATABASE_URL=postgres://... .venv/bin/python -m bench.relevance   # both, PostgreSQL from the URL
    .venv/bin/python -m bench.relevance --smoke --postgres URL          # PostgreSQL only (make bench-smoke)

Each backend runs in its own process on a throwaway test database (SQLite in memory; on PostgreSQL
`test_<name>`, created and dropped), with the catalogue of bench/relevance/catalogue.py indexed. Prints
the figures, the failing queries and the queries whose top five differ between the backends.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# --smoke fails below this top-5 recall: far under the measured figures (docs/search.md), so only a
# broken search or judged set trips it, not a ranking change.
SMOKE_FLOOR = 0.5


def worker() -> None:
    """In a child process: build, index, judge; print one JSON line."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")
    import django

    django.setup()
    from django.db import connection, transaction

    from bench.relevance import catalogue, judge
    from marketplace.celery import app as celery_app
    from search import services

    celery_app.conf.task_always_eager = True
    if connection.vendor == "postgresql":
        # A copy of the benches' migrated template: no run of every migration from empty.
        from bench.databases import migrated_template

        connection.settings_dict["TEST"]["TEMPLATE"] = migrated_template(os.environ["DATABASE_URL"])
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        with transaction.atomic():
            ids = catalogue.build()
        services.rebuild_index(object_type="product")
        outcomes = judge.run(judge.load_queries(), ids)
        print(
            json.dumps(
                {
                    "vendor": connection.vendor,
                    "products": len(ids),
                    "queries": len(outcomes),
                    "recall": judge.recall(outcomes),
                    "mrr": judge.mrr(outcomes),
                    "answers": {o.query.text: list(o.top) for o in outcomes},
                    "failing": [
                        {
                            "q": o.query.text,
                            "kind": o.query.kind,
                            "missing": list(o.missing),
                            "top": list(o.top),
                        }
                        for o in judge.failing(outcomes)
                    ],
                }
            )
        )
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)


def run_backend(database_url: str | None) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "ELASTICSEARCH_URL")
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    done = subprocess.run(
        [sys.executable, "-m", "bench.relevance", "--worker"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"the {database_url or 'SQLite'} run failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", help="a PostgreSQL URL; default: DATABASE_URL when it is PostgreSQL")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help=f"one backend (PostgreSQL if given, else SQLite); fails under {SMOKE_FLOOR * 100:.0f}%% recall",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker()
        return
    postgres = args.postgres or (
        os.environ.get("DATABASE_URL") if os.environ.get("DATABASE_URL", "").startswith("postgres") else None
    )
    runs = {}
    if not (args.smoke and postgres):
        runs["SQLite FTS5"] = run_backend(None)
    if postgres:
        runs["PostgreSQL"] = run_backend(postgres)
    else:
        print("PostgreSQL: not run (pass --postgres URL or set DATABASE_URL to a PostgreSQL database)\n")
    first = next(iter(runs.values()))
    print(f"Judged relevance set: {first['queries']} queries over {first['products']} products, top {5}\n")
    print(f"{'backend':<14} {'top-5 recall':>12} {'MRR':>7} {'failing':>8}")
    for label, r in runs.items():
        print(f"{label:<14} {r['recall']:>11.1%} {r['mrr']:>7.3f} {len(r['failing']):>8}")
    for label, r in runs.items():
        if r["failing"]:
            print(f"\nFailing on {label}:")
            for f in r["failing"]:
                print(f"  [{f['kind']}] {f['q']!r}: missing {f['missing']}\n      top 5: {f['top']}")
    if len(runs) == 2:
        a, b = runs.values()
        differ = [q for q in a["answers"] if set(a["answers"][q]) != set(b["answers"][q])]
        judged_differ = [
            q
            for q in a["answers"]
            if (q in {f["q"] for f in a["failing"]}) != (q in {f["q"] for f in b["failing"]})
        ]
        same = a["queries"] - len(judged_differ)
        print(f"\nSame judged answer on both backends: {same} of {a['queries']} queries")
        print(f"Same top-5 set on both backends: {a['queries'] - len(differ)} of {a['queries']} queries")
    if args.smoke and (broken := [label for label, r in runs.items() if r["recall"] < SMOKE_FLOOR]):
        raise SystemExit(f"top-5 recall below {SMOKE_FLOOR:.0%} on {', '.join(broken)}")


if __name__ == "__main__":
    main()
