from __future__ import annotations

from django import forms

from catalogue.models import Product
from common import gs1
from common.errors import DomainError
from common.uploads import limits_text, validate_upload
from pricing.models import IdentifierKind


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Purchase-history file",
        help_text="CSV (UTF-8) or Excel (.xlsx), with the columns of the template.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text += " " + limits_text()

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            validate_upload(upload)
        except DomainError as error:
            raise forms.ValidationError(error.message) from None
        return upload


class MappingForm(forms.Form):
    kind = forms.ChoiceField(
        label="Match future lines by",
        choices=IdentifierKind.choices,
        widget=forms.Select(attrs={"class": "nhsuk-select"}),
    )
    product = forms.CharField(
        label="Catalogue product",
        max_length=220,
        help_text="The product's GTIN, NPC code or its catalogue address name (as in /catalogue/…/name/).",
        widget=forms.TextInput(attrs={"class": "nhsuk-input nhsuk-input--width-20"}),
    )

    def clean_product(self) -> Product:
        code = self.cleaned_data["product"].strip()
        products = Product.objects.filter(is_active=True)
        found = (
            (products.filter(gtin=gs1.gtin14(code)).first() if gs1.looks_like_gtin(code) else None)
            or products.filter(npc__iexact=code).first()
            or products.filter(slug=code.lower()).first()
        )
        if found is None:
            raise forms.ValidationError("No catalogue product has that GTIN, NPC code or name.")
        return found
