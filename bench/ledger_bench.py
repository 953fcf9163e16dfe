"""Benchmark: ledger transfers per second with 16 concurrent clients through `ledger.services`, on PostgreSQL.

    python bench/ledger_bench.py [--clients 16] [--wallets 100] [--seconds 10] [--replay 0.05]
        [--database-url postgres://postgres@127.0.0.1:5432/mp_ledger_bench]
    python bench/ledger_bench.py --smoke     # 4 clients, 20 wallets, 2 s each (make bench-smoke)

It (re)creates its own database (a copy of the migrated bench template, `bench/databases.py`), opens
a funding account and `--wallets` wallets (never below zero) through `ledger.services`, and funds
them. Then, for `--seconds` each and with `--clients` threads, each with its own connection:

1. the baseline: plain SQL on psycopg, as a careful hand-written transfer would be (the transfer
   inserted ON CONFLICT DO NOTHING, the two accounts locked in id order FOR NO KEY UPDATE, two
   UPDATEs, COMMIT), between wallets of its own;
2. the services: `ledger.services.transfer_create` between random wallets, `--replay` of the calls
   being a replay of an id the client already made (same payload: it must move nothing).

It prints transfers per second for both (a replay counts as a call, not a transfer), the ratio to
the 1,000/s target and to the baseline, and the anomalies found afterwards, which must be 0: a
problem `ledger.selectors.invariants_check` reports (the sum of balances, each account against its
transfers), a wallet below zero, a replay that returned another transfer or moved money, a
transfer counted twice, or any error but a refusal (a deadlock would be one).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/mp_ledger_bench"
SMOKE_URL = "postgres://postgres@127.0.0.1:5432/mp_ledger_bench_smoke"
TARGET = 1_000  # transfers per second (issue 14)
START = 10_000_000  # pence in each wallet: refusals for want of money stay rare

# The baseline transfer: what a careful hand-written ledger does, statement by statement.
BASELINE_INSERT = """
INSERT INTO ledger_transfer (id, debit_account_id, credit_account_id, amount, code, pending,
                             kind, state, reference, created_at)
VALUES (%s, %s, %s, %s, 'bench', false, 'single', '', '', now())
ON CONFLICT (id) DO NOTHING RETURNING id
"""
BASELINE_LOCK = "SELECT id FROM ledger_account WHERE id IN (%s, %s) ORDER BY id FOR NO KEY UPDATE"
BASELINE_DEBIT = "UPDATE ledger_account SET debits_posted = debits_posted + %s WHERE id = %s"
BASELINE_CREDIT = "UPDATE ledger_account SET credits_posted = credits_posted + %s WHERE id = %s"


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, help="concurrent clients (16; 4 with --smoke)")
    parser.add_argument("--wallets", type=int, help="wallets (100; 20 with --smoke)")
    parser.add_argument("--seconds", type=float, help="seconds each run lasts (10; 2 with --smoke)")
    parser.add_argument(
        "--rounds", type=int, help="rounds of the three runs, in alternating order (3; 1 with --smoke)"
    )
    parser.add_argument("--replay", type=float, default=0.05, help="share of calls replaying an id (0.05)")
    parser.add_argument("--smoke", action="store_true", help="a tiny run, to check the bench still works")
    parser.add_argument("--database-url", help=f"default {DEFAULT_URL} ({SMOKE_URL} with --smoke)")
    args = parser.parse_args()
    args.clients = args.clients or (4 if args.smoke else 16)
    args.wallets = args.wallets or (20 if args.smoke else 100)
    args.seconds = args.seconds or (2.0 if args.smoke else 10.0)
    args.rounds = args.rounds or (1 if args.smoke else 3)
    args.database_url = (
        args.database_url
        or os.environ.get("BENCH_DATABASE_URL")
        or (SMOKE_URL if args.smoke else DEFAULT_URL)
    )
    return args


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.transfers = 0
        self.replays = 0
        self.refused = 0
        self.errors: list[str] = []
        self.anomalies: list[str] = []

    def add(self, *, transfers: int, replays: int = 0, refused: int = 0) -> None:
        with self.lock:
            self.transfers += transfers
            self.replays += replays
            self.refused += refused


def _run_clients(clients: int, seconds: float, work) -> float:
    """Run `work(seed, deadline)` in `clients` threads started together; the elapsed seconds."""
    barrier = threading.Barrier(clients + 1)
    started: list[float] = []

    def client(seed: int) -> None:
        barrier.wait()
        work(seed, started[0] + seconds)

    threads = [threading.Thread(target=client, args=(seed,)) for seed in range(clients)]
    for thread in threads:
        thread.start()
    started.append(time.perf_counter())
    barrier.wait()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started[0]


def baseline(url: str, wallet_ids: list[int], clients: int, seconds: float, tally: Tally) -> float:
    """Plain SQL: five statements a transfer, in a transaction, on psycopg's own connections."""
    import psycopg

    def work(seed: int, deadline: float) -> None:
        rng = random.Random(1_000 + seed)
        made = 0
        try:
            with psycopg.connect(url) as conn:
                while time.perf_counter() < deadline:
                    debit, credit = rng.sample(wallet_ids, 2)
                    amount = rng.randint(1, 1_000)
                    with conn.transaction():
                        if conn.execute(BASELINE_INSERT, [uuid.uuid4(), debit, credit, amount]).fetchone():
                            conn.execute(BASELINE_LOCK, [min(debit, credit), max(debit, credit)]).fetchall()
                            conn.execute(BASELINE_DEBIT, [amount, debit])
                            conn.execute(BASELINE_CREDIT, [amount, credit])
                            made += 1
        except Exception as exc:  # counted as an anomaly and printed
            tally.errors.append(f"baseline client {seed}: {exc!r}")
        tally.add(transfers=made)

    return _run_clients(clients, seconds, work)


def one_statement(url: str, wallet_ids: list[int], clients: int, seconds: float, tally: Tally) -> float:
    """The services' own statement on psycopg's own connections, without Django or the services:
    what the statement costs, so the services' share shows."""
    import datetime

    import psycopg

    from ledger.services import _TRANSFER_SQL

    def work(seed: int, deadline: float) -> None:
        rng = random.Random(2_000 + seed)
        made = 0
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                while time.perf_counter() < deadline:
                    debit, credit = rng.sample(wallet_ids, 2)
                    amount = rng.randint(1, 1_000)
                    params = {
                        "id": uuid.uuid4(),
                        "debit_account_id": debit,
                        "credit_account_id": credit,
                        "amount": amount,
                        "code": "bench",
                        "pending": False,
                        "kind": "single",
                        "expires_at": None,
                        "state": "",
                        "reference": "",
                        "created_at": datetime.datetime.now(datetime.UTC),
                        "posted": amount,
                        "held": 0,
                    }
                    inserted, _moved = conn.execute(_TRANSFER_SQL, params, prepare=True).fetchone()
                    made += inserted
        except Exception as exc:  # counted as an anomaly and printed
            tally.errors.append(f"one-statement client {seed}: {exc!r}")
        tally.add(transfers=made)

    return _run_clients(clients, seconds, work)


def through_services(
    wallet_ids: list[int], clients: int, seconds: float, replay: float, tally: Tally
) -> float:
    from django.db import connections

    from ledger import services
    from ledger.services import LedgerError

    def work(seed: int, deadline: float) -> None:
        rng = random.Random(seed)
        made: list[tuple[uuid.UUID, int, int, int]] = []
        transfers = replays = refused = 0
        try:
            while time.perf_counter() < deadline:
                if made and rng.random() < replay:
                    key, debit, credit, amount = rng.choice(made)
                    again = services.transfer_create(
                        id=key, debit_account_id=debit, credit_account_id=credit, amount=amount, code="bench"
                    )
                    replays += 1
                    if again.pk != key:
                        tally.anomalies.append(f"replay of {key} returned {again.pk}")
                    continue
                debit, credit = rng.sample(wallet_ids, 2)
                key, amount = uuid.uuid4(), rng.randint(1, 1_000)
                try:
                    services.transfer_create(
                        id=key, debit_account_id=debit, credit_account_id=credit, amount=amount, code="bench"
                    )
                except LedgerError as refusal:
                    if refusal.code != "insufficient_funds":
                        raise
                    refused += 1
                    continue
                made.append((key, debit, credit, amount))
                transfers += 1
        except Exception as exc:  # counted as an anomaly and printed
            tally.errors.append(f"client {seed}: {exc!r}")
        finally:
            connections.close_all()
        tally.add(transfers=transfers, replays=replays, refused=refused)

    return _run_clients(clients, seconds, work)


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
    from django.db.models import F, Sum

    from ledger import selectors, services
    from ledger.models import Account, Transfer

    settings.DEBUG = False  # no query log: it would grow with every transfer and slow the clients
    funding = services.account_open(code="funding:bench", kind="funding", name="Bench funding")

    def wallets(prefix: str) -> list[int]:
        ids = []
        for n in range(args.wallets):
            wallet = services.account_open(
                code=f"wallet:{prefix}:{n}",
                kind="wallet",
                name=f"Wallet {n}",
                debits_must_not_exceed_credits=True,
            )
            services.transfer_create(
                id=uuid.uuid4(),
                debit_account_id=funding.pk,
                credit_account_id=wallet.pk,
                amount=START,
                code="seed",
            )
            ids.append(wallet.pk)
        return ids

    baseline_wallets, statement_wallets, bench_wallets = wallets("baseline"), wallets("cte"), wallets("bench")
    load_before = os.getloadavg()[0]
    base, cte, ours = Tally(), Tally(), Tally()
    runs = [
        (base, lambda: baseline(args.database_url, baseline_wallets, args.clients, args.seconds, base)),
        (cte, lambda: one_statement(args.database_url, statement_wallets, args.clients, args.seconds, cte)),
        (ours, lambda: through_services(bench_wallets, args.clients, args.seconds, args.replay, ours)),
    ]
    elapsed = {id(tally): 0.0 for tally, _ in runs}
    # The machine's load changes from one run to the next: alternate the order, sum the rounds.
    for round_ in range(args.rounds):
        for tally, run in runs if round_ % 2 == 0 else runs[::-1]:
            elapsed[id(tally)] += run()
    base_seconds, cte_seconds, seconds = (elapsed[id(tally)] for tally in (base, cte, ours))
    load_after = os.getloadavg()[0]

    anomalies = [*ours.anomalies, *ours.errors, *base.errors, *cte.errors, *selectors.invariants_check()]
    made = Transfer.objects.filter(code="bench", debit_account_id__in=bench_wallets).count()
    if made != ours.transfers:
        anomalies.append(f"{made} transfers in the ledger, {ours.transfers} made (a replay moved money?)")
    below = Account.objects.filter(
        debits_must_not_exceed_credits=True, credits_posted__lt=F("debits_posted") + F("debits_pending")
    ).count()
    if below:
        anomalies.append(f"{below} wallets below zero")
    held = Account.objects.filter(pk__in=bench_wallets).aggregate(
        total=Sum(F("credits_posted") - F("debits_posted"))
    )["total"]
    if held != START * args.wallets:
        anomalies.append(f"the wallets hold {held}p, not the {START * args.wallets}p they were given")

    rate, base_rate = ours.transfers / seconds, base.transfers / base_seconds
    calls = (ours.transfers + ours.replays + ours.refused) / seconds
    print(f"Load average: {load_before:.1f} before, {load_after:.1f} after")
    print(
        f"{args.clients} clients, {args.wallets} wallets, {args.rounds} rounds of {args.seconds:g} s "
        f"each, {args.replay:.0%} replays"
    )
    print(
        f"Plain SQL baseline: {base.transfers} transfers in {base_seconds:.1f} s = "
        f"{base_rate:,.0f} transfers/s"
    )
    print(
        f"One CTE statement:  {cte.transfers} transfers in {cte_seconds:.1f} s = "
        f"{cte.transfers / cte_seconds:,.0f} transfers/s (psycopg alone, no Django)"
    )
    print(
        f"ledger.services:    {ours.transfers} transfers in {seconds:.1f} s = {rate:,.0f} transfers/s "
        f"({calls:,.0f} calls/s with {ours.replays} replays and {ours.refused} refusals)"
    )
    print(
        f"Ratio to the {TARGET:,}/s target: {rate / TARGET:.2f}x; "
        f"to the plain SQL baseline: {rate / base_rate:.2f}x"
    )
    print(f"Anomalies: {len(anomalies)}")
    for anomaly in anomalies[:20]:
        print(f"  {anomaly}")
    if args.smoke:  # 4 clients for 2 s say whether the bench runs, not how fast the ledger is
        print("Target: not judged at the smoke scale; anomalies:", "NONE" if not anomalies else "FOUND")
    else:
        print(
            "Target: >= 1,000 transfers/s with 0 anomalies:",
            "MET" if rate >= TARGET and not anomalies else "NOT MET",
        )
    if anomalies:
        sys.exit(1)


if __name__ == "__main__":
    main()
