"""The ledger's writes: accounts opened, transfers made, pending transfers posted, voided, expired.

Only these functions write ledger rows (docs/ledger.md). Every transfer locks its two accounts in
id order (`FOR NO KEY UPDATE`, which does not block the foreign-key checks of other inserts), so
concurrent transfers never deadlock, and updates their totals in the same transaction. On
PostgreSQL a plain transfer is one statement (`_TRANSFER_SQL`): the insert, the locks and both
updates, with the accounts' CHECK constraints turning an overdraft into an error mapped to
`insufficient_funds`. Elsewhere (the embedded SQLite) the same steps go through the ORM.
"""

from __future__ import annotations

import datetime
import uuid

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from common.errors import DomainError
from ledger.models import (
    Account,
    AccountKind,
    Transfer,
    TransferKind,
    TransferState,
)

# uuid5 namespace of the ledger's derived idempotency keys (`transfer_id`); never change it, or
# every derived key changes and a retried business action would move money twice.
LEDGER_NAMESPACE = uuid.UUID("6f1c1a52-3c8e-5b7e-9a51-0d6c2f0b7e14")

_RESOLVED_STATE = {
    TransferKind.POST_PENDING: TransferState.POSTED,
    TransferKind.VOID_PENDING: TransferState.VOIDED,
    TransferKind.EXPIRE_PENDING: TransferState.EXPIRED,
}
_REFUSAL = {
    TransferState.POSTED: ("already_posted", "This pending transfer has already been posted."),
    TransferState.VOIDED: ("already_voided", "This pending transfer has already been voided."),
    TransferState.EXPIRED: ("expired", "This pending transfer has expired."),
}
# CHECK constraints (ledger.models.Account) that an overdraft breaks, and what the caller is told.
_LIMITS = {
    "ledger_account_debits_within_credits": (
        "insufficient_funds",
        "There is not enough money in the account for this amount.",
    ),
    "ledger_account_credits_within_debits": (
        "exceeds_debits",
        "This amount would take the credited account past its limit.",
    ),
}


class LedgerError(DomainError):
    """A transfer the ledger refuses; `code` says why (docs/ledger.md lists them)."""

    status_code = 400

    def __init__(self, message: str, *, code: str, field: str | None = None) -> None:
        super().__init__(message, field=field, code=code)
        if code in ("id_reused", "already_posted", "already_voided", "expired"):
            self.status_code = 409


def transfer_id(namespace: str, *parts: object) -> uuid.UUID:
    """A deterministic idempotency key from business keys: `transfer_id("purchase", order_id)`."""
    if not namespace:
        raise ValueError("transfer_id needs a namespace")
    return uuid.uuid5(LEDGER_NAMESPACE, "\x1f".join([namespace, *(str(part) for part in parts)]))


def account_open(
    *,
    code: str,
    kind: str,
    name: str,
    debits_must_not_exceed_credits: bool = False,
    credits_must_not_exceed_debits: bool = False,
) -> Account:
    """The account with this code, opened if it is new (idempotent by code).

    An existing code with another kind or other limits is refused: the caller means another account.
    """
    code = (code or "").strip()
    if not code or len(code) > 120:
        raise LedgerError("An account needs a code of up to 120 characters.", code="invalid", field="code")
    if kind not in AccountKind.values:
        raise LedgerError(f"{kind!r} is not a kind of account.", code="invalid", field="kind")
    if debits_must_not_exceed_credits and credits_must_not_exceed_debits:
        raise LedgerError(
            "An account limits its debits or its credits, not both.",
            code="invalid",
            field="credits_must_not_exceed_debits",
        )
    account, _ = Account.objects.get_or_create(
        code=code,
        defaults={
            "kind": kind,
            "name": name or code,
            "debits_must_not_exceed_credits": debits_must_not_exceed_credits,
            "credits_must_not_exceed_debits": credits_must_not_exceed_debits,
        },
    )
    if (
        account.kind != kind
        or account.debits_must_not_exceed_credits != debits_must_not_exceed_credits
        or account.credits_must_not_exceed_debits != credits_must_not_exceed_debits
    ):
        raise LedgerError(
            f"The account {code} exists with another kind or other limits.",
            code="account_code_reused",
            field="code",
        )
    return account


def _check_amount(amount: object, *, field: str = "amount") -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise LedgerError("The amount must be a whole number of pence.", code="invalid_amount", field=field)
    if amount <= 0:
        raise LedgerError("The amount must be more than zero.", code="invalid_amount", field=field)
    if amount >= 2**63:
        raise LedgerError("The amount is too large.", code="invalid_amount", field=field)
    return amount


def _check_id(value: object) -> uuid.UUID:
    if not isinstance(value, uuid.UUID):
        raise LedgerError("A transfer's id must be a UUID.", code="invalid", field="id")
    return value


def transfer_create(
    *,
    id: uuid.UUID,
    debit_account_id: int,
    credit_account_id: int,
    amount: int,
    code: str,
    reference: str = "",
    pending: bool = False,
    timeout: datetime.timedelta | None = None,
) -> Transfer:
    """Move `amount` pence from the debit account to the credit account (or hold it, `pending`).

    The same id with the same payload returns the transfer already made and moves nothing; the same
    id with another payload is `id_reused`. A wallet that would go below zero: `insufficient_funds`.
    Runs in its own savepoint inside a caller's transaction, or commits on its own.
    """
    _check_id(id)
    _check_amount(amount)
    if debit_account_id == credit_account_id:
        raise LedgerError(
            "A transfer moves money between two different accounts.",
            code="same_account",
            field="credit_account_id",
        )
    code = (code or "").strip()
    if not code or len(code) > 40:
        raise LedgerError(
            "A transfer needs a code of up to 40 characters saying why.", code="invalid", field="code"
        )
    if len(reference) > 200:
        raise LedgerError("The reference is longer than 200 characters.", code="invalid", field="reference")
    if timeout is not None and (not pending or timeout <= datetime.timedelta(0)):
        raise LedgerError(
            "Only a pending transfer has a timeout, and it is positive.", code="invalid", field="timeout"
        )
    now = timezone.now()
    wanted = Transfer(
        id=id,
        debit_account_id=debit_account_id,
        credit_account_id=credit_account_id,
        amount=amount,
        code=code,
        reference=reference,
        pending=pending,
        kind=TransferKind.PENDING if pending else TransferKind.SINGLE,
        state=TransferState.PENDING if pending else "",
        expires_at=now + timeout if timeout is not None else None,
        created_at=now,
    )
    if connection.vendor == "postgresql":
        return _transfer_create_sql(wanted)
    return _transfer_create_orm(wanted)


# One statement: the transfer inserted unless its id exists; only if it was, both accounts locked in
# id order and their totals moved. A replayed id inserts nothing, so locks and moves nothing.
_TRANSFER_SQL = """
WITH inserted AS (
    INSERT INTO ledger_transfer (id, debit_account_id, credit_account_id, amount, code, pending,
                                 pending_of_id, kind, expires_at, state, reference, created_at)
    VALUES (%(id)s, %(debit)s, %(credit)s, %(amount)s, %(code)s, %(pending)s,
            NULL, %(kind)s, %(expires_at)s, %(state)s, %(reference)s, %(created_at)s)
    ON CONFLICT (id) DO NOTHING
    RETURNING id
), locked AS (
    SELECT a.id FROM ledger_account a
    WHERE a.id IN (%(debit)s, %(credit)s) AND EXISTS (SELECT FROM inserted)
    ORDER BY a.id
    FOR NO KEY UPDATE
), moved AS (
    UPDATE ledger_account a SET
        debits_posted = a.debits_posted + CASE WHEN a.id = %(debit)s THEN %(posted)s ELSE 0 END,
        credits_posted = a.credits_posted + CASE WHEN a.id = %(credit)s THEN %(posted)s ELSE 0 END,
        debits_pending = a.debits_pending + CASE WHEN a.id = %(debit)s THEN %(held)s ELSE 0 END,
        credits_pending = a.credits_pending + CASE WHEN a.id = %(credit)s THEN %(held)s ELSE 0 END
    FROM locked WHERE a.id = locked.id
    RETURNING a.id
)
SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM moved)
"""


def _transfer_create_sql(wanted: Transfer) -> Transfer:
    params = {
        "id": wanted.id,
        "debit": wanted.debit_account_id,
        "credit": wanted.credit_account_id,
        "amount": wanted.amount,
        "code": wanted.code,
        "pending": wanted.pending,
        "kind": wanted.kind,
        "expires_at": wanted.expires_at,
        "state": wanted.state,
        "reference": wanted.reference,
        "created_at": wanted.created_at,
        "posted": 0 if wanted.pending else wanted.amount,
        "held": wanted.amount if wanted.pending else 0,
    }
    try:
        # Outside a transaction the one statement is its own transaction (one round trip); inside a
        # caller's, a savepoint, so a refusal leaves the caller's transaction usable.
        if connection.in_atomic_block:
            with transaction.atomic():
                inserted, moved = _execute_one(params)
        else:
            inserted, moved = _execute_one(params)
    except IntegrityError as exc:
        raise _refusal(exc) from exc
    if not inserted:
        return _same_or_reused(Transfer.objects.get(pk=wanted.id), wanted)
    if moved != 2:  # the foreign keys make this impossible; never return a half-made transfer
        raise RuntimeError(f"ledger transfer {wanted.id} moved {moved} accounts, not 2")
    wanted._state.adding = False
    wanted._state.db = connection.alias
    return wanted


def _execute_one(params: dict) -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(_TRANSFER_SQL, params)
        return cursor.fetchone()


def _refusal(exc: IntegrityError) -> LedgerError | IntegrityError:
    """The LedgerError an IntegrityError means, by the constraint it names (PostgreSQL's diagnostics,
    SQLite's message)."""
    cause = exc.__cause__
    name = getattr(getattr(cause, "diag", None), "constraint_name", None) or str(exc)
    for constraint, (code, message) in _LIMITS.items():
        if constraint in name:
            return LedgerError(message, code=code, field="amount")
    if "debit_account" in name:
        return LedgerError(
            "There is no such debit account.", code="account_not_found", field="debit_account_id"
        )
    if "credit_account" in name:
        return LedgerError(
            "There is no such credit account.", code="account_not_found", field="credit_account_id"
        )
    if "FOREIGN KEY" in name:  # SQLite does not say which
        return LedgerError("There is no such account.", code="account_not_found", field="debit_account_id")
    return exc


def _transfer_create_orm(wanted: Transfer) -> Transfer:
    try:
        with transaction.atomic():
            existing = Transfer.objects.filter(pk=wanted.id).first()
            if existing is not None:
                return _same_or_reused(existing, wanted)
            accounts = _lock_accounts(wanted.debit_account_id, wanted.credit_account_id)
            debit, credit = accounts.get(wanted.debit_account_id), accounts.get(wanted.credit_account_id)
            if debit is None:
                raise LedgerError(
                    "There is no such debit account.", code="account_not_found", field="debit_account_id"
                )
            if credit is None:
                raise LedgerError(
                    "There is no such credit account.", code="account_not_found", field="credit_account_id"
                )
            # The CHECK constraints would refuse it too; saying so first keeps the message clear.
            if debit.debits_must_not_exceed_credits and (
                debit.debits_posted + debit.debits_pending + wanted.amount > debit.credits_posted
            ):
                code, message = _LIMITS["ledger_account_debits_within_credits"]
                raise LedgerError(message, code=code, field="amount")
            if credit.credits_must_not_exceed_debits and (
                credit.credits_posted + credit.credits_pending + wanted.amount > credit.debits_posted
            ):
                code, message = _LIMITS["ledger_account_credits_within_debits"]
                raise LedgerError(message, code=code, field="amount")
            wanted.save(force_insert=True)
            posted, held = (0, wanted.amount) if wanted.pending else (wanted.amount, 0)
            Account.objects.filter(pk=debit.pk).update(
                debits_posted=F("debits_posted") + posted, debits_pending=F("debits_pending") + held
            )
            Account.objects.filter(pk=credit.pk).update(
                credits_posted=F("credits_posted") + posted, credits_pending=F("credits_pending") + held
            )
            return wanted
    except IntegrityError as exc:
        refusal = _refusal(exc)
        if isinstance(refusal, LedgerError):
            raise refusal from exc
        # Another transaction made a transfer with this id between our look and our insert.
        existing = Transfer.objects.filter(pk=wanted.id).first()
        if existing is None:
            raise
        return _same_or_reused(existing, wanted)


def _lock_accounts(*account_ids: int) -> dict[int, Account]:
    """Both accounts, locked in id order: every writer takes them in that order, so none deadlocks."""
    rows = Account.objects.select_for_update(no_key=True).filter(pk__in=account_ids).order_by("pk")
    return {account.pk: account for account in rows}


_PAYLOAD = (
    "debit_account_id",
    "credit_account_id",
    "amount",
    "code",
    "reference",
    "pending",
    "kind",
    "pending_of_id",
)


def _same_or_reused(existing: Transfer, wanted: Transfer) -> Transfer:
    """The existing transfer when `wanted` is the same request again; `id_reused` when it is not."""
    same = all(getattr(existing, name) == getattr(wanted, name) for name in _PAYLOAD)
    if same and (existing.expires_at is None) == (wanted.expires_at is None):
        return existing
    raise LedgerError(
        "This transfer id was already used for a different transfer.", code="id_reused", field="id"
    )


def pending_post(*, id: uuid.UUID, pending_id: uuid.UUID, amount: int | None = None) -> Transfer:
    """Post a pending transfer (all of it, or `amount` up to it; the rest is released), once."""
    return _pending_resolve(id=id, pending_id=pending_id, kind=TransferKind.POST_PENDING, amount=amount)


def pending_void(*, id: uuid.UUID, pending_id: uuid.UUID) -> Transfer:
    """Release a pending transfer's hold, once."""
    return _pending_resolve(id=id, pending_id=pending_id, kind=TransferKind.VOID_PENDING)


def pending_expire_due(*, now: datetime.datetime | None = None) -> int:
    """Expire every pending transfer whose timeout has passed (the beat task `ledger-expire-pending`).

    Each in its own transaction; one posted or voided meanwhile is left alone. Returns how many expired.
    """
    now = now or timezone.now()
    expired = 0
    while True:
        due = list(
            Transfer.objects.filter(
                kind=TransferKind.PENDING, state=TransferState.PENDING, expires_at__lte=now
            )
            .order_by("expires_at")
            .values_list("pk", flat=True)[:500]
        )
        for pending_id in due:
            try:
                _pending_resolve(
                    id=transfer_id("expire", pending_id),
                    pending_id=pending_id,
                    kind=TransferKind.EXPIRE_PENDING,
                    now=now,
                )
            except LedgerError:
                continue  # posted or voided since we looked
            expired += 1
        if len(due) < 500:
            return expired


def _pending_resolve(
    *,
    id: uuid.UUID,
    pending_id: uuid.UUID,
    kind: str,
    amount: int | None = None,
    now: datetime.datetime | None = None,
) -> Transfer:
    _check_id(id)
    now = now or timezone.now()
    with transaction.atomic():
        pending = Transfer.objects.filter(pk=pending_id, kind=TransferKind.PENDING).first()
        if pending is None:
            raise LedgerError(
                "There is no pending transfer with this id.", code="pending_not_found", field="pending_id"
            )
        if amount is None:
            amount = pending.amount
        elif kind != TransferKind.POST_PENDING:
            raise LedgerError("Only a post names an amount.", code="invalid_amount", field="amount")
        else:
            _check_amount(amount)
            if amount > pending.amount:
                raise LedgerError(
                    "A post cannot be more than the pending amount.",
                    code="exceeds_pending_amount",
                    field="amount",
                )
        wanted = Transfer(
            id=id,
            debit_account_id=pending.debit_account_id,
            credit_account_id=pending.credit_account_id,
            amount=amount,
            code=pending.code,
            reference=pending.reference,
            pending=False,
            kind=kind,
            pending_of_id=pending.pk,
            state="",
            created_at=now,
        )
        existing = Transfer.objects.filter(pk=id).first()
        if existing is not None:
            return _same_or_reused(existing, wanted)
        # The accounts first, as every transfer does; every resolution of this pending transfer takes
        # the same locks, so its state read below cannot change before we commit.
        _lock_accounts(pending.debit_account_id, pending.credit_account_id)
        state = Transfer.objects.filter(pk=pending.pk).values_list("state", flat=True).get()
        if state != TransferState.PENDING:
            existing = Transfer.objects.filter(pk=id).first()  # the same request, made while we waited
            if existing is not None:
                return _same_or_reused(existing, wanted)
            code, message = _REFUSAL[state]
            raise LedgerError(message, code=code, field="pending_id")
        if pending.expires_at is not None and pending.expires_at <= now:
            if kind != TransferKind.EXPIRE_PENDING:
                code, message = _REFUSAL[TransferState.EXPIRED]
                raise LedgerError(message, code=code, field="pending_id")
        elif kind == TransferKind.EXPIRE_PENDING:
            raise LedgerError(
                "This pending transfer has not expired yet.", code="not_expired", field="pending_id"
            )
        changed = Transfer.objects.filter(pk=pending.pk, state=TransferState.PENDING).update(
            state=_RESOLVED_STATE[kind]
        )
        if changed != 1:  # impossible under the locks; never resolve twice
            raise RuntimeError(f"pending transfer {pending.pk} changed under its account locks")
        try:
            with transaction.atomic():
                wanted.save(force_insert=True)
        except IntegrityError as exc:
            raise LedgerError(
                "This transfer id was already used for a different transfer.", code="id_reused", field="id"
            ) from exc
        posted = amount if kind == TransferKind.POST_PENDING else 0
        Account.objects.filter(pk=pending.debit_account_id).update(
            debits_pending=F("debits_pending") - pending.amount, debits_posted=F("debits_posted") + posted
        )
        Account.objects.filter(pk=pending.credit_account_id).update(
            credits_pending=F("credits_pending") - pending.amount, credits_posted=F("credits_posted") + posted
        )
        return wanted
