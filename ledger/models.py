"""The ledger's data: accounts and transfers (TigerBeetle's model; docs/ledger.md).

The database enforces what it can: balances never negative, a wallet never below zero (a CHECK, not
only Python), positive amounts, two different accounts, a pending transfer resolved at most once (a
unique index on `pending_of`), and on PostgreSQL a trigger refuses any DELETE of a transfer and any
UPDATE but a pending transfer's state leaving `pending` (migration 0001). Only `ledger.services`
writes these rows.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class AccountKind(models.TextChoices):
    FUNDING = "funding", "Funding"
    WALLET = "wallet", "Wallet"
    SUPPLIER_PAYABLE = "supplier_payable", "Supplier payable"
    CARD_CLEARING = "card_clearing", "Card clearing"
    REFUNDS = "refunds", "Refunds"
    OTHER = "other", "Other"


class Account(models.Model):
    """An account's running totals in pence, kept in the transaction of every transfer touching it.

    Balances are credit-normal for reading (`ledger.types.Balance.posted` = credits - debits): a
    wallet credited with an allocation holds a positive balance; a funding account runs negative.
    """

    id = models.BigAutoField(primary_key=True)
    code = models.CharField(
        max_length=120, unique=True, help_text='What the account is, e.g. "wallet:budget:17".'
    )
    kind = models.CharField(max_length=20, choices=AccountKind.choices)
    name = models.CharField(max_length=200)
    debits_must_not_exceed_credits = models.BooleanField(
        default=False, help_text="A wallet: its debits (posted and pending) never exceed its posted credits."
    )
    credits_must_not_exceed_debits = models.BooleanField(default=False)
    debits_posted = models.BigIntegerField(default=0)
    credits_posted = models.BigIntegerField(default=0)
    debits_pending = models.BigIntegerField(default=0)
    credits_pending = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                name="ledger_account_totals_not_negative",
                condition=Q(debits_posted__gte=0)
                & Q(credits_posted__gte=0)
                & Q(debits_pending__gte=0)
                & Q(credits_pending__gte=0),
            ),
            # The services map these two names to LedgerError codes (insufficient_funds, exceeds_debits).
            models.CheckConstraint(
                name="ledger_account_debits_within_credits",
                condition=Q(debits_must_not_exceed_credits=False)
                | Q(credits_posted__gte=F("debits_posted") + F("debits_pending")),
            ),
            models.CheckConstraint(
                name="ledger_account_credits_within_debits",
                condition=Q(credits_must_not_exceed_debits=False)
                | Q(debits_posted__gte=F("credits_posted") + F("credits_pending")),
            ),
            models.CheckConstraint(
                name="ledger_account_one_limit",
                condition=~Q(debits_must_not_exceed_credits=True, credits_must_not_exceed_debits=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class TransferKind(models.TextChoices):
    SINGLE = "single", "Single"
    PENDING = "pending", "Pending"
    POST_PENDING = "post_pending", "Post pending"
    VOID_PENDING = "void_pending", "Void pending"
    EXPIRE_PENDING = "expire_pending", "Expire pending"


RESOLUTION_KINDS = (TransferKind.POST_PENDING, TransferKind.VOID_PENDING, TransferKind.EXPIRE_PENDING)
# The kinds whose amount is posted (the others only hold or release a hold).
POSTED_KINDS = (TransferKind.SINGLE, TransferKind.POST_PENDING)


class TransferState(models.TextChoices):
    PENDING = "pending", "Pending"
    POSTED = "posted", "Posted"
    VOIDED = "voided", "Voided"
    EXPIRED = "expired", "Expired"


class Transfer(models.Model):
    """Money moved (or held) from one account to another; never changed, never deleted.

    `id` is the idempotency key: the same id with the same payload is the same transfer, with
    another payload an error. A pending transfer holds its amount (debits_pending, credits_pending)
    until a later transfer posts, voids or expires it (`pending_of`); only its `state` ever changes,
    once. A correction is a new transfer.
    """

    id = models.UUIDField(primary_key=True)
    debit_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="debits")
    credit_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="credits")
    amount = models.BigIntegerField(help_text="Pence.")
    code = models.CharField(max_length=40, help_text='Why: "allocation", "purchase", "refund", "top_up"...')
    pending = models.BooleanField(default=False)
    pending_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="resolutions"
    )
    kind = models.CharField(max_length=20, choices=TransferKind.choices, default=TransferKind.SINGLE)
    expires_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=TransferState.choices, blank=True, default="")
    reference = models.CharField(
        max_length=200, blank=True, default="", help_text='e.g. "order:RR8-PO-000123".'
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["debit_account", "created_at"], name="ledger_transfer_debit_time"),
            models.Index(fields=["credit_account", "created_at"], name="ledger_transfer_credit_time"),
            models.Index(
                fields=["expires_at"],
                name="ledger_transfer_holds_due",
                condition=Q(state=TransferState.PENDING),
            ),
            models.Index(fields=["reference"], name="ledger_transfer_reference"),
        ]
        constraints = [
            models.CheckConstraint(name="ledger_transfer_amount_positive", condition=Q(amount__gt=0)),
            models.CheckConstraint(
                name="ledger_transfer_two_accounts", condition=~Q(debit_account=F("credit_account"))
            ),
            # Exactly the pending kind has a state; only resolutions name a pending transfer.
            models.CheckConstraint(
                name="ledger_transfer_state_of_pending",
                condition=(Q(kind=TransferKind.PENDING, pending=True) & ~Q(state=""))
                | (~Q(kind=TransferKind.PENDING) & Q(pending=False, state="")),
            ),
            models.CheckConstraint(
                name="ledger_transfer_resolution_names_pending",
                condition=Q(kind__in=RESOLUTION_KINDS, pending_of__isnull=False)
                | (~Q(kind__in=RESOLUTION_KINDS) & Q(pending_of__isnull=True)),
            ),
            # A pending transfer is posted, voided or expired at most once.
            models.UniqueConstraint(
                fields=["pending_of"],
                name="ledger_transfer_resolved_once",
                condition=Q(pending_of__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}p {self.debit_account_id}->{self.credit_account_id} ({self.id})"
