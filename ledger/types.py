"""The ledger's value types, handed to other apps by `ledger.selectors`."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class Balance:
    """An account's totals in pence. Read credit-normal: a wallet's money is its credits."""

    debits_posted: int
    credits_posted: int
    debits_pending: int
    credits_pending: int

    @property
    def posted(self) -> int:
        return self.credits_posted - self.debits_posted

    @property
    def available(self) -> int:
        """What may still be spent: posted, less what pending transfers hold."""
        return self.credits_posted - self.debits_posted - self.debits_pending


@dataclass(frozen=True)
class StatementLine:
    """One posted transfer touching an account, with the account's balance after it."""

    transfer_id: uuid.UUID
    created_at: datetime.datetime
    code: str
    reference: str
    amount_signed: int  # + credited to the account, - debited from it
    balance: int  # running, credit-normal
    kind: str
    counterparty_account_id: int
