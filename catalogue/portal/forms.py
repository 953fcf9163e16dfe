"""Suppliers' offer form: parses what they type into an `OfferInput` and shows the services' verdicts.

Values are checked with the same parsers the file importer and the API use (catalogue.validators),
and whatever the services refuse (a SKU already used, identifiers pointing at different products)
is shown against the field it names, in the NHS error-summary pattern.
"""

from __future__ import annotations

from django import forms

from catalogue import selectors
from catalogue.matching import IdentifierConflict
from catalogue.models import Category, Offer, StockStatus, VatRate
from catalogue.types import OfferInput
from catalogue.validators import OfferInvalid, parse_gtin, parse_money, parse_npc, parse_tiers
from common import bounds
from common.errors import DomainError

# The services name OfferInput's fields; the form names some of them differently.
FIELD_FOR_DOMAIN_FIELD = {
    "category_path": "category",
    "tier_prices": "tiers",
    "tiers": "tiers",
    "part": "manufacturer_part_number",
}

ERROR_CLASSES = {
    "nhsuk-input": "nhsuk-input--error",
    "nhsuk-select": "nhsuk-select--error",
    "nhsuk-textarea": "nhsuk-textarea--error",
}


def _text(width: int | None = None, **attrs) -> forms.TextInput:
    css = "nhsuk-input" + (f" nhsuk-input--width-{width}" if width else "")
    return forms.TextInput(attrs={"class": css, **attrs})


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:]


class NhsFormMixin:
    """Marks fields in error with the NHS error classes, so the input is outlined in red."""

    def add_error(self, field, error) -> None:
        super().add_error(field, error)
        for name in self.errors:
            if name not in self.fields:
                continue
            widget = self.fields[name].widget
            css = widget.attrs.get("class", "")
            for base, error_class in ERROR_CLASSES.items():
                if base in css.split() and error_class not in css:
                    widget.attrs["class"] = f"{css} {error_class}"


class CategoryChoiceField(bounds.BoundedModelChoiceField):
    def label_from_instance(self, obj: Category) -> str:
        return obj.path


class OfferForm(NhsFormMixin, forms.Form):
    supplier_sku = forms.CharField(
        label="Your SKU", max_length=64, help_text="Your own code for this item.", widget=_text(20)
    )
    name = forms.CharField(label="Product name", max_length=200, widget=_text())
    category = CategoryChoiceField(
        queryset=Category.objects.order_by("path"),
        label="Category",
        empty_label="Choose a category",
        widget=forms.Select(attrs={"class": "nhsuk-select"}),
    )
    description = forms.CharField(
        label="Description (optional)",
        required=False,
        widget=forms.Textarea(attrs={"class": "nhsuk-textarea", "rows": 4}),
    )
    manufacturer = forms.CharField(
        label="Manufacturer (optional)", max_length=200, required=False, widget=_text()
    )
    manufacturer_part_number = forms.CharField(
        label="Manufacturer's part number (optional)", max_length=100, required=False, widget=_text(20)
    )
    gtin = forms.CharField(
        label="GTIN (optional)",
        required=False,
        help_text="The barcode number: 8, 12, 13 or 14 digits.",
        widget=_text(20, inputmode="numeric"),
    )
    npc = forms.CharField(
        label="NPC code (optional)",
        required=False,
        help_text="NHS Supply Chain's code for the item, for example ABC123.",
        widget=_text(10),
    )
    unit_of_measure = forms.CharField(
        label="Unit",
        max_length=30,
        initial="each",
        help_text="What one unit is: each, pair, box.",
        widget=_text(10),
    )
    units_per_pack = forms.IntegerField(
        **bounds.integer(Offer, "units_per_pack", min_value=1),
        label="Units per pack",
        initial=1,
        widget=forms.NumberInput(attrs={"class": "nhsuk-input nhsuk-input--width-5"}),
    )
    pack_price = forms.CharField(
        label="Price per pack (£, excluding VAT)", widget=_text(10, inputmode="decimal")
    )
    vat_rate = forms.ChoiceField(
        label="VAT rate",
        choices=VatRate.choices,
        initial=VatRate.STANDARD,
        widget=forms.Select(attrs={"class": "nhsuk-select"}),
    )
    tiers = forms.CharField(
        label="Volume prices (optional)",
        required=False,
        help_text="Minimum packs and price per pack, separated by semicolons, for example 10:11.50;50:10.90.",
        widget=_text(20),
    )
    lead_time_days = forms.IntegerField(
        **bounds.integer(Offer, "lead_time_days"),
        label="Lead time in days (optional)",
        required=False,
        widget=forms.NumberInput(attrs={"class": "nhsuk-input nhsuk-input--width-4"}),
    )
    min_order_packs = forms.IntegerField(
        **bounds.integer(Offer, "min_order_packs", min_value=1),
        label="Minimum order (packs)",
        initial=1,
        widget=forms.NumberInput(attrs={"class": "nhsuk-input nhsuk-input--width-4"}),
    )
    stock_status = forms.ChoiceField(
        label="Stock",
        choices=StockStatus.choices,
        initial=StockStatus.IN_STOCK,
        widget=forms.Select(attrs={"class": "nhsuk-select"}),
    )
    patient_eligible = forms.BooleanField(
        label="Patients may buy this with a personal health budget",
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "nhsuk-checkboxes__input"}),
    )
    valid_from = forms.DateField(
        label="Price valid from (optional)",
        required=False,
        widget=forms.DateInput(attrs={"class": "nhsuk-input nhsuk-input--width-10", "type": "date"}),
    )
    valid_to = forms.DateField(
        label="Price valid until (optional)",
        required=False,
        widget=forms.DateInput(attrs={"class": "nhsuk-input nhsuk-input--width-10", "type": "date"}),
    )

    # Values are parsed by the catalogue's own parsers, so the form, the API and files agree.
    def _parse(self, name: str, parser, *args, **kwargs):
        try:
            return parser(*args, field=name, **kwargs)
        except DomainError as error:
            raise forms.ValidationError(_sentence(error.message)) from None

    def clean_pack_price(self):
        return self._parse("pack_price", parse_money, self.cleaned_data["pack_price"])

    def clean_gtin(self):
        return self._parse("gtin", parse_gtin, self.cleaned_data["gtin"])

    def clean_npc(self):
        return self._parse("npc", parse_npc, self.cleaned_data["npc"])

    def clean(self) -> dict:
        data = super().clean()
        if "pack_price" in data:
            try:
                data["tiers"] = parse_tiers(data.get("tiers"), pack_price=data["pack_price"], field="tiers")
            except DomainError as error:
                self.add_error("tiers", _sentence(error.message))
        return data

    def to_offer_input(self) -> OfferInput:
        d = self.cleaned_data
        return OfferInput(
            supplier_sku=d["supplier_sku"],
            name=d["name"],
            category_path=d["category"].path,
            description=d["description"],
            manufacturer=d["manufacturer"],
            manufacturer_part_number=d["manufacturer_part_number"],
            gtin=d["gtin"],
            npc=d["npc"],
            unit_of_measure=d["unit_of_measure"],
            units_per_pack=d["units_per_pack"],
            pack_price=d["pack_price"],
            vat_rate=d["vat_rate"],
            tiers=d.get("tiers") or (),
            lead_time_days=d["lead_time_days"],
            min_order_packs=d["min_order_packs"],
            stock_status=d["stock_status"],
            patient_eligible=d["patient_eligible"],
            valid_from=d["valid_from"],
            valid_to=d["valid_to"],
        )

    def add_domain_error(self, error: DomainError) -> None:
        """Show a service's refusal against the field(s) it names (or above the form)."""
        if isinstance(error, OfferInvalid):
            for name, message in error.errors.items():
                self._add_named(name, message)
        elif isinstance(error, IdentifierConflict):
            for name in error.fields:
                self._add_named(name, error.message)
        else:
            self._add_named(error.field, error.message)

    def _add_named(self, name: str | None, message: str) -> None:
        field = FIELD_FOR_DOMAIN_FIELD.get(name or "", name)
        if field not in self.fields:
            field = None
        if field and field in self.errors and _sentence(message) in self.errors[field]:
            return
        self.add_error(field, _sentence(message))

    @staticmethod
    def initial_for(offer: Offer) -> dict:
        """The offer as the form shows it: its waiting changes if it has any, else its live terms."""
        data = selectors.offer_input(offer=offer)
        values = {name: getattr(data, name) for name in OFFER_INPUT_FIELDS}
        category = Category.objects.filter(path=data.category_path).first()
        values["vat_rate"] = str(int(data.vat_rate))
        values["gtin"] = data.gtin or ""
        values["npc"] = data.npc or ""
        values["category"] = category.pk if category else None
        values["tiers"] = ";".join(f"{m}:{p}" for m, p in data.tiers)
        return values


OFFER_INPUT_FIELDS = (
    "supplier_sku",
    "name",
    "description",
    "manufacturer",
    "manufacturer_part_number",
    "gtin",
    "npc",
    "unit_of_measure",
    "units_per_pack",
    "pack_price",
    "vat_rate",
    "lead_time_days",
    "min_order_packs",
    "stock_status",
    "patient_eligible",
    "valid_from",
    "valid_to",
)
