"""The buyers' catalogue API: products on sale, with the caller's own prices.

GET /api/v1/products/ (filtered like the category pages) and GET /api/v1/products/{id}/. One view
per path, each with its own output serializers (HackSoft style). Reads come from
`catalogue.selectors`, prices from `catalogue.strategy`. Amounts are strings ("12.50"), never JSON
numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from django.core.paginator import Page
from django.db.models import Case, QuerySet, Value, When
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound as NotFoundResponse
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from catalogue import selectors
from catalogue.browse.paging import CountedPaginator
from catalogue.caching import buyer_cached, catalogue_cached
from catalogue.filters import ProductFilter, filter_params
from catalogue.models import Offer, Product, StockStatus
from catalogue.search import selectors as search_selectors
from catalogue.search.api import SearchUnavailableError
from catalogue.strategy import default_strategy
from catalogue.types import BuyerPrice
from common.api import UNIT_MONEY, AmountField, error_responses
from common.errors import NotFound
from organisations.acting import acting_for
from organisations.models import OrganisationKind
from search.types import InvalidSearch, SearchUnavailable

# Output: prices -----------------------------------------------------------------------------------


class PriceBreakOutput(serializers.Serializer):
    min_packs = serializers.IntegerField()
    pack_price = AmountField(help_text="Per pack, excluding VAT.")
    unit_price = AmountField(**UNIT_MONEY, help_text="Per unit, excluding VAT.")


class BuyerPriceOutput(serializers.Serializer):
    """What the caller pays for one pack (the strategy's answer at quantity 1)."""

    source = serializers.CharField(help_text="Which price applies: list, volume_tier, or a contract source.")
    source_label = serializers.CharField(
        help_text='What the buyer is shown, e.g. "Your contract price" (or empty).'
    )
    source_reference = serializers.CharField(help_text="The contract or round the price rests on (or empty).")
    pack_price = AmountField(help_text="Per pack, excluding VAT.")
    unit_price = AmountField(**UNIT_MONEY, help_text="Per unit, excluding VAT.")
    units_per_pack = serializers.IntegerField()
    vat_rate = AmountField(max_digits=4, decimal_places=2)
    pack_vat = AmountField()
    pack_price_incl_vat = AmountField()
    list_pack_price = AmountField()
    tiers = PriceBreakOutput(many=True)
    min_order_packs = serializers.IntegerField()
    problems = serializers.ListField(child=serializers.CharField())


# Output: products for buyers ----------------------------------------------------------------------


class SupplierOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class BuyerOfferOutput(serializers.Serializer):
    id = serializers.IntegerField()
    supplier = SupplierOutput()
    supplier_sku = serializers.CharField()
    units_per_pack = serializers.IntegerField()
    lead_time_days = serializers.IntegerField(allow_null=True)
    min_order_packs = serializers.IntegerField()
    stock_status = serializers.ChoiceField(choices=StockStatus.choices)
    patient_eligible = serializers.BooleanField()
    valid_from = serializers.DateField(allow_null=True)
    valid_to = serializers.DateField(allow_null=True)
    price = BuyerPriceOutput(help_text="The caller's price for one pack, from the pricing strategy.")


class ProductSummaryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField()
    name = serializers.CharField()
    slug = serializers.CharField()
    category = serializers.CharField(help_text="The category path.")
    manufacturer = serializers.CharField()
    manufacturer_part_number = serializers.CharField()
    gtin = serializers.CharField(allow_null=True)
    npc = serializers.CharField(allow_null=True)
    unit_of_measure = serializers.CharField()
    offer_count = serializers.IntegerField()
    cheapest = BuyerPriceOutput(
        allow_null=True, help_text="The caller's cheapest price per unit among the offers."
    )
    cheapest_offer_id = serializers.IntegerField(allow_null=True)


class ProductDetailOutput(ProductSummaryOutput):
    description = serializers.CharField()
    units_per_pack = serializers.IntegerField()
    attributes = serializers.DictField()
    offers = BuyerOfferOutput(many=True, help_text="Every live offer, cheapest per unit first.")


# The output serializers read the strategy's BuyerPrice (its Decimal properties) themselves: one pass
# over each price, not a serializer built per price and its output serialized again.
def product_url_maker(request: Request) -> Callable[[int], str]:
    """A product's absolute API URL by id: reversed once, then filled in (a page of 50 products
    reversed each one, a tenth of the page's CPU)."""
    sample = reverse("api-product-detail", kwargs={"pk": 0}, request=request)
    prefix, _, rest = sample.rpartition("/0/")
    if rest or not prefix:  # a route that does not end in the id: reverse each one
        return lambda pk: reverse("api-product-detail", kwargs={"pk": pk}, request=request)
    return lambda pk: f"{prefix}/{pk}/"


def _product_data(
    request: Request,
    product: Product,
    cheapest: tuple[Offer, BuyerPrice] | None,
    offer_count: int,
    *,
    product_url: Callable[[int], str] | None = None,
) -> dict:
    return {
        "id": product.pk,
        "url": (product_url or product_url_maker(request))(product.pk),
        "name": product.name,
        "slug": product.slug,
        "category": product.category.path,
        "manufacturer": product.manufacturer,
        "manufacturer_part_number": product.manufacturer_part_number,
        "gtin": product.gtin,
        "npc": product.npc,
        "unit_of_measure": product.unit_of_measure,
        "offer_count": offer_count,
        "cheapest": cheapest[1] if cheapest else None,
        "cheapest_offer_id": cheapest[0].pk if cheapest else None,
    }


def _buyer_offer_data(offer: Offer, price: BuyerPrice) -> dict:
    return {
        "id": offer.pk,
        "supplier": {"id": offer.supplier_id, "name": offer.supplier.name},
        "supplier_sku": offer.supplier_sku,
        "units_per_pack": offer.units_per_pack,
        "lead_time_days": offer.lead_time_days,
        "min_order_packs": offer.min_order_packs,
        "stock_status": offer.stock_status,
        "patient_eligible": offer.patient_eligible,
        "valid_from": offer.valid_from,
        "valid_to": offer.valid_to,
        "price": price,
    }


def _product_or_none(pk: int) -> Product | None:
    try:
        return selectors.product_detail(product_id=pk)
    except NotFound:
        return None


class ProductListApi(GenericAPIView):
    """Products on sale, filtered like the category pages, with the caller's cheapest price."""

    filter_backends = [DjangoFilterBackend]  # documents ProductFilter's parameters in the schema
    filterset_class = ProductFilter
    queryset = Product.objects.none()

    known_count: int | None = None

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        # The selector applies ProductFilter itself (so all offer conditions meet in one offer).
        params = filter_params(self.request.query_params)
        product_filter = ProductFilter(params, queryset=Product.objects.all())
        products = selectors.product_list(filters=product_filter)
        text = params.get("search", "").strip()
        if not text:
            # Counted on the browse rows alone, not by the paginator over the list's joins.
            self.known_count = product_filter.count()
            return products
        try:
            ranked_ids = search_selectors.product_ids_matching(text)
        except InvalidSearch as exc:
            raise ValidationError({"search": [exc.message]}) from None
        except SearchUnavailable as exc:
            raise SearchUnavailableError(str(exc), field="search") from None
        products = products.filter(id__in=ranked_ids)
        if params.get("sort"):
            return products
        # Without an explicit sort, keep the search engine's relevance order.
        rank = Case(*[When(id=pk, then=Value(position)) for position, pk in enumerate(ranked_ids)])
        return products.order_by(rank, "id")

    @extend_schema(
        operation_id="products_list",
        parameters=[
            OpenApiParameter(
                "search",
                OpenApiTypes.STR,
                description="Words, synonyms or codes as in the search box: narrows the list to the "
                f"{search_selectors.PRODUCT_LIST_SEARCH_LIMIT} best matches, most relevant first unless "
                "`sort` is given. GET /api/v1/search/ pages through every match.",
            )
        ],
        responses={200: ProductSummaryOutput(many=True), **error_responses(503)},
        description=(
            "Products with at least one live offer matching the filters. Price filters and the "
            "`price` sort use suppliers' list prices excluding VAT; `cheapest` is the caller's own price."
        ),
    )
    def get(self, request: Request) -> Response:
        # The page of products with their offers, unpriced, is the same for every caller: kept in the
        # shared cache by the query's parameters; each caller's prices are worked out below.
        params = request.query_params
        key = tuple(sorted((name, tuple(values)) for name, values in params.lists()))
        text = filter_params(params).get("search", "").strip()
        also = (search_selectors.INDEX_NAMESPACE,) if text else ()
        buyer = acting_for(request, kind=OrganisationKind.TRUST).buyer

        def priced_page() -> tuple[int, int, list[dict]]:
            count, number, products = catalogue_cached(("api-products", key), self._page, also=also)
            strategy = default_strategy()
            today = timezone.localdate()
            product_url = product_url_maker(request)
            data = [
                _product_data(
                    request,
                    product,
                    strategy.cheapest(offers=product.live_offers, buyer=buyer, on_date=today),
                    len(product.live_offers),
                    product_url=product_url,
                )
                for product in products
            ]
            # Plain dicts and strings: cheap to keep and to read back.
            return count, number, [dict(row) for row in ProductSummaryOutput(data, many=True).data]

        # The page serialized with this caller's prices, kept for this buyer alone, by the query and
        # the scheme and host its absolute URLs carry.
        count, number, rows = buyer_cached(
            buyer, ("api-products-priced", request.build_absolute_uri("/"), key), priced_page, also=also
        )
        self.paginator.request = request
        self.paginator.page = Page(rows, number, CountedPaginator((), self.paginator.page_size, count=count))
        return self.get_paginated_response(rows)

    def _page(self) -> tuple[int, int, list[Product]]:
        """The count, the page number and the page's products (with their offers) for this query."""
        products = self.filter_queryset(self.get_queryset())
        if self.known_count is not None:
            self.paginator.django_paginator_class = partial(CountedPaginator, count=self.known_count)
        page = self.paginate_queryset(products)
        return self.paginator.page.paginator.count, self.paginator.page.number, list(page)


class ProductDetailApi(GenericAPIView):
    """One product with every live offer and the caller's price for each, cheapest per unit first."""

    queryset = Product.objects.none()

    @extend_schema(operation_id="products_retrieve", responses=ProductDetailOutput)
    def get(self, request: Request, pk: int) -> Response:
        product = catalogue_cached(("api-product", pk), lambda: _product_or_none(pk))
        if product is None:
            raise NotFoundResponse("No such product.")
        buyer = acting_for(request, kind=OrganisationKind.TRUST).buyer
        priced = default_strategy().prices(offers=product.live_offers, buyer=buyer)
        data = _product_data(request, product, priced[0] if priced else None, len(priced)) | {
            "description": product.description,
            "units_per_pack": product.units_per_pack,
            "attributes": product.attributes,
            "offers": [_buyer_offer_data(offer, price) for offer, price in priced],
        }
        return Response(ProductDetailOutput(data).data)
