"""The top-up page's form: where the order goes, and the card amount the patient was shown."""

from __future__ import annotations

import uuid

from django import forms

from common.forms import NHSForm


class TopUpForm(NHSForm):
    name = forms.CharField(label="Name", max_length=120)
    address = forms.CharField(label="Address", widget=forms.Textarea(attrs={"rows": 3}), max_length=500)
    postcode = forms.CharField(label="Postcode", max_length=10)
    # What the page showed as the card part; the service checks it against the order.
    card_pence = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    request_key = forms.CharField(widget=forms.HiddenInput, max_length=100, initial=lambda: uuid.uuid4().hex)
