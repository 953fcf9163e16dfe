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

import psycopg
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
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
    wanted = {
        "id": id,
        "debit_account_id": debit_account_id,
        "credit_account_id": credit_account_id,
        "amount": amount,
        "code": code,
        "pending": pending,
        "pending_of_id": None,
        "kind": TransferKind.PENDING if pending else TransferKind.SINGLE,
        "expires_at": now + timeout if timeout is not None else None,
        "state": TransferState.PENDING if pending else "",
        "reference": reference,
        "created_at": now,
    }
    conn = connections[DEFAULT_DB_ALIAS]  # looked up once: each lookup goes through a thread-local
    if conn.vendor == "postgresql":
        return _transfer_create_sql(conn, wanted)
    return _transfer_create_orm(wanted)


_FIELDS = tuple(field.attname for field in Transfer._meta.concrete_fields)


def _transfer(values: dict, *, saved: bool) -> Transfer:
    """A Transfer from its values, built positionally (Django's quicker path: this is per transfer)."""
    transfer = Transfer(*(values[name] for name in _FIELDS))
    if saved:
        transfer._state.adding = False
        transfer._state.db = DEFAULT_DB_ALIAS
    return transfer


# One statement: the transfer inserted unless its id exists; only if it was, both accounts locked in
# id order and their totals moved. A replayed id inserts nothing, so locks and moves nothing.
_TRANSFER_SQL = """
WITH inserted AS (
    INSERT INTO ledger_transfer (id, debit_account_id, credit_account_id, amount, code, pending,
                                 pending_of_id, kind, expires_at, state, reference, created_at)
    VALUES (%(id)s, %(debit_account_id)s, %(credit_account_id)s, %(amount)s, %(code)s, %(pending)s,
            NULL, %(kind)s, %(expires_at)s, %(state)s, %(reference)s, %(created_at)s)
    ON CONFLICT (id) DO NOTHING
    RETURNING id
), locked AS (
    SELECT a.id FROM ledger_account a
    WHERE a.id IN (%(debit_account_id)s, %(credit_account_id)s) AND EXISTS (SELECT FROM inserted)
    ORDER BY a.id
    FOR NO KEY UPDATE
), moved AS (
    UPDATE ledger_account a SET
        debits_posted = a.debits_posted
            + CASE WHEN a.id = %(debit_account_id)s THEN %(posted)s ELSE 0 END,
        credits_posted = a.credits_posted
            + CASE WHEN a.id = %(credit_account_id)s THEN %(posted)s ELSE 0 END,
        debits_pending = a.debits_pending
            + CASE WHEN a.id = %(debit_account_id)s THEN %(held)s ELSE 0 END,
        credits_pending = a.credits_pending
            + CASE WHEN a.id = %(credit_account_id)s THEN %(held)s ELSE 0 END
    FROM locked WHERE a.id = locked.id
    RETURNING a.id
)
SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM moved)
"""


def _transfer_create_sql(conn, wanted: dict) -> Transfer:
    params = {
        **wanted,
        "posted": 0 if wanted["pending"] else wanted["amount"],
        "held": wanted["amount"] if wanted["pending"] else 0,
    }
    try:
        # Outside a transaction the one statement is its own transaction (one round trip; a missing
        # account fails its deferred foreign key at that commit); inside a caller's, a savepoint, so
        # a refusal leaves the caller's transaction usable.
        if conn.in_atomic_block:
            with transaction.atomic():
                inserted, moved = _execute_one(conn, params)
                if inserted and moved != 2:
                    raise _AccountMissing
        else:
            inserted, moved = _execute_one(conn, params)
    except IntegrityError as exc:
        raise _refusal(exc) from exc
    except _AccountMissing:
        debit_exists = Account.objects.filter(pk=wanted["debit_account_id"]).exists()
        field = "credit_account_id" if debit_exists else "debit_account_id"
        raise LedgerError("There is no such account.", code="account_not_found", field=field) from None
    if not inserted:
        return _same_or_reused(_existing_sql(conn, wanted["id"]), wanted)
    return _transfer(wanted, saved=True)


class _AccountMissing(Exception):
    """The statement found fewer than two accounts to move (its savepoint is rolled back)."""


def _execute_one(conn, params: dict) -> tuple[int, int]:
    """The transfer statement, prepared once per connection on the server.

    Django binds parameters on the client and never prepares, so PostgreSQL would parse and plan
    the four-part statement on every transfer; a server-binding psycopg cursor on the same
    connection (same transaction) with `prepare=True` plans it once. The cursor is kept on Django's
    connection (one per thread) for as long as its driver connection lives: on a busy machine the
    Python spent per transfer is what limits the rate (docs/ledger.md, "Speed").
    """
    cursor = _server_cursor(conn)
    # Django's own translation of driver errors (a CHECK violation becomes its IntegrityError).
    with conn.wrap_database_errors:
        cursor.execute(_TRANSFER_SQL, params, prepare=True)
        return cursor.fetchone()


def _server_cursor(conn) -> psycopg.Cursor:
    raw = conn.connection
    if raw is None or raw.closed:
        conn.ensure_connection()
        raw = conn.connection
    kept = getattr(conn, "_ledger_cursor", None)
    if kept is None or kept.connection is not raw or kept.closed:
        # Django opens psycopg connections with prepared statements off (`prepare_threshold` None,
        # for poolers), and then psycopg ignores `prepare=True`. Unless the settings chose a
        # threshold themselves, only statements that ask are prepared: Django's own cursors bind on
        # the client and never prepare.
        if "prepare_threshold" not in conn.settings_dict.get("OPTIONS", {}):
            raw.prepare_threshold = _ONLY_WHEN_ASKED
        kept = conn._ledger_cursor = psycopg.Cursor(raw)
    return kept


_ONLY_WHEN_ASKED = 2**31  # executions before psycopg prepares a statement on its own: never


_SELECT_TRANSFER_SQL = f"SELECT {', '.join(_FIELDS)} FROM ledger_transfer WHERE id = %s"  # noqa: S608 - the model's columns


def _existing_sql(conn, transfer_id: uuid.UUID) -> Transfer:
    """The transfer with this id, read on the same cursor (a replay's path: no ORM query to build)."""
    cursor = _server_cursor(conn)
    with conn.wrap_database_errors:
        cursor.execute(_SELECT_TRANSFER_SQL, [transfer_id], prepare=True)
        row = cursor.fetchone()
    return _transfer(dict(zip(_FIELDS, row, strict=True)), saved=True)


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


def _transfer_create_orm(wanted: dict) -> Transfer:
    try:
        with transaction.atomic():
            existing = Transfer.objects.filter(pk=wanted["id"]).first()
            if existing is not None:
                return _same_or_reused(existing, wanted)
            accounts = _lock_accounts(wanted["debit_account_id"], wanted["credit_account_id"])
            debit, credit = (
                accounts.get(wanted["debit_account_id"]),
                accounts.get(wanted["credit_account_id"]),
            )
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
                debit.debits_posted + debit.debits_pending + wanted["amount"] > debit.credits_posted
            ):
                code, message = _LIMITS["ledger_account_debits_within_credits"]
                raise LedgerError(message, code=code, field="amount")
            if credit.credits_must_not_exceed_debits and (
                credit.credits_posted + credit.credits_pending + wanted["amount"] > credit.debits_posted
            ):
                code, message = _LIMITS["ledger_account_credits_within_debits"]
                raise LedgerError(message, code=code, field="amount")
            transfer = _transfer(wanted, saved=False)
            transfer.save(force_insert=True)
            posted, held = (0, wanted["amount"]) if wanted["pending"] else (wanted["amount"], 0)
            Account.objects.filter(pk=debit.pk).update(
                debits_posted=F("debits_posted") + posted, debits_pending=F("debits_pending") + held
            )
            Account.objects.filter(pk=credit.pk).update(
                credits_posted=F("credits_posted") + posted, credits_pending=F("credits_pending") + held
            )
            return transfer
    except IntegrityError as exc:
        refusal = _refusal(exc)
        if isinstance(refusal, LedgerError):
            raise refusal from exc
        # Another transaction made a transfer with this id between our look and our insert.
        existing = Transfer.objects.filter(pk=wanted["id"]).first()
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


def _same_or_reused(existing: Transfer, wanted: dict) -> Transfer:
    """The existing transfer when `wanted` is the same request again; `id_reused` when it is not."""
    same = all(getattr(existing, name) == wanted[name] for name in _PAYLOAD)
    if same and (existing.expires_at is None) == (wanted["expires_at"] is None):
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
    batch = 500
    while True:
        before = expired
        due = list(
            Transfer.objects.filter(
                kind=TransferKind.PENDING, state=TransferState.PENDING, expires_at__lte=now
            )
            .order_by("expires_at")
            .values_list("pk", flat=True)[:batch]
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
        # A short batch was the last; a batch where nothing expired would only come back the same.
        if len(due) < batch or expired == before:
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
        wanted = {
            "id": id,
            "debit_account_id": pending.debit_account_id,
            "credit_account_id": pending.credit_account_id,
            "amount": amount,
            "code": pending.code,
            "pending": False,
            "pending_of_id": pending.pk,
            "kind": kind,
            "expires_at": None,
            "state": "",
            "reference": pending.reference,
            "created_at": now,
        }
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
        resolution = _transfer(wanted, saved=False)
        try:
            with transaction.atomic():
                resolution.save(force_insert=True)
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
        return resolution
