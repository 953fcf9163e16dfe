"""Purchasing's page forms: they parse what the person typed; the rules are in purchasing.services.

A domain error from a service goes back onto the form with `add_domain_error`, on the field it
names when the form has that field (else at the top), so the error summary links to it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping

from django import forms

from common.errors import DomainError
from common.forms import NHSForm
from purchasing.models import CostCentre, DeliverySite, OrderLine
from purchasing.states import OrderState

MAX_PACKS = 1_000_000


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def add_domain_error(
    form: forms.Form, error: DomainError, *, fields: Mapping[str, str] | None = None
) -> None:
    """Put a service's error on the form field it names (`fields` maps the service's field names to
    the form's where they differ)."""
    name = (fields or {}).get(error.field or "", error.field)
    form.add_error(name if name in form.fields else None, error.message)


class AddToBasketForm(NHSForm):
    offer = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    quantity = forms.IntegerField(label="Packs", min_value=1, max_value=MAX_PACKS, initial=1)


class BasketLineForm(NHSForm):
    """Change one basket line's packs (each line's form has the prefix `line<id>`)."""

    quantity = forms.IntegerField(label="Packs", min_value=1, max_value=MAX_PACKS)


class OrderDetailsForm(NHSForm):
    """One supplier's order at checkout (prefix `supplier<id>`)."""

    delivery_site = forms.TypedChoiceField(label="Delivery site", coerce=int)
    cost_centre = forms.TypedChoiceField(label="Cost centre", coerce=int)
    required_by = forms.DateField(
        label="Required by (optional)", required=False, widget=DateInput, help_text="For example, 2027-03-31."
    )
    note = forms.CharField(
        label="Note to the supplier (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, sites: Iterable[DeliverySite], centres: Iterable[CostCentre], **kwargs):
        super().__init__(*args, **kwargs)
        # The sites and centres are loaded once for every supplier's form; the service checks them.
        sites, centres = list(sites), list(centres)
        self.fields["delivery_site"].choices = [("", "Choose a delivery site")] + [
            (s.pk, f"{s.name}, {s.postcode}") for s in sites
        ]
        self.fields["cost_centre"].choices = [("", "Choose a cost centre")] + [
            (c.pk, f"{c.code} {c.name}") for c in centres
        ]
        if len(sites) == 1:
            self.fields["delivery_site"].initial = sites[0].pk
        if len(centres) == 1:
            self.fields["cost_centre"].initial = centres[0].pk


class CheckoutForm(NHSForm):
    """The checkout as a whole: the request key made when the page was first shown, so a second
    submit of the same page creates nothing twice. (The changes the buyer confirms are the
    `confirmed_changes` checkboxes, whose keys the service checks.)"""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)


class OrderFilterForm(NHSForm):
    def __init__(self, *args, suppliers: Iterable[tuple[int, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        # Made here, not as class attributes: the only assignment to a state in purchasing stays
        # the one move (tests/purchasing/test_transitions.py greps for them).
        self.fields["state"] = forms.ChoiceField(
            label="State", required=False, choices=[("", "Any state"), *OrderState.choices]
        )
        self.fields["supplier"] = forms.TypedChoiceField(
            label="Supplier",
            required=False,
            coerce=int,
            empty_value=None,
            choices=[("", "Any supplier"), *suppliers],
        )


class ReasonForm(NHSForm):
    reason = forms.CharField(label="Reason", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class NoteForm(NHSForm):
    note = forms.CharField(
        label="Note (optional)", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class AcknowledgeForm(NHSForm):
    expected_delivery = forms.DateField(
        label="Expected delivery date", widget=DateInput, help_text="For example, 2027-03-31."
    )
    note = forms.CharField(
        label="Note (optional)", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class _LinePacksForm(NHSForm):
    """A form with one packs field per order line (`line_<id>`), starting at what is left."""

    verb = ""

    def __init__(self, *args, lines: Iterable[OrderLine], room: Mapping[int, int], **kwargs):
        super().__init__(*args, **kwargs)
        self.order_lines = list(lines)
        for line in self.order_lines:
            self.fields[f"line_{line.pk}"] = forms.IntegerField(
                label=f"Line {line.line_number}: {line.description}",
                help_text=f"{room[line.pk]} of {line.packs} packs left to {self.verb}.",
                min_value=0,
                max_value=MAX_PACKS,
                initial=room[line.pk],
                required=False,  # blank is none of that line (and "everything left" ignores them)
            )

    def quantities(self) -> dict[int, int]:
        return {line.pk: self.cleaned_data[f"line_{line.pk}"] or 0 for line in self.order_lines}


class DispatchForm(_LinePacksForm):
    verb = "dispatch"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tracking_reference"] = forms.CharField(label="Tracking reference", max_length=100)
        self.order_fields(["tracking_reference"])


class ReceiveForm(_LinePacksForm):
    verb = "receive"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["note"] = forms.CharField(
            label="Note (optional)", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
        )


class InvoiceForm(NHSForm):
    """The supplier's invoice: its number and, per line, the packs and price per pack it charges."""

    invoice_number = forms.CharField(label="Invoice number", max_length=50)

    def __init__(self, *args, lines: Iterable[OrderLine], **kwargs):
        super().__init__(*args, **kwargs)
        self.order_lines = list(lines)
        for line in self.order_lines:
            self.fields[f"packs_{line.pk}"] = forms.IntegerField(
                label=f"Line {line.line_number}: packs invoiced",
                help_text=f"{line.description}: {line.packs_received} of {line.packs} packs received.",
                min_value=0,
                max_value=MAX_PACKS,
                initial=line.packs_received,
            )
            self.fields[f"price_{line.pk}"] = forms.DecimalField(
                label=f"Line {line.line_number}: price per pack, excluding VAT (£)",
                min_value=0,
                max_digits=12,
                decimal_places=2,
                initial=line.pack_price,
            )

    def lines(self) -> dict[int, tuple[int, object]]:
        return {
            line.pk: (self.cleaned_data[f"packs_{line.pk}"], self.cleaned_data[f"price_{line.pk}"])
            for line in self.order_lines
        }


# --- Trust admins: purchasing settings -------------------------------------------------------


class SettingsForm(NHSForm):
    one_approver_above = forms.DecimalField(
        label="Orders need one approver above (£, excluding VAT)",
        min_value=0,
        decimal_places=2,
        max_digits=14,
    )
    two_approvers_above = forms.DecimalField(
        label="Orders need two different approvers above (£, excluding VAT)",
        min_value=0,
        decimal_places=2,
        max_digits=14,
    )
    price_tolerance_percent = forms.DecimalField(
        label="Invoice price tolerance (% of the ordered pack price)",
        min_value=0,
        decimal_places=2,
        max_digits=5,
    )
    price_tolerance_amount = forms.DecimalField(
        label="Or invoice price tolerance (£ on a line)", min_value=0, decimal_places=2, max_digits=14
    )


class DeliverySiteForm(NHSForm):
    name = forms.CharField(label="Name", max_length=120)
    address = forms.CharField(label="Address", widget=forms.Textarea(attrs={"rows": 3}), max_length=500)
    postcode = forms.CharField(label="Postcode", max_length=10)
    gln = forms.CharField(
        label="GLN (optional)",
        required=False,
        max_length=20,
        help_text="The site's GS1 Global Location Number.",
    )


class DeliverySiteChangeForm(DeliverySiteForm):
    is_active = forms.BooleanField(label="In use for new orders", required=False)


class CostCentreForm(NHSForm):
    code = forms.CharField(label="Code", max_length=20)
    name = forms.CharField(label="Name", max_length=120)


class CostCentreChangeForm(NHSForm):
    name = forms.CharField(label="Name", max_length=120)
    is_active = forms.BooleanField(label="In use for new orders", required=False)
