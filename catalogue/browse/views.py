"""Buyer pages of the catalogue: the category tree, category listings with facets, product pages.

Every price shown comes from `catalogue.strategy` for the signed-in buyer, on every request; the
queries come from `catalogue.selectors` and load each page in a constant number of statements. What
every buyer sees alike (categories, facets, pages of products with their offers, a product with its
offers) is kept in the shared cache (`catalogue.caching`), unpriced.
"""

from __future__ import annotations

from contextlib import suppress

from django.contrib.auth.decorators import login_required
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET

from catalogue import panels, selectors
from catalogue.browse.paging import CountedPaginator
from catalogue.caching import buyer_cached, catalogue_cached, catalogue_entry, categories_cached
from catalogue.filters import InvalidFilters, ProductFilter, filter_params
from catalogue.models import Category, Product
from catalogue.selectors import FacetsCounting, ProductFacets
from catalogue.strategy import default_strategy
from common.errors import NotFound
from organisations.acting import acting_for
from organisations.models import OrganisationKind

PRODUCTS_PER_PAGE = 20


def priced_products(products, *, buyer) -> list[dict]:
    """Each product with its offers priced for the buyer, cheapest per unit first."""
    strategy = default_strategy()
    today = timezone.localdate()
    rows = []
    for product in products:
        offers = product.live_offers
        cheapest = strategy.cheapest(offers=offers, buyer=buyer, on_date=today)
        rows.append(
            {
                "product": product,
                "cheapest": cheapest[1] if cheapest else None,
                "offer_count": len(offers),
                "supplier_count": len({offer.supplier_id for offer in offers}),
            }
        )
    return rows


def _params_key(params) -> tuple:
    """The query's parameters in one order, so that `?a=1&b=2` and `?b=2&a=1` share an entry."""
    return tuple(sorted((name, tuple(values)) for name, values in params.lists()))


@login_required
@require_GET
def category_index(request: HttpRequest) -> HttpResponse:
    tree = catalogue_cached(("category-tree",), selectors.category_tree)
    return render(request, "catalogue/category_index.html", {"tree": tree})


def _category(slug: str) -> tuple[Category, list[Category]] | None:
    """The category and its ancestors, kept for every buyer until a category changes (None: no such
    category)."""

    def load() -> tuple[Category, list[Category]] | None:
        try:
            category = selectors.category_by_slug(slug=slug)
        except NotFound:
            return None
        return category, selectors.category_ancestors(category=category)

    return categories_cached(("category", slug), load)


@login_required
@require_GET
def category_detail(request: HttpRequest, slug: str) -> HttpResponse:
    found = _category(slug)
    if found is None:
        raise Http404("No such category.")
    category, ancestors = found
    # The page's own category is the path; a `category` parameter would contradict it. The category
    # loaded above goes to the selectors, so it is looked up once per request.
    params = filter_params(request.GET).copy()
    params.pop("category", None)
    page_param = params.pop("page", [None])[-1]
    built: list[ProductFilter] = []

    def product_filter() -> ProductFilter:
        """The filters parsed, built only when something below is not in the shared cache (django-
        filter deep-copies every filter and form field for each one)."""
        if not built:
            built.append(ProductFilter(params, queryset=Product.objects.all(), category=category))
        return built[0]

    # Facets, pages of products (with their offers, unpriced) and the filters' markup are the same
    # for every buyer: kept in the shared cache by category and filters. Prices are worked out below
    # for this buyer.
    facets_entry = catalogue_entry(("category-facets", category.pk, _params_key(_without(params, "sort"))))
    facets: ProductFacets | None = facets_entry.get()
    counting: FacetsCounting | None = None
    if facets is None:
        # Counted now but for the supplier counts, which are counted beside this request while it
        # loads, prices and renders its page of products (below), and waited for after.
        with suppress(InvalidFilters):
            counting = selectors.product_facets_started(filters=product_filter(), category=category)
    # The facets count the matching products: the paginator need not count them again. The first
    # page's products are the list's first whatever the total, so they are loaded, priced and
    # rendered while the counts beside the request (under a price bound, the total's too) go on;
    # another page waits for the total to know whether it exists.
    total: int | None
    if facets is not None:
        total = facets.total
    elif counting is None:
        total = 0  # the filters do not parse
    elif page_param in (None, "1"):
        total = None  # known once the counts are in
    else:
        total = counting.total
    number = 1
    if total is not None:
        number = _page_number(CountedPaginator((), PRODUCTS_PER_PAGE, count=total), page_param)

    def load_page() -> list[Product]:
        if total == 0:
            return []
        products = selectors.product_list(filters=product_filter())
        return list(CountedPaginator(products, PRODUCTS_PER_PAGE, count=total).page(number).object_list)

    rows_key = ("category-products", category.pk, _params_key(params), number)

    def render_filters() -> tuple[SafeString, SafeString, bool]:
        form = product_filter().form
        context = {
            "category": category,
            "facets": facets,
            "filter_form": form,
            "query": query,
            "selected_suppliers": set(params.getlist("supplier")),
            "selected_stock": set(params.getlist("stock")),
        }
        return (
            render_to_string("catalogue/includes/category_filters.html", context),
            render_to_string("includes/error_summary.html", {"form": form}),
            bool(form.errors),
        )

    buyer = acting_for(request, kind=OrganisationKind.TRUST).buyer

    def priced_rows() -> list[dict]:
        return priced_products(catalogue_cached(rows_key, load_page), buyer=buyer)

    def render_rows() -> SafeString:
        rows = priced_rows()
        return (
            render_to_string("catalogue/includes/category_rows.html", {"rows": rows})
            if rows
            else SafeString("")
        )

    # The page's products rendered with this buyer's prices, kept for this buyer alone: a warm page
    # neither loads nor prices nor renders them. `rows` is worked out only if read (tests do).
    rows_html = buyer_cached(buyer, ("category-rows", *rows_key), render_rows)
    if counting is not None:
        facets = counting.result()
        facets_entry.keep(facets)
    paginator = CountedPaginator((), PRODUCTS_PER_PAGE, count=facets.total if facets else 0)
    # Keyed by the query as sent (less the page), which is all the markup reads.
    query = request.GET.copy()
    query.pop("page", None)
    filters_html, error_summary_html, filter_errors = catalogue_cached(
        ("category-filters", category.pk, _params_key(query)), render_filters
    )
    page = Page(SimpleLazyObject(lambda: catalogue_cached(rows_key, load_page)), number, paginator)
    return render(
        request,
        "catalogue/category_detail.html",
        {
            "category": category,
            "ancestors": ancestors,
            # Rendered (autoescaped) by render_filters: SafeStrings, which stay safe through the cache.
            "filters_html": filters_html,
            "error_summary_html": error_summary_html,
            "filter_errors": filter_errors,
            "page": page,
            "rows_html": rows_html,
            "rows": SimpleLazyObject(priced_rows),
            "filtered": any(value for name, value in request.GET.items() if name not in ("page", "sort")),
        },
    )


def _without(params, name: str):
    params = params.copy()
    params.pop(name, None)
    return params


def _page_number(paginator: Paginator, value: str | None) -> int:
    """The page asked for as `Paginator.get_page` reads it: the first if not a number, the last if past it."""
    try:
        return paginator.validate_number(value)
    except PageNotAnInteger:
        return 1
    except EmptyPage:
        return paginator.num_pages


def _product(slug: str) -> tuple[Product, list[Category]] | None:
    """The product with its buyable offers (supplier, tiers) and its category path, unpriced, kept
    for every buyer (None: no such product on sale)."""

    def load() -> tuple[Product, list[Category]] | None:
        try:
            product = selectors.product_detail(slug=slug)
        except NotFound:
            return None
        return product, [*selectors.category_ancestors(category=product.category), product.category]

    return catalogue_cached(("product", slug), load)


@login_required
@require_GET
def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    found = _product(slug)
    if found is None:
        raise Http404("No such product.")
    product, ancestors = found
    buyer = acting_for(request, kind=OrganisationKind.TRUST).buyer

    def priced_offers() -> list:
        return default_strategy().prices(offers=product.live_offers, buyer=buyer)

    def render_body() -> SafeString:
        context = {"product": product, "offers": priced_offers(), "buyer": buyer}
        return render_to_string("catalogue/includes/product_offers.html", context)

    # The description and the offers table with this buyer's prices, kept for this buyer alone (the
    # panels below depend on the person and the request: rendered each time).
    body_html = buyer_cached(buyer, ("product-body", slug), render_body)
    return render(
        request,
        "catalogue/product_detail.html",
        {
            "product": product,
            "ancestors": ancestors,
            "body_html": body_html,
            # Worked out only if read (tests do): the page shows body_html.
            "offers": SimpleLazyObject(priced_offers),
            "buyer": buyer,
            "panels": panels.product_panels(request=request, product=product),
        },
    )
