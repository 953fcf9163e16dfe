"""Where one day's write of lines goes, statement by statement, on the price-analytics bench's data.

    python bench/pricing_write_profile.py --database-url postgres://postgres@127.0.0.1:5432/mp_pricing_bench
    python bench/pricing_write_profile.py --runs 3 --explain   # also EXPLAIN (ANALYZE, BUFFERS, WAL)
    python bench/pricing_write_profile.py --before "DROP INDEX ..."  # try a schema change, rolled back

Writes the bench's day of lines (`pricing_bench._one_days_lines`) through
`pricing.services.purchase_lines_write` inside a transaction that is rolled back, so the data stays as
it was, and prints the wall time and the backend's CPU seconds (from /proc: run it beside the server)
of every statement that took more than 5 ms, and the WAL the whole cluster wrote meanwhile (other
sessions' too). With --explain each data-changing statement of the write runs under EXPLAIN (ANALYZE,
BUFFERS, WAL) instead, which executes it, and the plans are printed after the timings. The database
must have been built by bench/pricing_bench.py.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

EXPLAINED = ("INSERT INTO PRICING", "UPDATE", "DELETE", "CREATE TEMPORARY TABLE PRICING_ROLLUP")


class Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/mp_pricing_bench")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument(
        "--before",
        action="append",
        default=[],
        metavar="SQL",
        help="a statement run in the rolled-back transaction before the write (not timed), to try a "
        "schema change such as dropping an index; repeatable",
    )
    args = parser.parse_args()

    import pricing_bench as bench

    bench._setup_django(args.database_url)
    from django.db import connection, transaction

    from pricing.services import purchase_lines_write

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    timings: list[tuple[float, float, str]] = []
    plans: list[str] = []

    def cpu() -> float:
        return bench._backend_cpu_seconds(pid) or 0.0

    def timed(execute, sql, params, many, context):
        text = " ".join(line for line in sql.splitlines() if not line.strip().startswith("--")).strip()
        started_cpu, started = cpu(), time.perf_counter()
        try:
            if args.explain and not many and text.upper().startswith(EXPLAINED):
                with connection.cursor() as cursor:
                    raw = cursor.cursor  # psycopg's own: not through this wrapper again
                    raw.execute("EXPLAIN (ANALYZE, BUFFERS, WAL, COSTS OFF) " + sql, params)
                    plans.append("\n".join(row[0] for row in raw.fetchall()))
                return None
            return execute(sql, params, many, context)
        finally:
            timings.append((time.perf_counter() - started, cpu() - started_cpu, " ".join(text.split())[:100]))

    for run in range(args.runs):
        lines, product_ids = bench._one_days_lines(bench.LINES // bench.DAYS)
        timings.clear()
        plans.clear()
        with connection.execute_wrapper(timed):
            try:
                with transaction.atomic():
                    with connection.cursor() as cursor:
                        for statement in args.before:
                            cursor.execute(statement)
                    timings.clear()
                    # From here: the statements before (a CHECKPOINT waits for its writes) are not timed.
                    wal_before, cpu_before, started = bench.wal_totals(), cpu(), time.perf_counter()
                    purchase_lines_write(lines=lines, source="purchase_order", product_ids=product_ids)
                    elapsed, spent = time.perf_counter() - started, cpu() - cpu_before
                    raise Rollback
            except Rollback:
                pass
        wal_after = bench.wal_totals()
        print(
            f"run {run + 1}: {len(lines):,} lines, wall {elapsed:.2f} s, backend CPU {spent:.2f} s; "
            f"cluster WAL {wal_after[0] - wal_before[0]:,} records, "
            f"{wal_after[1] - wal_before[1]:,} full-page images, "
            f"{(wal_after[2] - wal_before[2]) / 1e6:.1f} MB (load average {os.getloadavg()[0]:.2f})"
        )
        for wall, backend, text in timings:
            if wall > 0.005:
                print(f"  {wall:6.3f} s  CPU {backend:5.2f} s  {text}")
        for plan in plans:
            print(plan, "\n")


if __name__ == "__main__":
    main()
