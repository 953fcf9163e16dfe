"""Ledger accounts for tests, opened through `ledger.services` (the only writer of ledger rows)."""

from __future__ import annotations

import uuid

import factory

from ledger import services
from ledger.models import Account, AccountKind, Transfer


class AccountFactory(factory.Factory):
    class Meta:
        model = Account

    code = factory.Sequence(lambda n: f"other:{n}")
    kind = AccountKind.OTHER
    name = factory.LazyAttribute(lambda account: f"Account {account.code}")
    debits_must_not_exceed_credits = False
    credits_must_not_exceed_debits = False

    @classmethod
    def _create(cls, model_class, **kwargs) -> Account:
        return services.account_open(**kwargs)


class FundingFactory(AccountFactory):
    code = factory.Sequence(lambda n: f"funding:icb:{n}")
    kind = AccountKind.FUNDING


class WalletFactory(AccountFactory):
    """A wallet: never below zero."""

    code = factory.Sequence(lambda n: f"wallet:budget:{n}")
    kind = AccountKind.WALLET
    debits_must_not_exceed_credits = True


class SupplierPayableFactory(AccountFactory):
    code = factory.Sequence(lambda n: f"supplier_payable:{n}")
    kind = AccountKind.SUPPLIER_PAYABLE


def allocate(wallet: Account, amount: int, *, funding: Account | None = None) -> Transfer:
    """The commissioner puts `amount` pence into the wallet."""
    funding = funding or FundingFactory()
    return services.transfer_create(
        id=uuid.uuid4(),
        debit_account_id=funding.pk,
        credit_account_id=wallet.pk,
        amount=amount,
        code="allocation",
    )
