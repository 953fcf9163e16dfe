"""The supplier's answer to a return: accept (an optional note) or refuse (the reason, required)."""

from __future__ import annotations

from django import forms

from common.forms import NHSForm


class ReturnDecisionForm(NHSForm):
    decision = forms.ChoiceField(
        label="Your answer",
        choices=[("accept", "Accept: we have the goods back, give the money back"), ("refuse", "Refuse")],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label="Note or reason",
        help_text="The buyer reads it. A refusal must say why.",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
