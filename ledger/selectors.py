"""The ledger's reads: balances, statements with a running balance, holds, and the invariants."""

from __future__ import annotations

import datetime
import uuid

from django.db import connection
from django.db.models import F, Q, Sum

from ledger.models import POSTED_KINDS, Account, Transfer, TransferKind, TransferState
from ledger.types import Balance, StatementLine


def balance(account_id: int) -> Balance:
    row = Account.objects.filter(pk=account_id).values_list(
        "debits_posted", "credits_posted", "debits_pending", "credits_pending"
    )
    found = row.first()
    if found is None:
        raise Account.DoesNotExist(f"no ledger account {account_id}")
    return Balance(*found)


def _posted_touching(account_id: int):
    return Transfer.objects.filter(kind__in=POSTED_KINDS).filter(
        Q(debit_account_id=account_id) | Q(credit_account_id=account_id)
    )


def account_statement(
    account_id: int, *, since: datetime.datetime | None = None, until: datetime.datetime | None = None
) -> list[StatementLine]:
    """The posted transfers touching the account from `since` (inclusive) to `until` (exclusive), in
    time order, each with the account's balance after it (the balance before `since` carried in)."""
    opening = 0
    if since is not None:
        before = _posted_touching(account_id).filter(created_at__lt=since)
        sums = before.aggregate(
            credits=Sum("amount", filter=Q(credit_account_id=account_id)),
            debits=Sum("amount", filter=Q(debit_account_id=account_id)),
        )
        opening = (sums["credits"] or 0) - (sums["debits"] or 0)
    lines = _posted_touching(account_id)
    if since is not None:
        lines = lines.filter(created_at__gte=since)
    if until is not None:
        lines = lines.filter(created_at__lt=until)
    running = opening
    statement: list[StatementLine] = []
    for pk, created_at, code, reference, amount, kind, debit_id, credit_id in lines.order_by(
        "created_at", "id"
    ).values_list(
        "pk", "created_at", "code", "reference", "amount", "kind", "debit_account_id", "credit_account_id"
    ):
        signed = amount if credit_id == account_id else -amount
        running += signed
        statement.append(
            StatementLine(
                transfer_id=pk,
                created_at=created_at,
                code=code,
                reference=reference,
                amount_signed=signed,
                balance=running,
                kind=kind,
                counterparty_account_id=debit_id if credit_id == account_id else credit_id,
            )
        )
    return statement


def account_holds(account_id: int) -> list[Transfer]:
    """The pending transfers still holding money on the account (as debit or credit), oldest first."""
    return list(
        Transfer.objects.filter(kind=TransferKind.PENDING, state=TransferState.PENDING)
        .filter(Q(debit_account_id=account_id) | Q(credit_account_id=account_id))
        .order_by("created_at", "id")
    )


# Every account's totals against the sums of its transfers. Portable SQL (PostgreSQL and SQLite).
_TOTALS_SQL = """
SELECT a.id, a.code,
       a.debits_posted, COALESCE(d.posted, 0), a.credits_posted, COALESCE(c.posted, 0),
       a.debits_pending, COALESCE(d.held, 0), a.credits_pending, COALESCE(c.held, 0)
FROM ledger_account a
LEFT JOIN (
    SELECT debit_account_id AS account_id,
           SUM(CASE WHEN kind IN ('single', 'post_pending') THEN amount ELSE 0 END) AS posted,
           SUM(CASE WHEN kind = 'pending' AND state = 'pending' THEN amount ELSE 0 END) AS held
    FROM ledger_transfer GROUP BY debit_account_id
) d ON d.account_id = a.id
LEFT JOIN (
    SELECT credit_account_id AS account_id,
           SUM(CASE WHEN kind IN ('single', 'post_pending') THEN amount ELSE 0 END) AS posted,
           SUM(CASE WHEN kind = 'pending' AND state = 'pending' THEN amount ELSE 0 END) AS held
    FROM ledger_transfer GROUP BY credit_account_id
) c ON c.account_id = a.id
WHERE a.debits_posted <> COALESCE(d.posted, 0) OR a.credits_posted <> COALESCE(c.posted, 0)
   OR a.debits_pending <> COALESCE(d.held, 0) OR a.credits_pending <> COALESCE(c.held, 0)
ORDER BY a.id
"""

# Each resolved pending transfer (or one with resolutions): how many resolutions, how many of them
# agree with its state and amount, how many name other accounts.
_RESOLUTIONS_SQL = """
SELECT p.id, p.state, COUNT(r.id),
       SUM(CASE WHEN (r.kind = 'post_pending' AND p.state = 'posted' AND r.amount <= p.amount)
                  OR (r.kind = 'void_pending' AND p.state = 'voided' AND r.amount = p.amount)
                  OR (r.kind = 'expire_pending' AND p.state = 'expired' AND r.amount = p.amount)
                THEN 1 ELSE 0 END),
       SUM(CASE WHEN r.id IS NOT NULL AND (r.debit_account_id <> p.debit_account_id
                                           OR r.credit_account_id <> p.credit_account_id)
                THEN 1 ELSE 0 END)
FROM ledger_transfer p
LEFT JOIN ledger_transfer r ON r.pending_of_id = p.id
WHERE p.kind = 'pending' AND (p.state <> 'pending' OR r.id IS NOT NULL)
GROUP BY p.id, p.state
ORDER BY p.id
"""


def invariants_check() -> list[str]:
    """What is wrong with the ledger, in words; an empty list when nothing is.

    The sum of all balances is zero (posted and pending), every account's totals equal the sums of
    its transfers, no wallet is below zero, every pending transfer is resolved at most once and its
    state says how.
    """
    problems: list[str] = []
    totals = Account.objects.aggregate(
        debits_posted=Sum("debits_posted"),
        credits_posted=Sum("credits_posted"),
        debits_pending=Sum("debits_pending"),
        credits_pending=Sum("credits_pending"),
    )
    totals = {name: value or 0 for name, value in totals.items()}
    if totals["debits_posted"] != totals["credits_posted"]:
        problems.append(
            f"Posted balances do not sum to zero: debits {totals['debits_posted']}p, "
            f"credits {totals['credits_posted']}p."
        )
    if totals["debits_pending"] != totals["credits_pending"]:
        problems.append(
            f"Pending balances do not sum to zero: debits {totals['debits_pending']}p, "
            f"credits {totals['credits_pending']}p."
        )
    with connection.cursor() as cursor:
        cursor.execute(_TOTALS_SQL)
        for account_id, code, *pairs in cursor.fetchall():
            names = ("debits_posted", "credits_posted", "debits_pending", "credits_pending")
            for name, kept, summed in zip(names, pairs[0::2], pairs[1::2], strict=True):
                if kept != summed:
                    problems.append(
                        f"Account {account_id} ({code}): {name} is {kept}p, its transfers sum to {summed}p."
                    )
        cursor.execute(_RESOLUTIONS_SQL)
        for pending_id, state, resolutions, matching, elsewhere in cursor.fetchall():
            if state == TransferState.PENDING or resolutions != 1 or matching != 1 or elsewhere:
                problems.append(
                    f"Pending transfer {uuid.UUID(str(pending_id))} is {state!r} with {resolutions} "
                    f"resolution(s), {matching} matching its state and amount."
                )
    below = Account.objects.filter(
        debits_must_not_exceed_credits=True, credits_posted__lt=F("debits_posted") + F("debits_pending")
    )
    for account_id, code in below.values_list("pk", "code"):
        problems.append(f"Account {account_id} ({code}) is below zero.")
    return problems
