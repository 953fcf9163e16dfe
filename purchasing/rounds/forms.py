"""The rounds pages' forms: they parse what the person typed; the rules (tiers rising in volume and
falling in price, dates in order, the audience, approval limits) are in `purchasing.rounds.services`,
whose errors come back onto the field they name (`purchasing.forms.add_domain_error`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django import forms

from common.forms import NHSForm
from organisations.models import Organisation, OrganisationKind, Region
from purchasing.forms import MAX_PACKS, DateInput
from purchasing.rounds.models import RoundAudience

TIER_ROWS = 5  # rows offered on the page; blank rows are left out
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format=DATETIME_FORMAT)


class _Group:
    """A group of radios or checkboxes whose error-summary link goes to the group (its container
    carries the field's id) rather than to nowhere (Django labels no single option of a group)."""

    def id_for_label(self, id_, index=None):
        return id_ if index is None else super().id_for_label(id_, index)


class GroupRadios(_Group, forms.RadioSelect):
    pass


class GroupCheckboxes(_Group, forms.CheckboxSelectMultiple):
    pass


class CommitmentForm(NHSForm):
    """Join a round or change the packs committed; `offer` only when the round has several suppliers."""

    packs = forms.IntegerField(
        label="Packs your trust commits to buy",
        min_value=1,
        max_value=MAX_PACKS,
        help_text="Whole packs. You can change or withdraw this until the round closes.",
    )

    def __init__(self, *args, offers: Iterable = (), sites: Iterable = (), centres: Iterable = (), **kwargs):
        super().__init__(*args, **kwargs)
        offers, sites, centres = list(offers), list(sites), list(centres)
        if len(offers) > 1:
            self.fields["offer"] = forms.TypedChoiceField(
                label="Supplier your order goes to",
                coerce=int,
                choices=[("", "Choose a supplier")]
                + [(o.pk, f"{o.supplier.name} (SKU {o.supplier_sku})") for o in offers],
            )
        # Where the order made at the close goes, and what it is charged to: asked only when the
        # trust has a choice (else the service takes its one site and centre).
        if len(sites) > 1:
            self.fields["delivery_site"] = forms.TypedChoiceField(
                label="Deliver to",
                coerce=int,
                choices=[(s.pk, f"{s.name}, {s.postcode}") for s in sites],
                help_text="For the purchase order made when the round closes.",
            )
        if len(centres) > 1:
            self.fields["cost_centre"] = forms.TypedChoiceField(
                label="Cost centre", coerce=int, choices=[(c.pk, f"{c.code} {c.name}") for c in centres]
            )


class ProposeForm(NHSForm):
    """A supplier proposes a round on one of its offers, or a trust admin on one or more offers of a
    product (`multiple`: checkboxes `offers` instead of the choice `offer`); the back office approves
    it before it opens."""

    offer = forms.TypedChoiceField(label="Offer", coerce=int, help_text="One of your live offers.")
    title = forms.CharField(label="Title", max_length=200)
    description = forms.CharField(
        label="Description (optional)",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    opens_at = forms.DateTimeField(
        label="Opens", widget=DateTimeInput, input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M"]
    )
    closes_at = forms.DateTimeField(
        label="Closes", widget=DateTimeInput, input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M"]
    )
    delivery_from = forms.DateField(
        label="Delivery from", widget=DateInput, help_text="For example, 2027-03-31."
    )
    delivery_to = forms.DateField(label="Delivery to", widget=DateInput, help_text="For example, 2027-04-30.")
    minimum_packs = forms.IntegerField(
        label="Minimum packs for the round to go ahead",
        min_value=1,
        max_value=100 * MAX_PACKS,
        help_text="Across all trusts. Below this at the close, nothing is ordered.",
    )
    audience = forms.ChoiceField(
        label="Which trusts may join",
        widget=GroupRadios,
        choices=RoundAudience.choices,
        initial=RoundAudience.ALL,
    )
    region = forms.ChoiceField(
        label="Region",
        required=False,
        choices=[("", "Choose a region"), *Region.choices],
        help_text="Only when the trusts of one region may join.",
    )
    invited = forms.ModelMultipleChoiceField(
        label="Invited trusts",
        required=False,
        queryset=Organisation.objects.none(),
        widget=GroupCheckboxes,
    )

    def __init__(self, *args, offers: Iterable, multiple: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.offers_by_id = {o.pk: o for o in offers}
        if multiple:
            del self.fields["offer"]
            self.fields["offers"] = forms.TypedMultipleChoiceField(
                label="Suppliers' offers trusts may commit through",
                coerce=int,
                widget=GroupCheckboxes,
                choices=[
                    (
                        o.pk,
                        f"{o.supplier.name}: SKU {o.supplier_sku}, {o.units_per_pack} per pack, "
                        f"£{o.pack_price:,.2f} a pack",
                    )
                    for o in self.offers_by_id.values()
                ],
                help_text="One or more, of the same pack size: each trust chooses one when it joins.",
            )
            # The fields in the page's order: the offers first, as the supplier's offer is.
            self.order_fields(["offers"])
        else:
            self.fields["offer"].choices = [("", "Choose an offer")] + [
                (o.pk, f"{o.product.name} (SKU {o.supplier_sku}), £{o.pack_price:,.2f} a pack")
                for o in self.offers_by_id.values()
            ]
        self.fields["invited"].queryset = Organisation.objects.filter(
            kind=OrganisationKind.TRUST, is_active=True
        ).order_by("name")
        self.fields["invited"].label_from_instance = lambda trust: str(trust)
        for index in range(1, TIER_ROWS + 1):
            required = index == 1
            self.fields[f"tier_{index}_packs"] = forms.IntegerField(
                label=f"Tier {index}: from this many packs" + ("" if required else " (optional)"),
                required=required,
                min_value=1,
                max_value=100 * MAX_PACKS,
            )
            self.fields[f"tier_{index}_price"] = forms.DecimalField(
                label=f"Tier {index}: price per pack, excluding VAT (£)"
                + ("" if required else " (optional)"),
                required=required,
                min_value=Decimal("0.01"),
                max_digits=12,
                decimal_places=2,
            )
        if not self.is_bound:
            today = dt.date.today()
            self.initial.setdefault("delivery_from", today + dt.timedelta(days=21))
            self.initial.setdefault("delivery_to", today + dt.timedelta(days=60))

    def tier_fields(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"tier_{i}_packs"], self[f"tier_{i}_price"]) for i in range(1, TIER_ROWS + 1)]

    def clean(self):
        cleaned = super().clean()
        for index in range(1, TIER_ROWS + 1):
            packs, price = cleaned.get(f"tier_{index}_packs"), cleaned.get(f"tier_{index}_price")
            if (packs is None) != (price is None) and not self.has_error(f"tier_{index}_packs"):
                missing = f"tier_{index}_price" if price is None else f"tier_{index}_packs"
                if not self.has_error(missing):
                    self.add_error(
                        missing, f"Give tier {index} both a number of packs and a price, or neither."
                    )
        return cleaned

    def tiers(self) -> list[tuple[int, Decimal]]:
        rows = []
        for index in range(1, TIER_ROWS + 1):
            packs, price = (
                self.cleaned_data.get(f"tier_{index}_packs"),
                self.cleaned_data.get(f"tier_{index}_price"),
            )
            if packs is not None and price is not None:
                rows.append((packs, price))
        return rows

    def chosen_offers(self) -> list:
        if "offers" in self.fields:
            return [self.offers_by_id[pk] for pk in self.cleaned_data["offers"]]
        return [self.offers_by_id[self.cleaned_data["offer"]]]


class CancelRoundForm(NHSForm):
    reason = forms.CharField(
        label="Why the round is cancelled",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Every trust that joined, and the suppliers, are told this.",
    )


class RejectRoundForm(NHSForm):
    reason = forms.CharField(
        label="Reason",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The proposer sees it.",
    )
