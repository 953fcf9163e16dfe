"""A commissioner funds a wallet and the patient spends from it: every penny moves once, or not at all."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.db import transaction

from ledger import selectors, services
from ledger.models import Account, Transfer
from ledger.services import LedgerError
from tests.ledger.factories import FundingFactory, SupplierPayableFactory, WalletFactory, allocate

pytestmark = pytest.mark.django_db


def buy(wallet: Account, supplier: Account, amount: int, *, id: uuid.UUID | None = None, **extra) -> Transfer:
    return services.transfer_create(
        id=id or uuid.uuid4(),
        debit_account_id=wallet.pk,
        credit_account_id=supplier.pk,
        amount=amount,
        code="purchase",
        **extra,
    )


def test_an_allocation_moves_money_from_the_commissioner_into_the_wallet():
    funding, wallet = FundingFactory(), WalletFactory()
    transfer = allocate(wallet, 50_000, funding=funding)
    assert Transfer.objects.get(pk=transfer.pk).amount == 50_000
    assert selectors.balance(wallet.pk).posted == 50_000
    assert selectors.balance(wallet.pk).available == 50_000
    assert selectors.balance(funding.pk).posted == -50_000
    assert selectors.invariants_check() == []


def test_the_same_id_with_the_same_payload_is_the_same_transfer_and_moves_nothing_again():
    wallet, supplier = WalletFactory(), SupplierPayableFactory()
    allocate(wallet, 10_000)
    key = services.transfer_id("purchase", 42)
    first = buy(wallet, supplier, 2_500, id=key, reference="order:RR8-PO-000042")
    again = buy(wallet, supplier, 2_500, id=key, reference="order:RR8-PO-000042")
    assert again.pk == first.pk == key
    assert Transfer.objects.filter(pk=key).count() == 1
    assert selectors.balance(wallet.pk).posted == 7_500
    assert selectors.balance(supplier.pk).posted == 2_500


@pytest.mark.parametrize(
    "change",
    [{"amount": 2_600}, {"reference": "order:another"}, {"code": "refund"}, {"pending": True}],
)
def test_the_same_id_with_another_payload_is_refused_and_moves_nothing(change):
    wallet, supplier = WalletFactory(), SupplierPayableFactory()
    allocate(wallet, 10_000)
    key = uuid.uuid4()
    payload = {"id": key, "debit_account_id": wallet.pk, "credit_account_id": supplier.pk, "amount": 2_500}
    services.transfer_create(**payload, code="purchase", reference="order:1")
    with pytest.raises(LedgerError) as refused:
        services.transfer_create(**{**payload, "code": "purchase", "reference": "order:1", **change})
    assert (refused.value.code, refused.value.field) == ("id_reused", "id")
    assert selectors.balance(wallet.pk).posted == 7_500


def test_a_purchase_larger_than_the_balance_is_refused_and_nothing_moves():
    wallet, supplier = WalletFactory(), SupplierPayableFactory()
    allocate(wallet, 1_000)
    with pytest.raises(LedgerError) as refused:
        buy(wallet, supplier, 1_001)
    assert (refused.value.code, refused.value.field) == ("insufficient_funds", "amount")
    assert selectors.balance(wallet.pk).posted == 1_000
    assert selectors.balance(supplier.pk).posted == 0
    assert Transfer.objects.filter(debit_account=wallet).count() == 0
    buy(wallet, supplier, 1_000)  # exactly the balance is fine
    assert selectors.balance(wallet.pk).posted == 0


def test_a_refusal_inside_a_callers_transaction_leaves_that_transaction_usable():
    wallet, supplier = WalletFactory(), SupplierPayableFactory()
    allocate(wallet, 1_000)
    with transaction.atomic():
        with pytest.raises(LedgerError):
            buy(wallet, supplier, 5_000)
        buy(wallet, supplier, 400)
    assert selectors.balance(wallet.pk).posted == 600


def test_money_held_by_a_pending_purchase_cannot_be_spent_twice():
    wallet, supplier = WalletFactory(), SupplierPayableFactory()
    allocate(wallet, 1_000)
    buy(wallet, supplier, 700, pending=True)
    assert selectors.balance(wallet.pk).available == 300
    with pytest.raises(LedgerError) as refused:
        buy(wallet, supplier, 301)
    assert refused.value.code == "insufficient_funds"


@pytest.mark.parametrize("amount", [0, -5, 10.5, True, "100"])
def test_zero_negative_or_non_integer_amounts_are_refused(amount):
    wallet, supplier = WalletFactory(), SupplierPayableFactory()
    allocate(wallet, 1_000)
    with pytest.raises(LedgerError) as refused:
        buy(wallet, supplier, amount)
    assert (refused.value.code, refused.value.field) == ("invalid_amount", "amount")
    assert Transfer.objects.filter(debit_account=wallet).count() == 0


def test_a_transfer_needs_two_different_accounts_that_exist():
    wallet = WalletFactory()
    allocate(wallet, 1_000)
    with pytest.raises(LedgerError) as same:
        buy(wallet, wallet, 10)
    assert (same.value.code, same.value.field) == ("same_account", "credit_account_id")
    with pytest.raises(LedgerError) as missing:
        buy(wallet, Account(pk=wallet.pk + 1000), 10)
    assert missing.value.code == "account_not_found"
    assert selectors.balance(wallet.pk).posted == 1_000


def test_a_timeout_belongs_only_to_a_pending_transfer():
    wallet, supplier = WalletFactory(), SupplierPayableFactory()
    allocate(wallet, 1_000)
    with pytest.raises(LedgerError) as refused:
        buy(wallet, supplier, 10, timeout=datetime.timedelta(minutes=5))
    assert refused.value.field == "timeout"


def test_an_account_is_opened_once_by_its_code():
    first = services.account_open(
        code="wallet:budget:7", kind="wallet", name="A", debits_must_not_exceed_credits=True
    )
    again = services.account_open(
        code="wallet:budget:7", kind="wallet", name="A", debits_must_not_exceed_credits=True
    )
    assert again.pk == first.pk and Account.objects.filter(code="wallet:budget:7").count() == 1
    with pytest.raises(LedgerError) as refused:
        services.account_open(code="wallet:budget:7", kind="funding", name="A")
    assert (refused.value.code, refused.value.field) == ("account_code_reused", "code")


def test_derived_ids_are_stable_and_distinct():
    assert services.transfer_id("purchase", 1) == services.transfer_id("purchase", 1)
    assert services.transfer_id("purchase", 1) != services.transfer_id("refund", 1)
    assert services.transfer_id("purchase", 1, 2) != services.transfer_id("purchase", 12)


@pytest.mark.django_db(transaction=True)
def test_outside_any_transaction_each_transfer_commits_on_its_own_and_refusals_write_nothing():
    wallet, supplier = WalletFactory(), SupplierPayableFactory()
    allocate(wallet, 1_000)
    key = uuid.uuid4()
    buy(wallet, supplier, 400, id=key)
    assert buy(wallet, supplier, 400, id=key).pk == key
    with pytest.raises(LedgerError) as poor:
        buy(wallet, supplier, 601)
    assert poor.value.code == "insufficient_funds"
    with pytest.raises(LedgerError) as missing:
        buy(wallet, Account(pk=supplier.pk + 1000), 10)
    assert (missing.value.code, missing.value.field) == ("account_not_found", "credit_account_id")
    assert Transfer.objects.filter(debit_account=wallet).count() == 1
    assert selectors.balance(wallet.pk).posted == 600
    assert selectors.invariants_check() == []
