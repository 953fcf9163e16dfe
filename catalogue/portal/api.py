"""The supplier portal's API: the offers of the supplier the caller acts for, read and written.

GET/POST /api/v1/offers/ and GET/PATCH /api/v1/offers/{id}/. Writes go through
`catalogue.services`, which apply the moderation rules; offers are looked up through
`catalogue.selectors.supplier_offer`, so another supplier's offer is 404. Amounts are strings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound as NotFoundResponse
from rest_framework.exceptions import PermissionDenied as PermissionDeniedResponse
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from catalogue import selectors, services
from catalogue.browse.api import SupplierOutput
from catalogue.models import Offer, OfferStatus, StockStatus, VatRate, VolumeTier
from catalogue.types import OfferInput
from common import bounds
from common.api import AmountField, error_responses
from common.errors import NotFound
from organisations.acting import HEADER, Acting, acting_for
from organisations.models import OrganisationKind
from organisations.scoping import scoped

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
