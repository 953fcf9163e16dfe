"""Negotiated prices on the API: a supplier lists its own and sets one (POST), a trust lists those
that apply to it; one price by id; a supplier withdraws its own.

Scoped to the organisation the request acts for: another organisation's price is a 404 whatever is
sent. Every rule is in `purchasing.agreements.services`; its errors answer in the API's error shape,
naming the field (400), 403 for a trust trying to set one, 404 for an offer that is not the
supplier's, 409 for an overlap (`code` `overlap`) or a price withdrawn already. Amounts are strings.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from catalogue.models import Offer
from common import bounds
from common.api import AmountField, error_responses
from organisations.acting import Acting, acting_for
from organisations.models import Organisation
from purchasing.agreements import selectors, services
from purchasing.agreements.models import NegotiatedPrice

PRICE_404 = "No such negotiated price for you: it is another supplier's, or does not apply to your trust."


class NegotiatedPriceOfferOutput(serializers.Serializer):
    id = serializers.IntegerField()
    supplier_sku = serializers.CharField()
    product_id = serializers.IntegerField()
    product_name = serializers.CharField()
    list_pack_price = AmountField(help_text="The offer's list price per pack, excluding VAT, for comparison.")


class NegotiatedPriceTrustOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    ods_code = serializers.CharField()


class NegotiatedPriceOutput(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField()
    supplier = NegotiatedPriceTrustOutput(help_text="The supplier (ods_code is empty).")
    offer = NegotiatedPriceOfferOutput()
    trusts = NegotiatedPriceTrustOutput(
        many=True, help_text="The trusts it applies to: all of them to the supplier, only itself to a trust."
    )
    pack_price = AmountField(help_text="Per pack, excluding VAT.")
    valid_from = serializers.DateField()
    valid_to = serializers.DateField(help_text="The last day it applies (inclusive).")
    reference = serializers.CharField()
    note = serializers.CharField()
    created_at = serializers.DateTimeField()
    withdrawn_at = serializers.DateTimeField(allow_null=True)


class NegotiatedPriceInput(serializers.Serializer):
    offer = serializers.IntegerField(
        **bounds.integer(Offer, "id", min_value=1), help_text="The id of one of your own offers."
    )
    trusts = serializers.ListField(
        child=serializers.IntegerField(**bounds.integer(Organisation, "id", min_value=1)),
        min_length=1,
        max_length=services.MAX_TRUSTS,
        help_text="The ids of the NHS trusts it applies to (from /api/v1/organisations/).",
    )
    pack_price = AmountField(help_text="Per pack, excluding VAT, above 0, to the penny.")
    valid_from = serializers.DateField(help_text="The first day it applies.")
    valid_to = serializers.DateField(help_text="The last day it applies (inclusive): today or later.")
    reference = serializers.CharField(
        max_length=services.MAX_REFERENCE_LENGTH, help_text="The tender, contract or round it comes from."
    )
    note = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")


def _party(organisation: Organisation) -> dict:
    return {"id": organisation.pk, "name": organisation.name, "ods_code": organisation.ods_code or ""}


def _data(request: Request, price: NegotiatedPrice, trusts: list[Organisation]) -> dict:
    offer = price.offer
    return {
        "id": price.pk,
        "url": reverse("purchasing-api-negotiated-price", kwargs={"pk": price.pk}, request=request),
        "supplier": _party(price.supplier),
        "offer": {
            "id": offer.pk,
            "supplier_sku": offer.supplier_sku,
            "product_id": offer.product_id,
            "product_name": offer.product.name,
            "list_pack_price": offer.pack_price,
        },
        "trusts": [_party(trust) for trust in trusts],
        "pack_price": price.pack_price,
        "valid_from": price.valid_from,
        "valid_to": price.valid_to,
        "reference": price.reference,
        "note": price.note,
        "created_at": price.created_at,
        "withdrawn_at": price.withdrawn_at,
    }


def _one(request: Request, acting: Acting, pk: int) -> dict:
    price = selectors.negotiated_price_for(acting=acting, negotiated_price_id=pk)
    return _data(request, price, selectors.trusts_named([price], acting=acting)[price.pk])


class NegotiatedPriceListApi(GenericAPIView):
    queryset = NegotiatedPrice.objects.none()

    @extend_schema(
        operation_id="negotiated_prices_list",
        responses=NegotiatedPriceOutput(many=True),
        description="A supplier's own negotiated prices, or those that apply to the trust the request "
        "acts for, newest first (withdrawn and ended ones too); nothing for anyone else.",
    )
    def get(self, request: Request) -> Response:
        acting = acting_for(request)
        prices = self.paginate_queryset(selectors.negotiated_prices_for(acting=acting))
        named = selectors.trusts_named(prices, acting=acting)
        data = [_data(request, price, named[price.pk]) for price in prices]
        return self.get_paginated_response(NegotiatedPriceOutput(data, many=True).data)

    @extend_schema(
        operation_id="negotiated_prices_create",
        request=NegotiatedPriceInput,
        responses={
            201: NegotiatedPriceOutput,
            **error_responses(
                403,
                404,
                409,
                e404="`offer` is not one of your offers.",
                e409="`overlap`: a trust named has a live negotiated price for this offer on some of "
                "these days (the error names `valid_from`).",
            ),
        },
        description="Set a negotiated price (the supplier's staff): from `valid_from` to `valid_to` "
        "the trusts named pay `pack_price` for the offer, shown to them as their contract price. The "
        "offer's list price is unchanged.",
    )
    def post(self, request: Request) -> Response:
        acting = acting_for(request)
        acting.require()
        given = NegotiatedPriceInput(data=request.data)
        given.is_valid(raise_exception=True)
        price = services.negotiated_price_set(actor=request.user, acting=acting, **given.validated_data)
        return Response(
            NegotiatedPriceOutput(_one(request, acting, price.pk)).data, status=status.HTTP_201_CREATED
        )


class NegotiatedPriceDetailApi(APIView):
    @extend_schema(
        operation_id="negotiated_prices_retrieve",
        responses={200: NegotiatedPriceOutput, **error_responses(404, e404=PRICE_404)},
        description="One negotiated price of the supplier, or one that applies to the acting trust.",
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(NegotiatedPriceOutput(_one(request, acting_for(request), pk)).data)


class NegotiatedPriceWithdrawApi(APIView):
    @extend_schema(
        operation_id="negotiated_prices_withdraw",
        request=None,
        responses={
            200: OpenApiResponse(NegotiatedPriceOutput, description="The price, withdrawn."),
            **error_responses(403, 404, 409, e404=PRICE_404, e409="The price is withdrawn already."),
        },
        description="Withdraw the supplier's negotiated price: its trusts pay the other prices from now "
        "on; orders already placed keep it.",
    )
    def post(self, request: Request, pk: int) -> Response:
        acting = acting_for(request)
        acting.require()
        price = selectors.negotiated_price_for(acting=acting, negotiated_price_id=pk)
        services.negotiated_price_withdraw(actor=request.user, acting=acting, negotiated_price=price.pk)
        return Response(NegotiatedPriceOutput(_one(request, acting, price.pk)).data)
