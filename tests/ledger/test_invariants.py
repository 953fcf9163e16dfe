"""The ledger checks itself: statements add up, a tampered balance is found, transfers cannot be changed."""

from __future__ import annotations

import datetime
import io
import uuid

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from ledger import selectors, services
from ledger.models import Account, Transfer, TransferState
from tests.ledger.factories import FundingFactory, SupplierPayableFactory, WalletFactory, allocate

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the immutable-transfer trigger is PostgreSQL's (migration 0001)",
)


def spend(wallet: Account, supplier: Account, amount: int, **extra) -> Transfer:
    return services.transfer_create(
        id=uuid.uuid4(),
        debit_account_id=wallet.pk,
        credit_account_id=supplier.pk,
        amount=amount,
        code="purchase",
        **extra,
    )


def test_a_statement_lists_posted_transfers_with_a_running_balance_that_matches_the_ledger():
    funding, wallet, supplier = FundingFactory(), WalletFactory(), SupplierPayableFactory()
    allocate(wallet, 10_000, funding=funding)
    spend(wallet, supplier, 2_500, reference="order:1")
    held = spend(wallet, supplier, 1_000, pending=True, reference="order:2")
    services.pending_post(id=uuid.uuid4(), pending_id=held.pk, amount=800)
    spend(wallet, supplier, 300, pending=True, reference="order:3")  # still held: not on the statement
    services.transfer_create(
        id=uuid.uuid4(), debit_account_id=supplier.pk, credit_account_id=wallet.pk, amount=500, code="refund"
    )
    lines = selectors.account_statement(wallet.pk)
    assert [(line.code, line.amount_signed, line.balance) for line in lines] == [
        ("allocation", 10_000, 10_000),
        ("purchase", -2_500, 7_500),
        ("purchase", -800, 6_700),
        ("refund", 500, 7_200),
    ]
    assert lines[-1].balance == selectors.balance(wallet.pk).posted
    assert [hold.reference for hold in selectors.account_holds(wallet.pk)] == ["order:3"]
    assert selectors.balance(wallet.pk).available == 6_900


def test_a_statement_from_a_date_carries_the_earlier_balance_in():
    wallet, supplier = WalletFactory(), SupplierPayableFactory()
    allocate(wallet, 5_000)
    first = spend(wallet, supplier, 1_000)
    second = spend(wallet, supplier, 700)
    lines = selectors.account_statement(wallet.pk, since=second.created_at)
    assert [(line.transfer_id, line.balance) for line in lines] == [(second.pk, 3_300)]
    lines = selectors.account_statement(wallet.pk, until=second.created_at)
    assert [line.transfer_id for line in lines][-1] == first.pk
    later = second.created_at + datetime.timedelta(seconds=1)
    assert selectors.account_statement(wallet.pk, since=later) == []


def test_a_sound_ledger_has_no_problems_and_the_command_says_so():
    wallet, supplier = WalletFactory(), SupplierPayableFactory()
    allocate(wallet, 5_000)
    spend(wallet, supplier, 1_000)
    held = spend(wallet, supplier, 1_000, pending=True)
    services.pending_void(id=uuid.uuid4(), pending_id=held.pk)
    assert selectors.invariants_check() == []
    out = io.StringIO()
    call_command("ledger_check", stdout=out)
    assert out.getvalue().strip() == "The ledger is consistent: 3 accounts, 4 transfers checked."


def test_a_tampered_balance_is_found_and_the_command_fails():
    wallet, supplier = WalletFactory(), SupplierPayableFactory()
    allocate(wallet, 5_000)
    spend(wallet, supplier, 1_000)
    # Someone edits a balance behind the services' back.
    Account.objects.filter(pk=wallet.pk).update(credits_posted=6_000)
    problems = selectors.invariants_check()
    assert (
        f"Account {wallet.pk} ({wallet.code}): credits_posted is 6000p, its transfers sum to 5000p."
        in problems
    )
    assert "Posted balances do not sum to zero: debits 6000p, credits 7000p." in problems
    err = io.StringIO()
    with pytest.raises(CommandError, match="The ledger has 2 problems"):
        call_command("ledger_check", stderr=err)
    assert wallet.code in err.getvalue()


def test_a_pending_transfer_marked_resolved_without_its_resolution_is_found():
    wallet, supplier = WalletFactory(), SupplierPayableFactory()
    allocate(wallet, 5_000)
    held = spend(wallet, supplier, 1_000, pending=True)
    # The trigger lets a pending transfer's state change (that is how the services resolve it).
    Transfer.objects.filter(pk=held.pk).update(state=TransferState.POSTED)
    problems = selectors.invariants_check()
    unresolved = (
        f"Pending transfer {held.pk} is 'posted' with 0 resolution(s), 0 matching its state and amount"
    )
    unresolved += "."
    assert unresolved in problems
    assert any("debits_pending is 1000p, its transfers sum to 0p" in p for p in problems)


def test_the_database_refuses_a_wallet_below_zero_even_behind_the_services_back():
    wallet = WalletFactory()
    allocate(wallet, 100)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=wallet.pk).update(debits_posted=101)


@on_postgresql
def test_the_database_refuses_to_delete_or_change_a_transfer():
    wallet, supplier = WalletFactory(), SupplierPayableFactory()
    allocate(wallet, 5_000)
    done = spend(wallet, supplier, 1_000)
    held = spend(wallet, supplier, 500, pending=True)
    with pytest.raises(IntegrityError, match="never deleted"), transaction.atomic():
        Transfer.objects.filter(pk=done.pk).delete()
    with pytest.raises(IntegrityError, match="never changed"), transaction.atomic():
        Transfer.objects.filter(pk=done.pk).update(amount=1)
    with pytest.raises(IntegrityError, match="never changed"), transaction.atomic():
        Transfer.objects.filter(pk=held.pk).update(amount=1, state=TransferState.VOIDED)
    services.pending_void(id=uuid.uuid4(), pending_id=held.pk)
    with pytest.raises(IntegrityError, match="never changed"), transaction.atomic():
        Transfer.objects.filter(pk=held.pk).update(state=TransferState.PENDING)
    assert Transfer.objects.get(pk=done.pk).amount == 1_000
    assert selectors.invariants_check() == []
