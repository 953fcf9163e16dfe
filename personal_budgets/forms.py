"""The personal budgets' page forms: they read what the person typed; the rules are in services.

A service's error goes back onto the field it names (`add_domain_error`), else at the top."""

from __future__ import annotations

import uuid

from django import forms

from common.errors import DomainError
from common.forms import NHSForm
from personal_budgets.models import AllocationKind

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


class AllocateForm(NHSForm):
    amount = forms.DecimalField(label="Amount in pounds", max_digits=12, decimal_places=2)
    kind = forms.ChoiceField(label="When", choices=AllocationKind.choices)
    due_on = forms.DateField(
        label="Day to pay it in (scheduled only)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="For example, 2027-04-01.",
    )
    note = forms.CharField(label="Note (optional)", required=False, max_length=200)


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
