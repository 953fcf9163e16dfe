"""The supplier's form for a negotiated price: it parses what was typed; the rules are in
`purchasing.agreements.services`."""

from __future__ import annotations

import re

from django import forms

from common.forms import NHSForm
from purchasing.agreements.services import MAX_REFERENCE_LENGTH
from purchasing.forms import DateInput


class NegotiatedPriceForm(NHSForm):
    offer = forms.CharField(label="Your SKU of the offer", max_length=64, help_text="For example, PEN-STK-M.")
    trusts = forms.CharField(
        label="NHS trusts it applies to",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Their ODS codes, separated by commas or on separate lines. For example, RR8, RCB.",
    )
    pack_price = forms.DecimalField(
        label="Price per pack, excluding VAT (£)", max_digits=12, decimal_places=2, min_value=0
    )
    valid_from = forms.DateField(label="First day", widget=DateInput, help_text="For example, 2027-01-01.")
    valid_to = forms.DateField(label="Last day", widget=DateInput, help_text="It applies on this day too.")
    reference = forms.CharField(
        label="Reference",
        max_length=MAX_REFERENCE_LENGTH,
        help_text="The tender, contract or round it comes from. Buyers see it beside the price.",
    )
    note = forms.CharField(
        label="Note (optional)", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def ods_codes(self) -> list[str]:
        return [code.upper() for code in re.split(r"[\s,;]+", self.cleaned_data["trusts"]) if code]
