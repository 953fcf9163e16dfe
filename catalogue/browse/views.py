"""Buyer pages of the catalogue: the category tree, category listings with facets, product pages.

Every price shown comes from `catalogue.strategy` for the signed-in buyer; the queries come from
`catalogue.selectors` and load each page in a constant number of statements.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from catalogue import panels, selectors
from catalogue.browse.paging import CountedPaginator
from catalogue.filters import InvalidFilters, ProductFilter, filter_params
from catalogue.models import Product
from catalogue.strategy import default_strategy
from common.errors import NotFound
from organisations.acting import acting_for
from organisations.models import OrganisationKind

PRODUCTS_PER_PAGE = 20


def priced_products(products, *, buyer) -> list[dict]:
    """Each product with its offers priced for the buyer, cheapest per unit first."""
    strategy = default_strategy()
    rows = []
    for product in products:
        priced = strategy.prices(offers=product.live_offers, buyer=buyer)
        rows.append(
            {
                "product": product,
                "cheapest": priced[0][1] if priced else None,
                "offer_count": len(priced),
                "supplier_count": len({offer.supplier_id for offer, _ in priced}),
            }
        )
    return rows


@login_required
@require_GET
def category_index(request: HttpRequest) -> HttpResponse:
    return render(request, "catalogue/category_index.html", {"tree": selectors.category_tree()})


@login_required
@require_GET
def category_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        category = selectors.category_by_slug(slug=slug)
    except NotFound:
        raise Http404("No such category.") from None
    # The page's own category is the path; a `category` parameter would contradict it. The category
    # loaded above goes to the selectors, so it is looked up once per request.
    params = filter_params(request.GET).copy()
    params.pop("category", None)
    product_filter = ProductFilter(params, queryset=Product.objects.all(), category=category)
    filter_form = product_filter.form
    try:
        products = selectors.product_list(filters=product_filter)
        facets = selectors.product_facets(filters=product_filter, category=category)
    except InvalidFilters:
        products = Product.objects.none()
        facets = None
    # The facets counted the matching products already: the paginator need not count them again.
    paginator = CountedPaginator(products, PRODUCTS_PER_PAGE, count=facets.total if facets else 0)
    page = paginator.get_page(request.GET.get("page"))
    buyer = acting_for(request, kind=OrganisationKind.TRUST).buyer
    return render(
        request,
        "catalogue/category_detail.html",
        {
            "category": category,
            "ancestors": selectors.category_ancestors(category=category),
            "filter_form": filter_form,
            "facets": facets,
            "page": page,
            "rows": priced_products(page.object_list, buyer=buyer),
            "selected_suppliers": set(params.getlist("supplier")),
            "selected_stock": set(params.getlist("stock")),
            "filtered": any(value for name, value in request.GET.items() if name not in ("page", "sort")),
        },
    )


@login_required
@require_GET
def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        product = selectors.product_detail(slug=slug)
    except NotFound:
        raise Http404("No such product.") from None
    buyer = acting_for(request, kind=OrganisationKind.TRUST).buyer
    offers = default_strategy().prices(offers=product.live_offers, buyer=buyer)
    return render(
        request,
        "catalogue/product_detail.html",
        {
            "product": product,
            "ancestors": [*selectors.category_ancestors(category=product.category), product.category],
            "offers": offers,
            "buyer": buyer,
            "panels": panels.product_panels(request=request, product=product),
        },
    )
