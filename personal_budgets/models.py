"""Personal health budgets: a patient's budget and its ledger wallet, the commissioner's allocations
into it, the support plan (versioned) that limits what it buys, and the money each patient order
holds, pays or gives back.

Money moves only in the ledger (`ledger.services`, integer pence); these rows say why. Amounts here
are pounds (`common.money.money_field`). Rows change only through `personal_budgets.services`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from catalogue.models import Category, Product
from common.money import money_field
from ledger.models import Account
from organisations.models import Organisation, OrganisationKind, PatientProfile
from purchasing.models import PurchaseOrder

COMMISSIONERS = {"kind": OrganisationKind.COMMISSIONER}


class BudgetKind(models.TextChoices):
    NOTIONAL = "notional", "Notional budget (the ICB holds the money and buys for you)"
    THIRD_PARTY = "third_party", "Third-party budget (an organisation holds it for you)"
    DIRECT_PAYMENT = "direct_payment", "Direct payment (you hold the money)"


class Budget(models.Model):
    """A patient's personal health budget from their commissioner for a period (e.g. five years for a
    personal wheelchair budget), with its wallet in the ledger (never below zero: the ledger's CHECK)."""

    patient = models.ForeignKey(PatientProfile, on_delete=models.PROTECT, related_name="budgets")
    commissioner = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="budgets", limit_choices_to=COMMISSIONERS
    )
    name = models.CharField(max_length=120, help_text="e.g. Personal wheelchair budget")
    kind = models.CharField(max_length=20, choices=BudgetKind.choices, default=BudgetKind.NOTIONAL)
    amount = money_field(help_text="What the budget is for the whole period, in pounds.")
    period_start = models.DateField()
    period_end = models.DateField()
    wallet = models.OneToOneField(Account, on_delete=models.PROTECT, related_name="budget")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    request_key = models.CharField(
        max_length=100, blank=True, help_text="The page's request key: a second press makes nothing new."
    )

    class Meta:
        ordering = ["patient__user__full_name", "period_start", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["commissioner", "request_key"],
                condition=~Q(request_key=""),
                name="budget_unique_request_key",
            ),
            models.CheckConstraint(name="budget_amount_positive", condition=Q(amount__gt=0)),
            models.CheckConstraint(
                name="budget_period_ordered", condition=Q(period_end__gt=F("period_start"))
            ),
            models.CheckConstraint(
                name="budget_kind_valid", condition=Q(kind__in=[k.value for k in BudgetKind])
            ),
        ]
        indexes = [models.Index(fields=["commissioner", "period_end"], name="budget_commissioner_end")]

    def __str__(self) -> str:
        return f"{self.name} of {self.patient.user}"


class AllocationKind(models.TextChoices):
    ONE_OFF = "one_off", "One-off"
    SCHEDULED = "scheduled", "Scheduled"


class AllocationState(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    MADE = "made", "Paid in"
    CANCELLED = "cancelled", "Cancelled"


class Allocation(models.Model):
    """Money the commissioner puts into a budget's wallet: now (one-off) or on a date (scheduled).
    Paid in as one ledger transfer funding -> wallet whose id is `transfer_id` (derived from this
    row, so paying it in twice moves nothing the second time)."""

    budget = models.ForeignKey(Budget, on_delete=models.PROTECT, related_name="allocations")
    kind = models.CharField(max_length=20, choices=AllocationKind.choices, default=AllocationKind.ONE_OFF)
    amount = money_field()
    due_on = models.DateField()
    state = models.CharField(
        max_length=20, choices=AllocationState.choices, default=AllocationState.SCHEDULED, db_index=True
    )
    transfer_id = models.UUIDField(unique=True)
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    made_at = models.DateTimeField(null=True, blank=True)
    request_key = models.CharField(
        max_length=120,
        blank=True,
        help_text="The page's request key (with the instalment's number): a second press adds nothing.",
    )
    # A scheduled allocation the budget manager called off before its day: never paid in, and its
    # amount is free to allocate again.
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancel_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["budget_id", "due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["budget", "request_key"],
                condition=~Q(request_key=""),
                name="allocation_unique_request_key",
            ),
            models.CheckConstraint(name="allocation_amount_positive", condition=Q(amount__gt=0)),
            models.CheckConstraint(
                name="allocation_made_has_time",
                condition=Q(
                    state__in=[AllocationState.SCHEDULED, AllocationState.CANCELLED], made_at__isnull=True
                )
                | Q(state=AllocationState.MADE, made_at__isnull=False),
            ),
            models.CheckConstraint(
                name="allocation_cancelled_has_time",
                condition=Q(state=AllocationState.CANCELLED, cancelled_at__isnull=False)
                | (~Q(state=AllocationState.CANCELLED) & Q(cancelled_at__isnull=True)),
            ),
        ]

    def __str__(self) -> str:
        return f"£{self.amount} to {self.budget} on {self.due_on}"


class SupportPlan(models.Model):
    """One version of a budget's support plan: what it may buy and the limits. A change is a new
    version (history kept); a version counts once both the care coordinator (who writes it) and the
    patient (or someone acting for them) have agreed it. The newest agreed version is the plan."""

    budget = models.ForeignKey(Budget, on_delete=models.PROTECT, related_name="plans")
    version = models.PositiveIntegerField()
    categories = models.ManyToManyField(Category, related_name="+", help_text="What the budget may buy.")
    item_cap = money_field(
        null=True, blank=True, help_text="The most one item (one pack, with VAT) may cost; empty: no cap."
    )
    over_cap_with_approval = models.BooleanField(
        default=True, help_text="An item over the cap may be bought if the care coordinator approves it."
    )
    period_cap = money_field(
        null=True,
        blank=True,
        help_text="The most spent in each cap period (see cap_period_months); empty: no cap.",
    )
    cap_period_months = models.PositiveSmallIntegerField(
        default=12,
        help_text="How long each cap period is, in months, counted from the budget's first day "
        "(12: each budget year). Spending starts again from nothing in each new period.",
    )
    approval_categories = models.ManyToManyField(
        Category, related_name="+", blank=True, help_text="Items in these need the coordinator's approval."
    )
    approval_products = models.ManyToManyField(
        Product, related_name="+", blank=True, help_text="These items need the coordinator's approval."
    )
    top_ups_allowed = models.BooleanField(default=False)
    notes = models.TextField(blank=True)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(auto_now_add=True)
    patient_agreed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    patient_agreed_at = models.DateTimeField(null=True, blank=True)
    request_key = models.CharField(
        max_length=100, blank=True, help_text="The page's request key: a second press writes no new version."
    )

    class Meta:
        ordering = ["budget_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["budget", "version"], name="support_plan_unique_version"),
            models.UniqueConstraint(
                fields=["budget", "request_key"],
                condition=~Q(request_key=""),
                name="support_plan_unique_request_key",
            ),
            models.CheckConstraint(
                name="support_plan_cap_period_months",
                condition=Q(cap_period_months__gte=1, cap_period_months__lte=120),
            ),
            models.CheckConstraint(
                name="support_plan_caps_positive",
                condition=(Q(item_cap__isnull=True) | Q(item_cap__gt=0))
                & (Q(period_cap__isnull=True) | Q(period_cap__gt=0)),
            ),
            models.CheckConstraint(
                name="support_plan_agreement_whole",
                condition=Q(patient_agreed_by__isnull=True, patient_agreed_at__isnull=True)
                | Q(patient_agreed_by__isnull=False, patient_agreed_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"Support plan v{self.version} of {self.budget}"

    @property
    def is_agreed(self) -> bool:
        return self.patient_agreed_at is not None


class SpendState(models.TextChoices):
    HELD = "held", "Money put aside"
    PAID = "paid", "Paid"
    RELEASED = "released", "Money given back"


class Spend(models.Model):
    """What one patient order takes from the budget: held (a pending ledger transfer) at checkout,
    paid when the supplier accepts the order, released when the coordinator or the supplier says no.
    `approval_reasons` say why it waits for the care coordinator (empty: it did not)."""

    budget = models.ForeignKey(Budget, on_delete=models.PROTECT, related_name="spends")
    order = models.OneToOneField(PurchaseOrder, on_delete=models.PROTECT, related_name="budget_spend")
    plan = models.ForeignKey(SupportPlan, on_delete=models.PROTECT, related_name="spends")
    amount = money_field(help_text="The order's total with VAT.")
    hold_id = models.UUIDField(unique=True, help_text="The pending ledger transfer's id.")
    state = models.CharField(
        max_length=20, choices=SpendState.choices, default=SpendState.HELD, db_index=True
    )
    approval_reasons = models.JSONField(default=list, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(name="spend_amount_positive", condition=Q(amount__gt=0)),
            models.CheckConstraint(
                name="spend_state_valid", condition=Q(state__in=[s.value for s in SpendState])
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order} from {self.budget}"

    @property
    def needs_approval(self) -> bool:
        return bool(self.approval_reasons)


class Refund(models.Model):
    """Money back into the wallet for a paid order (an item returned): one ledger transfer from the
    supplier's payable account, whose id comes from the order and the refund's key."""

    spend = models.ForeignKey(Spend, on_delete=models.PROTECT, related_name="refunds")
    amount = money_field()
    reason = models.CharField(max_length=500)
    key = models.CharField(max_length=100)
    transfer_id = models.UUIDField(unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["spend_id", "created_at", "id"]
        constraints = [
            models.CheckConstraint(name="refund_amount_positive", condition=Q(amount__gt=0)),
            models.UniqueConstraint(fields=["spend", "key"], name="refund_unique_key"),
        ]

    def __str__(self) -> str:
        return f"£{self.amount} back for {self.spend.order}"
