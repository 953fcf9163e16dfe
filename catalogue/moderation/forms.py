"""The moderator's form."""

from __future__ import annotations

from django import forms


class RejectForm(forms.Form):
    """A moderator's reason for turning an offer (or its changes) down; the supplier sees it."""

    reason = forms.CharField(
        label="Why are you rejecting this?",
        help_text="The supplier sees this, so say what to put right.",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
