"""The back office lists, searches and inspects ledger accounts and transfers, read-only."""

from __future__ import annotations

import uuid

import pytest

from ledger import services
from tests.ledger.factories import SupplierPayableFactory, WalletFactory, allocate
from tests.organisations.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    client.force_login(UserFactory(email="admin@marketplace.example", is_staff=True, is_superuser=True))


@pytest.fixture
def ledger_rows():
    wallet, supplier = WalletFactory(code="wallet:budget:17"), SupplierPayableFactory()
    allocate(wallet, 10_000)
    spent = services.transfer_create(
        id=uuid.uuid4(),
        debit_account_id=wallet.pk,
        credit_account_id=supplier.pk,
        amount=2_500,
        code="purchase",
        reference="order:RR8-PO-000123",
    )
    return wallet, spent


def test_accounts_are_listed_searched_and_inspected_but_never_added_or_changed(client, staff, ledger_rows):
    wallet, _ = ledger_rows
    page = client.get("/cms/ledger/accounts/?q=budget:17").content.decode()
    assert "wallet:budget:17" in page
    inspect = client.get(f"/cms/ledger/accounts/inspect/{wallet.pk}/")
    assert inspect.status_code == 200 and "10000" in inspect.content.decode().replace(",", "")
    assert client.get("/cms/ledger/accounts/new/").status_code in {302, 403}
    assert client.get(f"/cms/ledger/accounts/edit/{wallet.pk}/").status_code in {302, 403}
    assert client.get(f"/cms/ledger/accounts/delete/{wallet.pk}/").status_code in {302, 403}


def test_transfers_are_listed_by_reference_and_inspected_but_never_changed(
    client, staff, ledger_rows, django_assert_max_num_queries
):
    wallet, spent = ledger_rows
    for n in range(5):  # more rows must not mean more queries
        services.transfer_create(
            id=uuid.uuid4(),
            debit_account_id=wallet.pk,
            credit_account_id=SupplierPayableFactory().pk,
            amount=100,
            code="purchase",
            reference=f"order:RR8-PO-00012{n}",
        )
    with django_assert_max_num_queries(20):
        page = client.get("/cms/ledger/transfers/?q=RR8-PO-00012")
    assert page.status_code == 200 and page.content.decode().count("wallet:budget:17") >= 6
    inspect = client.get(f"/cms/ledger/transfers/inspect/{spent.pk}/")
    assert inspect.status_code == 200 and "order:RR8-PO-000123" in inspect.content.decode()
    assert client.get("/cms/ledger/transfers/new/").status_code in {302, 403}
    assert client.get(f"/cms/ledger/transfers/edit/{spent.pk}/").status_code in {302, 403}
    assert client.get(f"/cms/ledger/transfers/delete/{spent.pk}/").status_code in {302, 403}
