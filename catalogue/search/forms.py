"""The search box and its filters, read from the query string and checked before any engine runs."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.http import QueryDict

from search.types import SearchQuery, SortOrder

FILTERS = ("category", "supplier", "price_band", "stock", "patient_eligible")
PAGE_SIZE = 20
MAX_PAGE = 500
MAX_QUERY_LENGTH = 500
SORT_CHOICES = [
    (SortOrder.RELEVANCE.value, "Best match"),
    (SortOrder.PRICE_LOW.value, "Price per unit, lowest first"),
    (SortOrder.PRICE_HIGH.value, "Price per unit, highest first"),
    (SortOrder.TITLE.value, "Name, A to Z"),
]


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Search the catalogue",
        required=False,
        max_length=MAX_QUERY_LENGTH,
        error_messages={"max_length": "Search for fewer words: at most %(limit_value)d characters."},
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
    price_min = forms.DecimalField(required=False, min_value=0, max_digits=12, decimal_places=4)
    price_max = forms.DecimalField(required=False, min_value=0, max_digits=12, decimal_places=4)

    def __init__(self, data: QueryDict, *args, **kwargs) -> None:
        super().__init__(data, *args, **kwargs)
        self.filters = {name: [v for v in data.getlist(name) if v][:50] for name in FILTERS}
        self.filters = {name: values for name, values in self.filters.items() if values}

    def clean(self) -> dict:
        data = super().clean()
        low, high = data.get("price_min"), data.get("price_max")
        if low is not None and high is not None and low > high:
            self.add_error("price_min", "The lowest price must not be above the highest price.")
        return data

    @property
    def page_number(self) -> int:
        return self.cleaned_data.get("page") or 1

    def search_query(self) -> SearchQuery:
        data = self.cleaned_data
        price_min: Decimal | None = data.get("price_min")
        price_max: Decimal | None = data.get("price_max")
        return SearchQuery(
            text=data.get("q") or "",
            object_type="product",
            filters=self.filters,
            price_min=price_min,
            price_max=price_max,
            sort=SortOrder(data.get("sort") or SortOrder.RELEVANCE),
            offset=(self.page_number - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
        )
