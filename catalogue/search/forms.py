"""The one parser of a search, and its limits, for both the search page and the search API.

The page renders this form (its errors beside the search box); the API validates the same form and
answers its errors as a 400 naming the field (`marketplace.api`), and documents its parameters from
the same fields (`openapi_parameters`). So a limit changed here changes both, and neither can accept
what the other refuses.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.http import QueryDict

from catalogue.filters import PATIENT_ELIGIBLE, STOCK, TRUE
from catalogue.indexing import PATIENT_ELIGIBLE as PATIENT_ELIGIBLE_VALUE
from catalogue.indexing import PRICE_BANDS
from catalogue.models import StockStatus
from search.types import SearchQuery, SortOrder

FILTERS = ("category", "supplier", "price_band", STOCK, PATIENT_ELIGIBLE)
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_PAGE = 500
MAX_QUERY_LENGTH = 500
MAX_FILTER_VALUES = 50
MAX_FILTER_VALUE_LENGTH = 100
MAX_PRICE_DIGITS = 12
SORT_CHOICES = [
    (SortOrder.RELEVANCE.value, "Best match"),
    (SortOrder.PRICE_LOW.value, "Price per unit, lowest first"),
    (SortOrder.PRICE_HIGH.value, "Price per unit, highest first"),
    (SortOrder.TITLE.value, "Name, A to Z"),
]


class FilterValuesField(forms.Field):
    """A repeatable filter (`?supplier=1&supplier=2`): a list of short strings, at most
    MAX_FILTER_VALUES of them; `choices` closes the set (an unknown value is an error, not an empty
    answer)."""

    widget = forms.MultipleHiddenInput

    def __init__(self, *, choices: list[str] | None = None, **kwargs) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.choices = choices

    def to_python(self, value) -> list[str]:
        values = [str(v).strip() for v in (value or []) if str(v).strip()]
        if len(values) > MAX_FILTER_VALUES:
            raise forms.ValidationError(f"Choose at most {MAX_FILTER_VALUES} values.")
        for v in values:
            if len(v) > MAX_FILTER_VALUE_LENGTH:
                raise forms.ValidationError(f"Each value has at most {MAX_FILTER_VALUE_LENGTH} characters.")
            if self.choices is not None and v not in self.choices:
                raise forms.ValidationError(f"Unknown value {v!r}: choose from {', '.join(self.choices)}.")
        return list(dict.fromkeys(values))


class TrueFalseField(forms.Field):
    """`patient_eligible=true` narrows to patient-eligible offers; `false` or nothing does not."""

    def to_python(self, value) -> bool:
        if isinstance(value, list):
            value = value[-1] if value else ""
        text = str(value or "").strip().lower()
        if text in ("", "false", "0"):
            return False
        if text in (TRUE, "1"):
            return True
        raise forms.ValidationError("Use true or false.")


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Search the catalogue",
        required=False,
        max_length=MAX_QUERY_LENGTH,
        error_messages={"max_length": "Search for fewer words: at most %(limit_value)d characters."},
        help_text="Words, synonyms or codes (GTIN, NPC, SKU, part number).",
    )
    sort = forms.ChoiceField(choices=SORT_CHOICES, required=False, label="Sort by")
    page = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_PAGE,
        error_messages={
            "invalid": "Page must be a number.",
            "min_value": "Page must be 1 or more.",
            "max_value": f"Only the first {MAX_PAGE} pages can be shown; narrow your search.",
        },
    )
    page_size = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_PAGE_SIZE,
        help_text=f"Results per page (API only; default {PAGE_SIZE}).",
        error_messages={"invalid": "Page size must be a number."},
    )
    price_min = forms.DecimalField(
        required=False, min_value=0, max_digits=MAX_PRICE_DIGITS, decimal_places=4, help_text="GBP per unit."
    )
    price_max = forms.DecimalField(
        required=False, min_value=0, max_digits=MAX_PRICE_DIGITS, decimal_places=4, help_text="GBP per unit."
    )
    category = FilterValuesField(help_text="Category ids from `facets.category`.")
    supplier = FilterValuesField(help_text="Supplier ids from `facets.supplier`.")
    price_band = FilterValuesField(choices=[key for key, _, _ in PRICE_BANDS])
    stock = FilterValuesField(choices=list(StockStatus.values))
    patient_eligible = TrueFalseField(required=False, help_text="true: only items patients may buy.")

    def __init__(self, data: QueryDict, *, page_size_allowed: bool = False, **kwargs) -> None:
        # Repeated parameters are lists: the filter fields read every value (getlist).
        data = data.copy()
        super().__init__(data, **kwargs)
        self.page_size_allowed = page_size_allowed
        if not page_size_allowed:
            del self.fields["page_size"]

    def clean(self) -> dict:
        data = super().clean()
        low, high = data.get("price_min"), data.get("price_max")
        if low is not None and high is not None and low > high:
            self.add_error("price_min", "The lowest price must not be above the highest price.")
        return data

    @property
    def filters(self) -> dict[str, list[str]]:
        """The chosen filters in the search engine's terms (facet name: values accepted)."""
        data = getattr(self, "cleaned_data", {})
        chosen = {name: data[name] for name in FILTERS if name != PATIENT_ELIGIBLE and data.get(name)}
        if data.get(PATIENT_ELIGIBLE):
            chosen[PATIENT_ELIGIBLE] = [PATIENT_ELIGIBLE_VALUE]
        return chosen

    @property
    def page_number(self) -> int:
        return self.cleaned_data.get("page") or 1

    @property
    def results_per_page(self) -> int:
        return self.cleaned_data.get("page_size") or PAGE_SIZE

    @property
    def text(self) -> str:
        return self.cleaned_data.get("q") or ""

    def search_query(self) -> SearchQuery:
        data = self.cleaned_data
        price_min: Decimal | None = data.get("price_min")
        price_max: Decimal | None = data.get("price_max")
        return SearchQuery(
            text=self.text,
            object_type="product",
            filters=self.filters,
            price_min=price_min,
            price_max=price_max,
            sort=SortOrder(data.get("sort") or SortOrder.RELEVANCE),
            offset=(self.page_number - 1) * self.results_per_page,
            limit=self.results_per_page,
        )

    def errors_by_field(self) -> dict[str, list[str]]:
        """Every error under the name of the parameter at fault."""
        return {
            ("q" if name == "__all__" else name): [str(m) for m in messages]
            for name, messages in self.errors.items()
        }
