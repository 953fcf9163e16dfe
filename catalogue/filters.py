"""The buyer's filters on the product list (pages and API): django-filter sets over live offers.

A product matches when ONE of its buyable offers meets every offer condition together (supplier,
price range, stock, lead time, patient eligibility), so "in stock from supplier A under £5" never
matches a product whose in-stock offer is B's and whose cheap offer is A's. Price filters and the
price sort use the offers' list prices excluding VAT; the price a buyer pays comes from the strategy.
Without offer filters a list reads each product's stored browse data (`catalogue.models.ProductBrowse`)
and counts no offers; so it does with just one common filter (patient eligible, or in stock only:
`ProductBrowseSubset`), and, for the list and its count, with at most one price or lead-time bound
besides (an offer at most £X exists when the lowest is at most £X). Other combinations (a supplier,
two bounds, any offer filter under the facets) read the buyable offers' own browse rows
(`catalogue.models.OfferBrowse`) that meet them, grouped by product.
"""

from __future__ import annotations

from decimal import Decimal

import django_filters
from django import forms
from django.db.models import Count, F, FilteredRelation, Min, Q, QuerySet
from django.http import QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from catalogue.models import (
    STOCK_COUNTS,
    Category,
    CategoryFacetCount,
    Offer,
    Product,
    ProductBrowseSubset,
    StockStatus,
)
from catalogue.selectors import (
    PRICE_BOUNDS,
    StoredRows,
    categories_with_children_known,
    category_facet_counts,
    in_category_q,
    listed_in,
    listed_offers,
    offers_listed_in,
    state_price_lookup,
)
from common import bounds
from common.errors import DomainError
from organisations.models import Organisation, OrganisationKind

# Single offer filters a stored browse row answers as a condition on its figures: (filter, lookup,
# the sorts whose figures stay those of the matching offers: the name sort reads none; under "at most
# £X" the lowest price is a matching offer's, under "at least £X" or a lead time it need not be).
_ROW_BOUNDS = (
    ("unit_price_min", "max_unit_price__gte", {"name"}),
    ("unit_price_max", "min_unit_price__lte", {"name", "price"}),
    ("lead_time_max", "min_lead_time_days__lte", {"name"}),
)
# The stored rows' unit price bounds (`PRICE_BOUNDS`) on one offer: (filter, lookup meeting it, lookup
# missing it; a unit price is never null).
_OFFER_PRICE_BOUNDS = {
    "min_unit_price__lte": ("unit_price_max", "unit_price__lte", "unit_price__gt"),
    "max_unit_price__gte": ("unit_price_min", "unit_price__gte", "unit_price__lt"),
}
# The one filter vocabulary of category pages, search pages and both APIs (docs/catalogue.md,
# docs/api.md): `stock` (repeatable StockStatus values) and `patient_eligible=true`.
STOCK = "stock"
PATIENT_ELIGIBLE = "patient_eligible"
TRUE = "true"
# Old spellings still read, so links and API clients written before keep working.
_OLD_NAMES = {"stock_status": STOCK}
_OLD_VALUES = {PATIENT_ELIGIBLE: {"yes": TRUE}}


def filter_params(params: QueryDict) -> QueryDict:
    """The query string in the one vocabulary: `stock_status` read as `stock`, `patient_eligible=yes`
    as `true`. A new name given too wins over its old spelling."""
    if not any(name in params for name in _OLD_NAMES) and not any(
        v in old for name, old in _OLD_VALUES.items() for v in params.getlist(name)
    ):
        return params
    out = QueryDict(mutable=True)
    for name in params:
        new = _OLD_NAMES.get(name, name)
        if new != name and new in params:
            continue
        values = [_OLD_VALUES.get(new, {}).get(v, v) for v in params.getlist(name)]
        out.setlist(new, [*out.getlist(new), *values])
    return out


class InvalidFilters(DomainError):
    """Some filter values do not parse; `errors` maps each parameter to its messages."""

    code = "invalid"  # the code of every validation error (docs/api.md)

    def __init__(self, errors: dict[str, list[str]]) -> None:
        first = next(iter(errors), None)
        super().__init__("Some filters are not valid.", field=first)
        self.errors = errors

    def as_dict(self) -> dict:
        return {**super().as_dict(), "errors": self.errors}


def _number_input(width: int = 5) -> forms.NumberInput:
    return forms.NumberInput(attrs={"class": f"nhsuk-input nhsuk-input--width-{width}", "step": "any"})


@extend_schema_field(OpenApiTypes.INT)
class SupplierFilter(bounds.BoundedModelMultipleChoiceFilter):
    """Suppliers by id; repeat the parameter for several. An id past the key column's range is an
    invalid choice, not a database overflow."""


class ProductSort:
    PRICE = "price"
    NAME = "name"
    LEAD_TIME = "lead_time"
    CHOICES = (
        (PRICE, "Price per unit: low to high"),
        (NAME, "Name: A to Z"),
        (LEAD_TIME, "Lead time: shortest first"),
    )


class ProductFilterForm(forms.Form):
    """The filters' form: each range must run from low to high, and says which end is wrong."""

    RANGES = (
        ("unit_price_min", "unit_price_max", "price per unit"),
        ("pack_price_min", "pack_price_max", "price per pack"),
    )

    def clean(self) -> dict:
        data = super().clean()
        for low_name, high_name, label in self.RANGES:
            low, high = data.get(low_name), data.get(high_name)
            if low is not None and high is not None and low > high:
                self.add_error(
                    high_name,
                    f"The highest {label} (£{high}) must not be below the lowest (£{low}).",
                )
        return data


class ProductFilter(django_filters.FilterSet):
    category = bounds.BoundedModelChoiceFilter(
        queryset=categories_with_children_known(Category.objects.all()),
        to_field_name="slug",
        method="filter_category",
        label="Category",
        help_text="A category's slug; its sub-categories are included.",
    )
    supplier = SupplierFilter(
        queryset=Organisation.objects.filter(kind=OrganisationKind.SUPPLIER, is_active=True),
        method="filter_offers",
        label="Supplier",
    )
    unit_price_min = django_filters.NumberFilter(
        method="filter_offers",
        widget=_number_input(),
        min_value=Decimal("0"),
        max_value=bounds.decimal_max(Offer, "unit_price"),
        label="Price per unit from (£, excluding VAT)",
    )
    unit_price_max = django_filters.NumberFilter(
        method="filter_offers",
        widget=_number_input(),
        min_value=Decimal("0"),
        max_value=bounds.decimal_max(Offer, "unit_price"),
        label="Price per unit up to (£, excluding VAT)",
    )
    pack_price_min = django_filters.NumberFilter(
        method="filter_offers",
        widget=_number_input(),
        min_value=Decimal("0"),
        max_value=bounds.decimal_max(Offer, "pack_price"),
        label="Price per pack from (£, excluding VAT)",
    )
    pack_price_max = django_filters.NumberFilter(
        method="filter_offers",
        widget=_number_input(),
        min_value=Decimal("0"),
        max_value=bounds.decimal_max(Offer, "pack_price"),
        label="Price per pack up to (£, excluding VAT)",
    )
    stock = django_filters.MultipleChoiceFilter(
        choices=StockStatus.choices, method="filter_offers", label="Stock"
    )
    lead_time_max = django_filters.NumberFilter(
        method="filter_offers",
        widget=_number_input(3),
        min_value=0,
        max_digits=4,
        decimal_places=0,
        label="Delivered within (days)",
    )
    # A choice, not django-filter's BooleanFilter, whose widget quietly reads "perhaps" as "either".
    patient_eligible = django_filters.ChoiceFilter(
        choices=((TRUE, "Yes"), ("false", "No")),
        method="filter_offers",
        label="Eligible for personal health budgets",
    )
    sort = django_filters.ChoiceFilter(
        choices=ProductSort.CHOICES,
        method="filter_sort",
        empty_label=None,
        label="Sort by",
        widget=forms.Select(attrs={"class": "nhsuk-select"}),
    )

    class Meta:
        model = Product
        fields: list[str] = []
        form = ProductFilterForm

    def __init__(self, *args, category: Category | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The page's own category, already loaded (a category page looks it up once per request).
        self.page_category = category
        self.matching_offers: QuerySet[Offer] = listed_offers()

    # Each field's own method is a no-op: filter_queryset combines the offer conditions into one
    # subquery, so they all apply to the same offer.
    def filter_offers(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset

    def filter_category(self, queryset: QuerySet, name: str, value: Category | None) -> QuerySet:
        return queryset  # filter_queryset narrows by `categories()` on the browse rows it reads

    def filter_sort(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset

    def offer_conditions(self, *, without: str | tuple[str, ...] = (), prefix: str = "") -> Q:
        """The chosen offer filters as one condition on an offer (leaving out `without`, one filter
        or several, for facets; `prefix` reaches the offer from another model, "offers__" from a
        product)."""
        left_out = {without} if isinstance(without, str) else set(without)
        data = {name: value for name, value in self.form.cleaned_data.items() if name not in left_out}
        q = Q()
        if data.get("supplier"):
            # The ids (the form's query is already evaluated): a list the index's range is walked for.
            q &= Q(**{f"{prefix}supplier_id__in": [supplier.pk for supplier in data["supplier"]]})
        if data.get("unit_price_min") is not None:
            q &= Q(**{f"{prefix}unit_price__gte": data["unit_price_min"]})
        if data.get("unit_price_max") is not None:
            q &= Q(**{f"{prefix}unit_price__lte": data["unit_price_max"]})
        if data.get("pack_price_min") is not None:
            q &= Q(**{f"{prefix}pack_price__gte": data["pack_price_min"]})
        if data.get("pack_price_max") is not None:
            q &= Q(**{f"{prefix}pack_price__lte": data["pack_price_max"]})
        if data.get(STOCK):
            q &= Q(**{f"{prefix}stock_status__in": data[STOCK]})
        if data.get("lead_time_max") is not None:
            q &= Q(**{f"{prefix}lead_time_days__lte": int(data["lead_time_max"])})
        if data.get(PATIENT_ELIGIBLE) in (TRUE, "false"):
            q &= Q(**{f"{prefix}patient_eligible": data[PATIENT_ELIGIBLE] == TRUE})
        return q

    def offer_price_bound(self, *, without: str, row_bound: tuple[str, object]) -> tuple[Q, Q, Q]:
        """The chosen offer filters but `without`, apart from the unit price bound that is the
        stored rows' `row_bound` (a key of `PRICE_BOUNDS` and its value): (the other filters, the
        bound on an offer, its opposite: the offers the bound leaves out)."""
        name, meets, misses = _OFFER_PRICE_BOUNDS[row_bound[0]]
        value = self.form.cleaned_data[name]
        others = self.offer_conditions(without=(without, name))
        return others, Q(**{meets: value}), Q(**{misses: value})

    def stored_rows(
        self,
        *,
        without: str | None = None,
        bound: bool = False,
        sort: str | None = None,
        also: dict | None = None,
    ) -> StoredRows | None:
        """The stored browse rows that answer the chosen offer filters (leaving out `without`), or
        None when only the offers can: with no offer filter, every product's row; with just
        `patient_eligible=true` or just `stock=in_stock`, that subset's rows; with `bound`, also at
        most one of `unit_price_min`, `unit_price_max`, `lead_time_max`, as a condition on the row
        (exact for a count, and for a list in a `sort` the bound keeps exact; a facet by supplier or
        stock is not, so facets pass no bound). For a count (`bound` and no `sort`), one stock state
        with patient eligibility or a price bound is a condition on the row too (`STOCK_PRICES`)."""
        data = {
            name: value
            for name, value in self.form.cleaned_data.items()
            if name != without and value not in (None, "", [])
        }
        data.update(also or {})  # a filter added (a facet's value: `patient_eligible=true`)
        if data.get("supplier") or any(name in data for name in ("pack_price_min", "pack_price_max")):
            return None
        subset = ""
        patient = data.get(PATIENT_ELIGIBLE)
        if patient == "false":
            return None
        if patient == TRUE:
            subset = ProductBrowseSubset.PATIENT
        state = None  # one stock state counted on its own columns of the rows
        if data.get(STOCK):
            states = set(data[STOCK])
            if not subset and states == {StockStatus.IN_STOCK}:
                subset = ProductBrowseSubset.IN_STOCK
            elif len(states) == 1 and bound and sort is None:
                state = StockStatus(states.pop())
            else:
                return None
        bounds = [(lookup, data[name]) for name, lookup, _ in _ROW_BOUNDS if name in data]
        if len(bounds) > (1 if bound else 0):
            return None
        if state is not None:
            # For a count only (a list's figures would be over all the rows' offers): the state and
            # at most one price bound are one condition on the row, "an offer in that state" (its
            # count) or "one in that state at most/at least £X" (that state's lowest/highest price).
            if not bounds:
                bounds = [(f"{STOCK_COUNTS[state]}__gt", 0)]
            elif bounds[0][0] in PRICE_BOUNDS:
                lookup, value = bounds[0]
                bounds = [(state_price_lookup(state, lookup), value)]
            else:
                return None
        if (
            bounds
            and sort is not None
            and not any(sort in sorts for name, _, sorts in _ROW_BOUNDS if name in data)
        ):
            return None
        return StoredRows(subset=subset, categories=self.categories(), bound=bounds[0] if bounds else None)

    def categories(self) -> list[Category]:
        """The page's category and the `category` parameter's, each narrowing the list."""
        return [c for c in (self.page_category, self.form.cleaned_data.get("category")) if c is not None]

    def count(self) -> int:
        """How many products `qs` lists, without the list's joins: from the categories' stored counts
        when no offer filter is chosen, else on the products' or the offers' browse rows."""
        stored = self.stored_rows(bound=True)
        if stored is not None and stored.bound is None:
            # The categories' stored counts: a few rows, whatever the catalogue's size.
            listed = stored.facet(CategoryFacetCount.LISTED)
            return sum(category_facet_counts(self.categories(), [listed]).get((listed, ""), {}).values())
        if stored is not None:
            return listed_in(stored.categories, subset=stored.subset, bound=stored.bound).count()
        offers = offers_listed_in(self.categories(), self.offer_conditions())
        return offers.aggregate(n=Count("product_id", distinct=True))["n"]

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        """Listed products (`ProductBrowse.offer_count` > 0: at least one buyable offer, so the product
        is active too), in the chosen categories, sorted. When stored rows answer the filters
        (`stored_rows`) every figure is theirs; otherwise the figures are over the offers that meet
        the filters."""
        queryset = super().filter_queryset(queryset)
        conditions = self.offer_conditions()
        self.matching_offers = listed_offers().filter(conditions)
        sort = self.form.cleaned_data.get("sort") or ProductSort.PRICE
        stored = self.stored_rows(bound=True, sort=sort)
        self.page_keys = None
        self.page_keys_near: int | None = None  # None: `paging.NEAR`
        if stored is not None:
            keys = listed_in(stored.categories, subset=stored.subset, bound=stored.bound, in_order=True)
            self.page_keys = _sorted(keys, sort, name="name_key", pk="product_id").values_list(
                "product_id", flat=True
            )
            if stored.subset:
                # One row per product at most: the subset's, joined on product and subset.
                queryset = queryset.annotate(
                    shown=FilteredRelation(
                        "browse_subsets", condition=Q(browse_subsets__subset=stored.subset)
                    )
                )
                prefix = "shown__"
            else:
                prefix = "browse__"
            # One filter() call: every condition on the one joined row (another call would join the
            # subset's rows again).
            rows = Q(**{f"{prefix}offer_count__gt": 0})
            for chosen in self.categories():
                rows &= in_category_q(chosen, prefix=f"{prefix}category_")
            if stored.bound is not None:
                lookup, value = stored.bound
                rows &= Q(**{f"{prefix}{lookup}": value})
            queryset = queryset.filter(rows)
            queryset = queryset.annotate(
                min_unit_price=F(f"{prefix}min_unit_price"),
                min_lead_time_days=F(f"{prefix}min_lead_time_days"),
                offer_count=F(f"{prefix}offer_count"),
                sort_name=F(f"{prefix}name_key"),
            )
        else:
            # The buyable offers' browse rows meeting every condition (`OfferBrowse`: a supplier's
            # rows in the category, or the category's, from an index), grouped by product: every
            # condition on the same offer's row, the figures over the matching rows. A page's keys
            # come from these rows alone (every page: grouping then joining the products would read
            # every matching product), then its products are joined to their matching rows.
            matched = offers_listed_in(self.categories(), conditions).values("product_id")
            keys = matched.annotate(
                min_unit_price=Min("unit_price"),
                min_lead_time_days=Min("lead_time_days"),
                sort_name=Min("name_key"),
            )
            self.page_keys = _sorted(keys, sort, name="sort_name", pk="product_id").values_list(
                "product_id", flat=True
            )
            self.page_keys_near = 0
            rows = self.offer_conditions(prefix="offer_rows__")
            for chosen in self.categories():
                rows &= in_category_q(chosen, prefix="offer_rows__category_")
            queryset = queryset.filter(rows or Q(offer_rows__isnull=False)).annotate(
                min_unit_price=Min("offer_rows__unit_price"),
                min_lead_time_days=Min("offer_rows__lead_time_days"),
                offer_count=Count("offer_rows__unit_price"),  # a column every index carries
                sort_name=Min("offer_rows__name_key"),
            )
        return _sorted(queryset, sort, name="sort_name", pk="id")


def _sorted(queryset: QuerySet, sort: str, *, name: str, pk: str) -> QuerySet:
    """Products (or their browse rows: `name` and `pk` are the columns) in the sort's order."""
    if sort == ProductSort.NAME:
        return queryset.order_by(name, pk)
    if sort == ProductSort.LEAD_TIME:
        return queryset.order_by(F("min_lead_time_days").asc(nulls_last=True), "min_unit_price", pk)
    return queryset.order_by("min_unit_price", name, pk)
