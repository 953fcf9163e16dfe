"""The personal budgets' page forms: they read what the person typed; the rules are in services.

A service's error goes back onto the field it names (`add_domain_error`), else at the top."""

from __future__ import annotations

import uuid

from django import forms
from django.db import models
from django.db.models import QuerySet

from catalogue.models import Category, Product
from common.errors import DomainError
from common.forms import NHSForm
from organisations.models import PatientProfile
from personal_budgets.models import AllocationKind, BudgetKind, SupportPlan

MAX_PACKS = 100


def add_domain_error(form: forms.Form, error: DomainError, *, fields: dict[str, str] | None = None) -> None:
    name = (fields or {}).get(error.field or "", error.field)
    form.add_error(name if name in form.fields else None, error.message)


class BuyForm(NHSForm):
    """Buy one item from the shop: how many, and where it goes."""

    quantity = forms.IntegerField(label="How many", min_value=1, max_value=MAX_PACKS, initial=1)
    name = forms.CharField(label="Name", max_length=120)
    address = forms.CharField(label="Address", widget=forms.Textarea(attrs={"rows": 3}), max_length=500)
    postcode = forms.CharField(label="Postcode", max_length=10)
    # A new key each time the page is shown: pressing Buy twice (or going back) buys once.
    request_key = forms.CharField(widget=forms.HiddenInput, max_length=100, initial=lambda: uuid.uuid4().hex)


class DecisionForm(NHSForm):
    decision = forms.ChoiceField(
        label="Your decision",
        choices=[("approve", "Yes, buy it"), ("decline", "No, do not buy it")],
    )
    reason = forms.CharField(
        label="Tell the person why",
        help_text="They will read this. You must say why if you say no.",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )


def _request_key() -> forms.CharField:
    # A new key each time the page is shown: pressing the button twice (or going back) acts once.
    return forms.CharField(widget=forms.HiddenInput, max_length=100, initial=lambda: uuid.uuid4().hex)


def _date(
    label: str, *, required: bool = True, help_text: str = "For example, 2027-04-01."
) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=help_text,
    )


class BudgetForm(NHSForm):
    """A budget manager gives a patient of their ICB a budget (the patients are the ICB's)."""

    patient = forms.ModelChoiceField(label="Patient", queryset=PatientProfile.objects.none(), empty_label="")
    name = forms.CharField(
        label="Name of the budget", max_length=120, help_text="For example, Personal wheelchair budget."
    )
    kind = forms.ChoiceField(label="Kind of budget", choices=BudgetKind.choices)
    amount = forms.DecimalField(
        label="Amount in pounds",
        max_digits=12,
        decimal_places=2,
        help_text="The budget for the whole period, to the penny. For example, 3500 or 3499.99.",
    )
    period_start = _date("First day")
    period_end = _date(
        "Last day", help_text="For example, 2032-03-31. A wheelchair budget is often five years."
    )
    request_key = _request_key()

    def __init__(self, *args, patients: QuerySet[PatientProfile], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["patient"].queryset = patients
        self.fields["patient"].label_from_instance = lambda p: (
            f"{p.user.full_name} (NHS number {p.nhs_number})"
        )


class BudgetChangeForm(NHSForm):
    """A budget manager renames a budget, changes its amount or moves its last day (ends it early)."""

    name = forms.CharField(label="Name of the budget", max_length=120)
    amount = forms.DecimalField(
        label="Amount in pounds",
        max_digits=12,
        decimal_places=2,
        help_text="No less than is allocated already.",
    )
    period_end = _date(
        "Last day",
        help_text="To end the budget early, today or a later day. "
        "Scheduled allocations after it are cancelled.",
    )
    reason = forms.CharField(
        label="Why are you changing it?",
        max_length=200,
        help_text="Kept in the audit log, for example: the support plan's review.",
    )


class AllocateKind(models.TextChoices):
    ONE_OFF = AllocationKind.ONE_OFF.value, "One-off, paid in now"
    SCHEDULED = AllocationKind.SCHEDULED.value, "Scheduled, paid in on one day"
    INSTALMENTS = "instalments", "In instalments, paid in every few months"


class AllocateForm(NHSForm):
    amount = forms.DecimalField(
        label="Amount in pounds",
        max_digits=12,
        decimal_places=2,
        help_text="For instalments, the amount of each one.",
    )
    kind = forms.ChoiceField(label="When", choices=AllocateKind.choices)
    due_on = _date("Day to pay it in (scheduled and instalments: the first one)", required=False)
    instalments = forms.IntegerField(
        label="How many instalments (instalments only)", required=False, min_value=1, max_value=60
    )
    every_months = forms.IntegerField(
        label="Months between instalments (instalments only)",
        required=False,
        min_value=1,
        max_value=12,
        help_text="For example, 3 for every quarter.",
    )
    note = forms.CharField(label="Note (optional)", required=False, max_length=200)
    request_key = _request_key()

    def clean(self):
        data = super().clean()
        if data.get("kind") in (AllocateKind.SCHEDULED, AllocateKind.INSTALMENTS) and not data.get("due_on"):
            self.add_error("due_on", "Enter the day to pay it in.")
        if data.get("kind") == AllocateKind.INSTALMENTS:
            for name, message in (
                ("instalments", "Enter how many instalments."),
                ("every_months", "Enter how many months apart they are."),
            ):
                if data.get(name) is None and name not in self.errors:
                    self.add_error(name, message)
        return data


class PlanForm(NHSForm):
    """The care coordinator writes a new version of a support plan (the page starts from the last)."""

    categories = forms.ModelMultipleChoiceField(
        label="What the budget may buy",
        queryset=Category.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text="A kind of item covers the kinds below it.",
    )
    item_cap = forms.DecimalField(
        label="Most one item may cost, in pounds (optional)",
        required=False,
        max_digits=12,
        decimal_places=2,
        help_text="One pack with VAT. Leave empty for no cap.",
    )
    over_cap_with_approval = forms.BooleanField(
        label="An item over that cap may be bought if the care coordinator says yes", required=False
    )
    period_cap = forms.DecimalField(
        label="Most spent in each cap period, in pounds (optional)",
        required=False,
        max_digits=12,
        decimal_places=2,
        help_text="Leave empty for no cap. It starts again from nothing in each new period.",
    )
    cap_period_months = forms.IntegerField(
        label="Length of each cap period, in months",
        min_value=1,
        max_value=120,
        initial=12,
        help_text="Counted from the budget's first day. 12 means each budget year.",
    )
    approval_categories = forms.ModelMultipleChoiceField(
        label="Kinds of item the care coordinator checks first (optional)",
        required=False,
        queryset=Category.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    approval_products = forms.ModelMultipleChoiceField(
        label="Items the care coordinator checks first (optional)",
        required=False,
        queryset=Product.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    top_ups_allowed = forms.BooleanField(
        label="The patient may pay the rest by card when an item costs more than is left", required=False
    )
    notes = forms.CharField(
        label="Notes (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The patient reads these.",
    )
    request_key = _request_key()

    def __init__(self, *args, categories: QuerySet[Category], products: QuerySet[Product], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["categories"].queryset = categories
        self.fields["approval_categories"].queryset = categories
        self.fields["approval_products"].queryset = products
        for name in ("categories", "approval_categories"):
            self.fields[name].label_from_instance = lambda c: c.path


def plan_initial(plan: SupportPlan | None) -> dict:
    """The page's starting values: the last version's (a new plan: a budget year, approval allowed)."""
    if plan is None:
        return {"cap_period_months": 12, "over_cap_with_approval": True}
    return {
        "categories": list(plan.categories.all()),
        "item_cap": plan.item_cap,
        "over_cap_with_approval": plan.over_cap_with_approval,
        "period_cap": plan.period_cap,
        "cap_period_months": plan.cap_period_months,
        "approval_categories": list(plan.approval_categories.all()),
        "approval_products": list(plan.approval_products.all()),
        "top_ups_allowed": plan.top_ups_allowed,
        "notes": plan.notes,
    }


class AllocationCancelForm(NHSForm):
    reason = forms.CharField(
        label="Why are you cancelling it?",
        help_text="Kept in the audit log, for example: the patient moved to another ICB.",
        max_length=200,
    )


class CarerForm(NHSForm):
    email = forms.EmailField(label="Their email address", help_text="They must have an account already.")


class ReturnForm(NHSForm):
    """Send something back: which item, how many, and why. `lines` are the order's items that may go
    back, as (line id, words) pairs."""

    line = forms.TypedChoiceField(
        label="What do you want to send back?", coerce=int, widget=forms.RadioSelect
    )
    packs = forms.IntegerField(label="How many", min_value=1, max_value=MAX_PACKS, initial=1)
    reason = forms.CharField(
        label="Why are you sending it back?",
        help_text="For example, it is the wrong size, or it came broken.",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # A new key each time the page is shown: pressing Send twice (or going back) asks once.
    request_key = forms.CharField(widget=forms.HiddenInput, max_length=100, initial=lambda: uuid.uuid4().hex)

    def __init__(self, *args, lines: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].choices = lines
        if len(lines) == 1:
            self.fields["line"].initial = lines[0][0]
