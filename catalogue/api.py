"""The catalogue's REST API: buyers read products and their offers with their own prices; suppliers
read and write their own offers.

One view per path, each operation with its own input and output serializers (HackSoft style).
Reads come from `catalogue.selectors`, writes go through `catalogue.services`, prices come from
`catalogue.strategy`. Amounts are strings ("12.50"), never JSON numbers: a price sent as a number
is refused, so nothing on the way can turn it into a binary float.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal

from django.db.models import Case, QuerySet, Value, When
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.exceptions import NotFound as NotFoundResponse
from rest_framework.exceptions import PermissionDenied as PermissionDeniedResponse
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from catalogue import selectors, services
from catalogue.filters import ProductFilter, filter_params
from catalogue.models import Offer, OfferStatus, Product, StockStatus, VatRate, VolumeTier
from catalogue.search import selectors as search_selectors
from catalogue.strategy import default_strategy
from catalogue.types import BuyerPrice, OfferInput
from common import bounds
from common.api import error_responses
from common.errors import NotFound
from organisations.acting import HEADER, Acting, acting_for
from organisations.models import OrganisationKind
from organisations.scoping import scoped
from search.types import InvalidSearch, SearchUnavailable

MONEY = {"max_digits": 14, "decimal_places": 2}
UNIT_MONEY = {"max_digits": 18, "decimal_places": 4}


class AmountField(serializers.DecimalField):
    """A Decimal amount sent and returned as a string; JSON numbers are refused (they are floats)."""

    default_error_messages = {"float": 'Send amounts as strings, for example "12.50", not as numbers.'}

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_digits", MONEY["max_digits"])
        kwargs.setdefault("decimal_places", MONEY["decimal_places"])
        kwargs["coerce_to_string"] = True
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, float):
            self.fail("float")
        return super().to_internal_value(data)


# Output: prices -----------------------------------------------------------------------------------


class PriceBreakOutput(serializers.Serializer):
    min_packs = serializers.IntegerField()
    pack_price = AmountField(help_text="Per pack, excluding VAT.")
    unit_price = AmountField(**UNIT_MONEY, help_text="Per unit, excluding VAT.")


class BuyerPriceOutput(serializers.Serializer):
    """What the caller pays for one pack (the strategy's answer at quantity 1)."""

    source = serializers.CharField(help_text="Which price applies: list, volume_tier, or a contract source.")
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


def _price(price: BuyerPrice) -> dict:
    return BuyerPriceOutput(price).data  # reads the strategy's Decimal properties


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


def _product_data(request: Request, product: Product, priced: list[tuple[Offer, BuyerPrice]]) -> dict:
    cheapest = priced[0] if priced else None
    return {
        "id": product.pk,
        "url": reverse("api-product-detail", kwargs={"pk": product.pk}, request=request),
        "name": product.name,
        "slug": product.slug,
        "category": product.category.path,
        "manufacturer": product.manufacturer,
        "manufacturer_part_number": product.manufacturer_part_number,
        "gtin": product.gtin,
        "npc": product.npc,
        "unit_of_measure": product.unit_of_measure,
        "offer_count": len(priced),
        "cheapest": _price(cheapest[1]) if cheapest else None,
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
        "price": _price(price),
    }


class SearchUnavailableResponse(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "search_unavailable"


class ProductListApi(GenericAPIView):
    """Products on sale, filtered like the category pages, with the caller's cheapest price."""

    filter_backends = [DjangoFilterBackend]  # documents ProductFilter's parameters in the schema
    filterset_class = ProductFilter
    queryset = Product.objects.none()

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        # The selector applies ProductFilter itself (so all offer conditions meet in one offer).
        params = filter_params(self.request.query_params)
        products = selectors.product_list(filters=params)
        text = params.get("search", "").strip()
        if not text:
            return products
        try:
            ranked_ids = search_selectors.product_ids_matching(text)
        except InvalidSearch as exc:
            raise ValidationError({"search": [exc.message]}) from None
        except SearchUnavailable as exc:
            raise SearchUnavailableResponse(str(exc)) from None
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
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        buyer = acting_for(request, kind=OrganisationKind.TRUST).buyer
        strategy = default_strategy()
        data = [
            _product_data(request, product, strategy.prices(offers=product.live_offers, buyer=buyer))
            for product in page
        ]
        return self.get_paginated_response(ProductSummaryOutput(data, many=True).data)


class ProductDetailApi(GenericAPIView):
    """One product with every live offer and the caller's price for each, cheapest per unit first."""

    queryset = Product.objects.none()

    @extend_schema(operation_id="products_retrieve", responses=ProductDetailOutput)
    def get(self, request: Request, pk: int) -> Response:
        try:
            product = selectors.product_detail(product_id=pk)
        except NotFound as error:
            raise NotFoundResponse(error.message) from None
        buyer = acting_for(request, kind=OrganisationKind.TRUST).buyer
        priced = default_strategy().prices(offers=product.live_offers, buyer=buyer)
        data = _product_data(request, product, priced) | {
            "description": product.description,
            "units_per_pack": product.units_per_pack,
            "attributes": product.attributes,
            "offers": [_buyer_offer_data(offer, price) for offer, price in priced],
        }
        return Response(ProductDetailOutput(data).data)


# Suppliers' own offers ----------------------------------------------------------------------------


class TierSerializer(serializers.Serializer):
    min_packs = serializers.IntegerField(**bounds.integer(VolumeTier, "min_packs", min_value=2))
    pack_price = AmountField(help_text="Per pack, excluding VAT.")


class SupplierOfferOutput(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField()
    supplier = SupplierOutput()
    supplier_sku = serializers.CharField()
    status = serializers.ChoiceField(choices=OfferStatus.choices)
    product_id = serializers.IntegerField()
    name = serializers.CharField()
    category_path = serializers.CharField()
    description = serializers.CharField()
    manufacturer = serializers.CharField()
    manufacturer_part_number = serializers.CharField()
    gtin = serializers.CharField(allow_null=True)
    npc = serializers.CharField(allow_null=True)
    unit_of_measure = serializers.CharField()
    units_per_pack = serializers.IntegerField()
    pack_price = AmountField(help_text="Per pack, excluding VAT.")
    vat_rate = AmountField(max_digits=4, decimal_places=2)
    tiers = TierSerializer(many=True)
    lead_time_days = serializers.IntegerField(allow_null=True)
    min_order_packs = serializers.IntegerField()
    stock_status = serializers.ChoiceField(choices=StockStatus.choices)
    patient_eligible = serializers.BooleanField()
    valid_from = serializers.DateField(allow_null=True)
    valid_to = serializers.DateField(allow_null=True)
    pending_changes = serializers.DictField(
        allow_null=True,
        help_text="Changes waiting for moderation; the terms above stay on sale until approved.",
    )
    moderation_note = serializers.CharField(
        help_text="Why a moderator last turned this offer or its changes down."
    )
    updated_at = serializers.DateTimeField()


def _supplier_offer_data(request: Request, offer: Offer) -> dict:
    product = offer.product
    return {
        "id": offer.pk,
        "url": reverse("api-offer-detail", kwargs={"pk": offer.pk}, request=request),
        "supplier": {"id": offer.supplier_id, "name": offer.supplier.name},
        "supplier_sku": offer.supplier_sku,
        "status": offer.status,
        "product_id": product.pk,
        "name": product.name,
        "category_path": product.category.path,
        "description": product.description,
        "manufacturer": product.manufacturer,
        "manufacturer_part_number": product.manufacturer_part_number,
        "gtin": product.gtin,
        "npc": product.npc,
        "unit_of_measure": product.unit_of_measure,
        "units_per_pack": offer.units_per_pack,
        "pack_price": offer.pack_price,
        "vat_rate": offer.vat_rate,
        "tiers": [{"min_packs": t.min_packs, "pack_price": t.pack_price} for t in offer.tiers.all()],
        "lead_time_days": offer.lead_time_days,
        "min_order_packs": offer.min_order_packs,
        "stock_status": offer.stock_status,
        "patient_eligible": offer.patient_eligible,
        "valid_from": offer.valid_from,
        "valid_to": offer.valid_to,
        "pending_changes": offer.pending_changes,
        "moderation_note": offer.moderation_note,
        "updated_at": offer.updated_at,
    }


class OfferInputSerializer(serializers.Serializer):
    """A supplier's offer and the product details that match it (GTIN, then NPC, then part number)."""

    supplier_sku = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=200)
    category_path = serializers.CharField(
        help_text="e.g. 'Clinical consumables > Gloves > Examination gloves'."
    )
    description = serializers.CharField(required=False, allow_blank=True, default="")
    manufacturer = serializers.CharField(required=False, allow_blank=True, default="")
    manufacturer_part_number = serializers.CharField(required=False, allow_blank=True, default="")
    gtin = serializers.CharField(required=False, allow_null=True, allow_blank=True, default=None)
    npc = serializers.CharField(required=False, allow_null=True, allow_blank=True, default=None)
    unit_of_measure = serializers.CharField(max_length=30)
    units_per_pack = serializers.IntegerField(**bounds.integer(Offer, "units_per_pack", min_value=1))
    pack_price = AmountField(help_text="Per pack, excluding VAT, as a string.")
    vat_rate = serializers.ChoiceField(choices=VatRate.choices)
    tiers = TierSerializer(many=True, required=False, default=list)
    lead_time_days = serializers.IntegerField(
        **bounds.integer(Offer, "lead_time_days"), required=False, allow_null=True, default=None
    )
    min_order_packs = serializers.IntegerField(
        **bounds.integer(Offer, "min_order_packs", min_value=1), required=False, default=1
    )
    stock_status = serializers.ChoiceField(
        choices=StockStatus.choices, required=False, default=StockStatus.IN_STOCK
    )
    patient_eligible = serializers.BooleanField(required=False, default=False)
    valid_from = serializers.DateField(required=False, allow_null=True, default=None)
    valid_to = serializers.DateField(required=False, allow_null=True, default=None)


def _to_offer_input(values: dict, base: OfferInput | None = None) -> OfferInput:
    if "tiers" in values:
        values["tiers"] = [(t["min_packs"], t["pack_price"]) for t in values["tiers"]]
    if "vat_rate" in values:
        values["vat_rate"] = Decimal(values["vat_rate"])
    if base is not None:
        return dataclasses.replace(base, **values)
    return OfferInput(**values)


def _offer_or_404(request: Request, pk: int) -> Offer:
    try:
        return selectors.supplier_offer(user=request.user, offer_id=pk)
    except NotFound:
        raise NotFoundResponse("No such offer.") from None


def _acting_supplier_or_403(request: Request) -> Acting:
    acting = acting_for(request, kind=OrganisationKind.SUPPLIER)
    if acting.supplier is None:
        raise PermissionDeniedResponse("You do not act for a supplier.")
    return acting


NO_SUPPLIER_FIELD = f"The supplier is the one you act for: send the {HEADER} header, not a `supplier` field."


def _refuse_supplier_field(request: Request) -> None:
    """The supplier once came in the body; a client still sending it is told, not silently ignored."""
    if isinstance(request.data, Mapping) and "supplier" in request.data:
        raise serializers.ValidationError({"supplier": [NO_SUPPLIER_FIELD]})


class OfferListApi(GenericAPIView):
    """The offers of the supplier the caller acts for (GET) and its new offers (POST)."""

    queryset = Offer.objects.none()

    @extend_schema(
        operation_id="offers_list",
        parameters=[
            OpenApiParameter(
                "status", OpenApiTypes.STR, enum=OfferStatus.values, description="Only this status."
            )
        ],
        responses=SupplierOfferOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        acting = _acting_supplier_or_403(request)
        wanted = request.query_params.get("status") or None
        if wanted is not None and wanted not in OfferStatus.values:
            raise serializers.ValidationError({"status": [f"Choose one of {', '.join(OfferStatus.values)}."]})
        offers = selectors.supplier_offers(user=request.user, status=wanted)
        page = self.paginate_queryset(scoped(offers, acting, field="supplier"))
        data = [_supplier_offer_data(request, offer) for offer in page]
        return self.get_paginated_response(SupplierOfferOutput(data, many=True).data)

    @extend_schema(
        operation_id="offers_create",
        request=OfferInputSerializer,
        responses={201: SupplierOfferOutput, **error_responses(409)},
        description=(
            "A new offer. It goes live at once for trusted suppliers; otherwise its status is "
            "`pending` until the marketplace team approves it."
        ),
    )
    def post(self, request: Request) -> Response:
        supplier = _acting_supplier_or_403(request).require()
        _refuse_supplier_field(request)
        serializer = OfferInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        offer = services.offer_create(
            supplier=supplier, actor=request.user, data=_to_offer_input(serializer.validated_data)
        )
        offer = selectors.supplier_offer(user=request.user, offer_id=offer.pk)
        return Response(
            SupplierOfferOutput(_supplier_offer_data(request, offer)).data, status=status.HTTP_201_CREATED
        )


class OfferDetailApi(GenericAPIView):
    """One of the caller's suppliers' offers (GET), changed field by field (PATCH)."""

    queryset = Offer.objects.none()

    @extend_schema(operation_id="offers_retrieve", responses=SupplierOfferOutput)
    def get(self, request: Request, pk: int) -> Response:
        return Response(SupplierOfferOutput(_supplier_offer_data(request, _offer_or_404(request, pk))).data)

    @extend_schema(
        operation_id="offers_partial_update",
        request=OfferInputSerializer(partial=True),
        responses={200: SupplierOfferOutput, **error_responses(409)},
        description=(
            "Change some of an offer's values; the rest stay as they are. A live offer of a supplier "
            "without trusted status keeps its terms and the change waits in `pending_changes`."
        ),
    )
    def patch(self, request: Request, pk: int) -> Response:
        offer = _offer_or_404(request, pk)
        sent = request.data.get("supplier") if isinstance(request.data, Mapping) else None
        if sent is not None and str(sent) != str(offer.supplier_id):
            raise serializers.ValidationError({"supplier": ["An offer stays with its supplier."]})
        serializer = OfferInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        # Partial: only the fields sent (serializer defaults are not applied on partial validation).
        data = _to_offer_input(dict(serializer.validated_data), base=selectors.offer_input(offer=offer))
        services.offer_update(offer=offer, actor=request.user, data=data)
        offer = selectors.supplier_offer(user=request.user, offer_id=offer.pk)
        return Response(SupplierOfferOutput(_supplier_offer_data(request, offer)).data)
