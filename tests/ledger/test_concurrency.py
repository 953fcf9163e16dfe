"""Many people spending at once: 16 threads, each with its own database connection and real
transactions, move money at random between 100 wallets, replay ids, and post or void holds (two
threads often racing for the same hold). Money is never made or lost, no wallet goes below zero, a
replayed id moves nothing, and every hold ends posted or voided exactly once.
"""

from __future__ import annotations

import random
import threading
import uuid

import pytest
from django.db import connection, connections
from django.db.models import F, Sum

from ledger import selectors, services
from ledger.models import Account, Transfer, TransferKind, TransferState
from ledger.services import LedgerError
from tests.ledger.factories import FundingFactory, WalletFactory, allocate

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite runs one writer at a time: concurrent transactions need PostgreSQL (DATABASE_URL).",
    ),
]

THREADS = 16
WALLETS = 100
OPERATIONS = 60  # per thread
START = 5_000  # pence in each wallet
RESOLUTION_OF = {
    TransferState.POSTED: TransferKind.POST_PENDING,
    TransferState.VOIDED: TransferKind.VOID_PENDING,
}
EXPECTED_REFUSALS = {"insufficient_funds", "already_posted", "already_voided"}


def money_snapshot() -> tuple[int, int, int]:
    """In one statement (one snapshot): the sum of every balance, of the wallets', wallets below zero."""
    totals = Account.objects.aggregate(
        net=Sum(F("credits_posted") - F("debits_posted")),
        pending=Sum(F("credits_pending") - F("debits_pending")),
    )
    below = Account.objects.filter(
        debits_must_not_exceed_credits=True, credits_posted__lt=F("debits_posted") + F("debits_pending")
    ).count()
    return totals["net"], totals["pending"], below


def test_sixteen_clients_at_once_never_make_lose_or_double_spend_money():
    funding = FundingFactory()
    wallets = [WalletFactory() for _ in range(WALLETS)]
    for wallet in wallets:
        allocate(wallet, START, funding=funding)
    wallet_ids = [wallet.pk for wallet in wallets]

    made: dict[uuid.UUID, tuple] = {}  # id -> payload, of every transfer that succeeded
    replays: list[tuple[uuid.UUID, uuid.UUID]] = []  # (id replayed, id returned)
    holds: list[uuid.UUID] = []
    lock = threading.Lock()
    unexpected: list[BaseException] = []
    refusals: dict[str, int] = {}
    snapshots: list[tuple[int, int, int]] = []
    running = threading.Event()
    running.set()
    start = threading.Barrier(THREADS + 1)

    def transfer(key: uuid.UUID, payload: tuple) -> None:
        debit, credit, amount, pending = payload
        services.transfer_create(
            id=key,
            debit_account_id=debit,
            credit_account_id=credit,
            amount=amount,
            code="test",
            pending=pending,
        )
        with lock:
            made[key] = payload
            if pending:
                holds.append(key)

    def client(seed: int) -> None:
        rng = random.Random(seed)
        try:
            start.wait()
            for _ in range(OPERATIONS):
                roll = rng.random()
                try:
                    if roll < 0.05 and made:  # a replayed request: the same id and payload again
                        with lock:
                            key, payload = rng.choice(list(made.items()))
                        debit, credit, amount, pending = payload
                        again = services.transfer_create(
                            id=key,
                            debit_account_id=debit,
                            credit_account_id=credit,
                            amount=amount,
                            code="test",
                            pending=pending,
                        )
                        with lock:
                            replays.append((key, again.pk))
                    elif roll < 0.25 and holds:  # settle a hold; two threads often race for the same one
                        with lock:
                            pending_id = rng.choice(holds[-8:])
                        resolve = services.pending_post if rng.random() < 0.5 else services.pending_void
                        resolve(id=uuid.uuid4(), pending_id=pending_id)
                    else:
                        debit, credit = rng.sample(wallet_ids, 2)
                        pending = roll < 0.40
                        transfer(uuid.uuid4(), (debit, credit, rng.randint(1, 1_500), pending))
                except LedgerError as refused:
                    if refused.code not in EXPECTED_REFUSALS:
                        raise
                    with lock:
                        refusals[refused.code] = refusals.get(refused.code, 0) + 1
        except BaseException as exc:
            unexpected.append(exc)
        finally:
            connections.close_all()

    def watcher() -> None:
        try:
            while running.is_set():
                snapshots.append(money_snapshot())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=client, args=(seed,)) for seed in range(THREADS)]
    watch = threading.Thread(target=watcher)
    for thread in threads:
        thread.start()
    watch.start()
    start.wait()
    for thread in threads:
        thread.join()
    running.clear()
    watch.join()

    assert unexpected == []  # no deadlock, no serialization failure, no other error
    # Whatever the moment, the balances summed to zero and no wallet was below zero.
    assert snapshots and all(snapshot == (0, 0, 0) for snapshot in snapshots)
    assert money_snapshot() == (0, 0, 0)
    # A replayed id returned the transfer first made and moved nothing: the accounts equal their
    # transfers (invariants_check), and no transfer exists twice.
    assert replays and all(key == returned for key, returned in replays)
    made_once = Transfer.objects.filter(kind__in=[TransferKind.SINGLE, TransferKind.PENDING], code="test")
    assert made_once.count() == len(made)
    # Every hold still open is settled now (some posted, some voided); each exactly once.
    for pending_id in list(Transfer.objects.filter(state=TransferState.PENDING).values_list("pk", flat=True)):
        services.pending_void(id=uuid.uuid4(), pending_id=pending_id)
    held = Transfer.objects.filter(kind=TransferKind.PENDING)
    assert held.count() == len(holds) > 0
    assert not held.filter(state=TransferState.PENDING).exists()
    for pending in held.prefetch_related("resolutions"):
        (resolution,) = pending.resolutions.all()
        wanted = {
            TransferState.POSTED: TransferKind.POST_PENDING,
            TransferState.VOIDED: TransferKind.VOID_PENDING,
        }
        assert resolution.kind == wanted[pending.state]
    assert (
        held.filter(state=TransferState.POSTED).exists() and held.filter(state=TransferState.VOIDED).exists()
    )
    assert selectors.invariants_check() == []
    assert sum(selectors.balance(pk).posted for pk in wallet_ids) == WALLETS * START
