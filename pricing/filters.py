"""Filters for the analytics pages and API: period, category, region (django-filter)."""

from __future__ import annotations

import django_filters

from catalogue.models import Category
from common import bounds
from organisations.models import Region
from pricing.models import Period, ProductStats
from pricing.selectors import periods_with_figures


class PeriodChoiceFilter(django_filters.ChoiceFilter):
    """A period by its slug (fy2025, 2026q3), among the periods that have figures."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label", "Period")
        kwargs.setdefault("empty_label", "Latest financial year")
        super().__init__(*args, choices=self._choices, **kwargs)

    @staticmethod
    def _choices() -> list[tuple[str, str]]:
        return [(p.slug, p.label) for p in periods_with_figures()]


class AnalyticsFilter(django_filters.FilterSet):
    """The filters every analytics view shares; selectors read the cleaned values."""

    period = PeriodChoiceFilter(method="by_period")
    category = bounds.BoundedModelChoiceFilter(
        queryset=Category.objects.all(), method="by_category", empty_label="All categories", label="Category"
    )
    region = django_filters.ChoiceFilter(
        choices=Region.choices, method="by_region", empty_label="All of England", label="Region"
    )

    class Meta:
        model = ProductStats
        fields: list[str] = []

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.form.fields.values():
            field.widget.attrs.setdefault("class", "nhsuk-select")

    def by_period(self, queryset, name, value):
        return queryset.filter(period__in=[p for p in Period.objects.all() if p.slug == value])

    def by_category(self, queryset, name, value):
        return queryset.filter(product__category__path__startswith=value.path)

    def by_region(self, queryset, name, value):
        # Savings within a region are recomputed from the region's trusts by the selector.
        return queryset

    def cleaned(self) -> dict:
        """The valid values: period slug or '', Category or None, region code or ''."""
        form = self.form
        form.is_valid()
        data = getattr(form, "cleaned_data", {})
        return {
            "period": data.get("period") or "",
            "category": data.get("category"),
            "region": data.get("region") or "",
        }
