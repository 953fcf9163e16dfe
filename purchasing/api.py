"""Purchasing's REST API: the buyer's basket, checkout, and purchase orders with one POST per step.

One API class per operation, each with its own input and output serializer; every rule lives in
`purchasing.services` (writes) and `purchasing.selectors` (reads), whose domain errors answer in the
API's error shape (`marketplace.api.exception_handler`): 400 naming the field, 403 when the caller is
not on the side that may act, 404 for anything not theirs, 409 when the order's state does not
allow the step or checkout found changes to confirm. Everything is scoped to the organisation the
request acts for (`organisations.acting`); the object a path names is looked up in that scope
before its input is read, so another organisation's basket or order answers 404 whatever is sent.
Amounts are strings.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from catalogue.models import Offer
from common import bounds
from common.api import (
    UNIT_MONEY,
    AmountField,
    ErrorOutput,
    error_responses,
    idempotency_key,
    idempotency_parameter,
)
from common.errors import NotFound
from organisations.acting import Acting, acting_for
from organisations.models import OrganisationKind
from purchasing import selectors, services
from purchasing.models import Basket, BasketLine, OrderLine, PurchaseOrder
from purchasing.states import OrderState
from purchasing.types import BasketLineView, BasketView, OrderInput

NOTE = {"max_length": services.MAX_NOTE_LENGTH, "allow_blank": True, "required": False, "default": ""}


def _id_field(model, name: str = "id", **kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(**bounds.integer(model, name, min_value=1), **kwargs)


# --- Basket: output ----------------------------------------------------------------------------


class PartyOutput(serializers.Serializer):
    """A trust or supplier named in a basket or an order."""

    id = serializers.IntegerField()
    name = serializers.CharField()


class BasketOfferOutput(serializers.Serializer):
    id = serializers.IntegerField()
    supplier_sku = serializers.CharField()
    product_id = serializers.IntegerField()
    product_name = serializers.CharField()
    units_per_pack = serializers.IntegerField()
    min_order_packs = serializers.IntegerField()


class PeerPricesOutput(serializers.Serializer):
    """What other trusts pay for the product, per unit excluding VAT (`pricing.selectors`)."""

    period = serializers.CharField()
    trusts = serializers.IntegerField(help_text="Trusts whose purchases the figures come from.")
    median = AmountField(**UNIT_MONEY)
    target = AmountField(**UNIT_MONEY, help_text="The price per unit the best-buying trusts pay.")
    own_price_per_unit = AmountField(**UNIT_MONEY, allow_null=True, help_text="What this trust paid.")


class CheaperEquivalentOutput(serializers.Serializer):
    offer = BasketOfferOutput()
    supplier = PartyOutput()
    same_product = serializers.BooleanField(help_text="The same product from another supplier.")
    quantity = serializers.IntegerField(help_text="Packs of it holding at least the line's units.")
    pack_price = AmountField(help_text="Per pack, excluding VAT.")
    total_excl_vat = AmountField()
    saving = AmountField(help_text="Saving on the line, excluding VAT.")


class BasketLineOutput(serializers.Serializer):
    id = serializers.IntegerField()
    offer = BasketOfferOutput()
    quantity = serializers.IntegerField(help_text="Packs.")
    pack_price = AmountField(help_text="Per pack, excluding VAT, from the pricing strategy now.")
    unit_price = AmountField(**UNIT_MONEY, help_text="Per unit, excluding VAT.")
    vat_rate = AmountField(max_digits=4, decimal_places=2)
    total_excl_vat = AmountField()
    total_vat = AmountField()
    total_incl_vat = AmountField()
    seen_pack_price = AmountField(help_text="The price per pack when the line was last changed.")
    price_source = serializers.CharField(help_text="Which price applies: list, volume_tier, contract, ...")
    price_label = serializers.CharField(
        help_text='What the buyer is shown, e.g. "Your contract price" (or empty).'
    )
    price_reference = serializers.CharField(help_text="The contract or round the price rests on (or empty).")
    price_changed = serializers.BooleanField()
    problems = serializers.ListField(
        child=serializers.CharField(), help_text="Why the line cannot be ordered as it is (empty: it can)."
    )
    peer = PeerPricesOutput(allow_null=True)
    gap_to_target = AmountField(
        allow_null=True,
        help_text="(This line's price per unit - the peers' target) x units; may be negative.",
    )
    cheaper = CheaperEquivalentOutput(allow_null=True, help_text="The cheapest equivalent, to swap to.")


class SupplierGroupOutput(serializers.Serializer):
    supplier = PartyOutput()
    lines = BasketLineOutput(many=True)
    total_excl_vat = AmountField()
    total_vat = AmountField()
    total_incl_vat = AmountField()


class BasketOutput(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField()
    checkout_url = serializers.URLField()
    trust = PartyOutput(help_text="The trust the basket buys for.")
    groups = SupplierGroupOutput(many=True, help_text="Lines by supplier: each becomes one order.")
    total_excl_vat = AmountField()
    total_vat = AmountField()
    total_incl_vat = AmountField()
    possible_saving = AmountField(help_text="The sum of the cheaper equivalents' savings.")
    orderable = serializers.BooleanField(help_text="Not empty, and no line has a problem.")


def _offer_data(offer: Offer) -> dict:
    return {
        "id": offer.pk,
        "supplier_sku": offer.supplier_sku,
        "product_id": offer.product_id,
        "product_name": offer.product.name,
        "units_per_pack": offer.units_per_pack,
        "min_order_packs": offer.min_order_packs,
    }


def _line_data(view: BasketLineView) -> dict:
    peer, cheaper = view.peer, view.cheaper
    return {
        "id": view.line_id,
        "offer": _offer_data(view.offer),
        "quantity": view.quantity,
        "pack_price": view.price.pack_price,
        "unit_price": view.price.unit_price,
        "vat_rate": view.price.vat_rate,
        "total_excl_vat": view.total.excl_vat.amount,
        "total_vat": view.total.vat.amount,
        "total_incl_vat": view.total.incl_vat.amount,
        "seen_pack_price": view.seen_pack_price.amount,
        "price_source": view.price.source,
        "price_label": view.price.source_label,
        "price_reference": view.price.source_reference,
        "price_changed": view.price_changed,
        "problems": list(view.problems),
        "peer": None
        if peer is None
        else {
            "period": peer.period_label,
            "trusts": peer.trusts,
            "median": peer.median,
            "target": peer.target,
            "own_price_per_unit": peer.own_ppu,
        },
        "gap_to_target": view.gap_to_target.amount if view.gap_to_target is not None else None,
        "cheaper": None
        if cheaper is None
        else {
            "offer": _offer_data(cheaper.offer),
            "supplier": {"id": cheaper.offer.supplier_id, "name": cheaper.offer.supplier.name},
            "same_product": cheaper.same_product,
            "quantity": cheaper.quantity,
            "pack_price": cheaper.price.pack_price,
            "total_excl_vat": cheaper.price.total_excl_vat,
            "saving": cheaper.saving.amount,
        },
    }


def _basket_data(request: Request, basket: Basket, view: BasketView) -> dict:
    return {
        "id": basket.pk,
        "url": reverse("purchasing-api-basket", kwargs={"pk": basket.pk}, request=request),
        "checkout_url": reverse("purchasing-api-basket-checkout", kwargs={"pk": basket.pk}, request=request),
        "trust": {"id": basket.trust_id, "name": basket.trust.name},
        "groups": [
            {
                "supplier": {"id": group.supplier_id, "name": group.supplier_name},
                "lines": [_line_data(line) for line in group.lines],
                "total_excl_vat": group.total_excl_vat.amount,
                "total_vat": group.total_vat.amount,
                "total_incl_vat": group.total_incl_vat.amount,
            }
            for group in view.groups
        ],
        "total_excl_vat": view.total_excl_vat.amount,
        "total_vat": view.total_vat.amount,
        "total_incl_vat": view.total_incl_vat.amount,
        "possible_saving": view.possible_saving.amount,
        "orderable": view.orderable,
    }


def _basket_response(request: Request, basket: Basket, code: int = status.HTTP_200_OK) -> Response:
    view = selectors.basket_for(basket=basket)
    return Response(BasketOutput(_basket_data(request, basket, view)).data, status=code)


def _acting_trust(request: Request) -> Acting:
    return acting_for(request, kind=OrganisationKind.TRUST)


def _basket_or_404(request: Request, pk: int) -> tuple[Basket, Acting]:
    """The caller's own basket for the trust the request acts for, named by `pk`; 404 otherwise."""
    acting = _acting_trust(request)
    basket = None
    if acting.trust is not None:
        basket = selectors.basket_of(buyer=request.user, trust=acting.trust)
    if basket is None or basket.pk != pk:
        raise NotFound("No such basket.", field="basket")
    return basket, acting


BASKET_404 = "No such basket for you: it is another person's, or another trust's than the one you act for."


# --- Basket: operations ------------------------------------------------------------------------


class BasketListApi(APIView):
    """The caller's basket for the trust the request acts for (GET: none or one), started by POST."""

    @extend_schema(
        operation_id="baskets_list",
        responses=BasketOutput(many=True),
        description="The caller's basket for the acting trust: a list of one, or empty until they "
        "start one (or when they act for no trust). Lines are priced now, through the pricing strategy.",
    )
    def get(self, request: Request) -> Response:
        acting = _acting_trust(request)
        basket = None
        if acting.trust is not None:
            basket = selectors.basket_of(buyer=request.user, trust=acting.trust)
        if basket is None:
            return Response([])
        view = selectors.basket_for(basket=basket)
        return Response(BasketOutput([_basket_data(request, basket, view)], many=True).data)

    @extend_schema(
        operation_id="baskets_create",
        request=None,
        responses={
            200: OpenApiResponse(BasketOutput, description="The basket the caller had already."),
            201: OpenApiResponse(BasketOutput, description="A new, empty basket."),
        },
        description="Start the caller's basket for the acting trust (a buyer there), or answer the one "
        "they have: a person has one basket per trust.",
    )
    def post(self, request: Request) -> Response:
        acting = _acting_trust(request)
        acting.require()
        had = selectors.basket_of(buyer=request.user, trust=acting.trust)
        basket = services.basket_get_or_create(actor=request.user, acting=acting)
        return _basket_response(request, basket, status.HTTP_200_OK if had else status.HTTP_201_CREATED)


class BasketDetailApi(APIView):
    @extend_schema(
        operation_id="baskets_retrieve",
        responses={200: BasketOutput, **error_responses(404, e404=BASKET_404)},
        description="The basket: lines by supplier, each priced now with VAT, what peers pay and the "
        "cheapest equivalent; totals per supplier and overall.",
    )
    def get(self, request: Request, pk: int) -> Response:
        basket, _ = _basket_or_404(request, pk)
        return _basket_response(request, basket)


class BasketLineAddInput(serializers.Serializer):
    offer = _id_field(Offer, help_text="The offer's id (from /api/v1/products/).")
    quantity = serializers.IntegerField(
        **bounds.integer(BasketLine, "quantity", min_value=1),
        help_text="Packs: added to the line already holding this offer, if there is one.",
    )


class BasketLineChangeInput(serializers.Serializer):
    quantity = serializers.IntegerField(
        **bounds.integer(BasketLine, "quantity", min_value=1), help_text="Packs: at least the minimum."
    )


class BasketLineSwapInput(serializers.Serializer):
    offer = _id_field(Offer, help_text="An offer of the same product or an equivalent one.")
    quantity = serializers.IntegerField(
        **bounds.integer(BasketLine, "quantity", min_value=1),
        required=False,
        allow_null=True,
        default=None,
        help_text="Packs of the new offer; by default enough for the line's units (at least its minimum).",
    )


LINE_404 = "No such basket or line for you, or (adding, swapping) no such offer."


class BasketLineAddApi(APIView):
    @extend_schema(
        operation_id="baskets_lines_create",
        request=BasketLineAddInput,
        responses={201: BasketOutput, **error_responses(404, e404=LINE_404)},
        description="Put packs of a buyable offer in the basket; answers the whole basket. An offer that "
        "cannot be bought (`code` `not_buyable`) or a quantity below its minimum (`below_minimum`) is a "
        "400 naming `offer` or `quantity`.",
    )
    def post(self, request: Request, pk: int) -> Response:
        basket, acting = _basket_or_404(request, pk)
        acting.require()
        given = BasketLineAddInput(data=request.data)
        given.is_valid(raise_exception=True)
        services.basket_line_add(
            basket=basket,
            actor=request.user,
            offer=given.validated_data["offer"],
            quantity=given.validated_data["quantity"],
        )
        return _basket_response(request, basket, status.HTTP_201_CREATED)


class BasketLineApi(APIView):
    @extend_schema(
        operation_id="baskets_lines_partial_update",
        request=BasketLineChangeInput,
        responses={200: BasketOutput, **error_responses(404, e404=LINE_404)},
        description="Change a line's number of packs; answers the whole basket.",
    )
    def patch(self, request: Request, pk: int, line_id: int) -> Response:
        basket, acting = _basket_or_404(request, pk)
        acting.require()
        given = BasketLineChangeInput(data=request.data)
        given.is_valid(raise_exception=True)
        services.basket_line_change(
            basket=basket, actor=request.user, line=line_id, quantity=given.validated_data["quantity"]
        )
        return _basket_response(request, basket)

    @extend_schema(
        operation_id="baskets_lines_destroy",
        responses={204: None, **error_responses(404, e404=LINE_404)},
        description="Take the line out of the basket.",
    )
    def delete(self, request: Request, pk: int, line_id: int) -> Response:
        basket, acting = _basket_or_404(request, pk)
        acting.require()
        services.basket_line_remove(basket=basket, actor=request.user, line=line_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class BasketLineSwapApi(APIView):
    @extend_schema(
        operation_id="baskets_lines_swap",
        request=BasketLineSwapInput,
        responses={200: BasketOutput, **error_responses(404, e404=LINE_404)},
        description="Replace the line's offer by one of the same product from another supplier, or of an "
        "equivalent product (the line's `cheaper.offer`, say), keeping the number of units.",
    )
    def post(self, request: Request, pk: int, line_id: int) -> Response:
        basket, acting = _basket_or_404(request, pk)
        acting.require()
        given = BasketLineSwapInput(data=request.data)
        given.is_valid(raise_exception=True)
        services.basket_line_swap(
            basket=basket,
            actor=request.user,
            line=line_id,
            offer=given.validated_data["offer"],
            quantity=given.validated_data["quantity"],
        )
        return _basket_response(request, basket)


# --- Orders: output ----------------------------------------------------------------------------


class DeliveryOutput(serializers.Serializer):
    site_id = serializers.IntegerField()
    name = serializers.CharField()
    address = serializers.CharField()
    postcode = serializers.CharField()
    gln = serializers.CharField(help_text="GS1 Global Location Number; empty when not known.")


class OrderSummaryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField()
    number = serializers.CharField(help_text="Unique in the trust, e.g. RR8-PO-000123.")
    state = serializers.ChoiceField(choices=OrderState.choices)
    state_label = serializers.CharField()
    trust = PartyOutput()
    supplier = PartyOutput()
    buyer = serializers.CharField(help_text="Who placed the order.")
    cost_centre = serializers.CharField(help_text="The cost centre's code.")
    line_count = serializers.IntegerField()
    total_excl_vat = AmountField()
    total_vat = AmountField()
    total_incl_vat = AmountField()
    required_by = serializers.DateField(allow_null=True)
    expected_delivery = serializers.DateField(allow_null=True, help_text="Given by the supplier.")
    invoice_number = serializers.CharField(help_text="Empty until the supplier invoices.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class OrderLineOutput(serializers.Serializer):
    id = serializers.IntegerField()
    line_number = serializers.IntegerField()
    offer_id = serializers.IntegerField()
    product_id = serializers.IntegerField()
    description = serializers.CharField()
    supplier_sku = serializers.CharField()
    gtin = serializers.CharField()
    packs = serializers.IntegerField()
    units_per_pack = serializers.IntegerField()
    pack_price = AmountField(help_text="Per pack, excluding VAT, as priced at checkout.")
    vat_rate = AmountField(max_digits=4, decimal_places=2)
    line_excl_vat = AmountField()
    line_vat = AmountField()
    line_total = AmountField()
    packs_dispatched = serializers.IntegerField()
    packs_received = serializers.IntegerField()
    invoiced_packs = serializers.IntegerField(allow_null=True)
    invoiced_pack_price = AmountField(allow_null=True)
    price_source = serializers.CharField(help_text="The price source that set the pack price at checkout.")
    price_reference = serializers.CharField(help_text="Its contract or round reference (or empty).")


class ApprovalOutput(serializers.Serializer):
    approver = serializers.CharField()
    approved_at = serializers.DateTimeField()


class EventOutput(serializers.Serializer):
    transition = serializers.CharField()
    from_state = serializers.ChoiceField(choices=OrderState.choices)
    to_state = serializers.ChoiceField(choices=OrderState.choices)
    actor = serializers.CharField(allow_null=True, help_text="Null for the marketplace itself.")
    note = serializers.CharField()
    data = serializers.DictField(help_text="What the step carried: packs by line, a tracking reference.")
    occurred_at = serializers.DateTimeField()


class MatchOutput(serializers.Serializer):
    matched = serializers.BooleanField()
    discrepancies = serializers.ListField(child=serializers.CharField())


class OrderDetailOutput(OrderSummaryOutput):
    delivery = DeliveryOutput()
    note = serializers.CharField()
    approvals_required = serializers.IntegerField()
    approvals = ApprovalOutput(many=True)
    lines = OrderLineOutput(many=True)
    events = EventOutput(many=True, help_text="The order's timeline, oldest first.")
    match = MatchOutput(
        allow_null=True, help_text="The three-way match (ordered, received, invoiced), once invoiced."
    )


def _order_summary(request: Request, order: PurchaseOrder) -> dict:
    return {
        "id": order.pk,
        "url": reverse("purchasing-api-order", kwargs={"pk": order.pk}, request=request),
        "number": order.number,
        "state": order.state,
        "state_label": order.get_state_display(),
        "trust": {"id": order.trust_id, "name": order.trust.name},
        "supplier": {"id": order.supplier_id, "name": order.supplier.name},
        "buyer": str(order.buyer),
        "cost_centre": order.cost_centre.code,
        "line_count": order.line_count,
        "total_excl_vat": order.total_excl_vat,
        "total_vat": order.total_vat,
        "total_incl_vat": order.total_incl_vat,
        "required_by": order.required_by,
        "expected_delivery": order.expected_delivery,
        "invoice_number": order.invoice_number,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
    }


def _order_line_data(line: OrderLine) -> dict:
    invoiced = getattr(line, "invoice_line", None)
    return {
        "id": line.pk,
        "line_number": line.line_number,
        "offer_id": line.offer_id,
        "product_id": line.product_id,
        "description": line.description,
        "supplier_sku": line.supplier_sku,
        "gtin": line.gtin,
        "packs": line.packs,
        "units_per_pack": line.units_per_pack,
        "pack_price": line.pack_price,
        "vat_rate": line.vat_rate,
        "line_excl_vat": line.line_excl_vat,
        "line_vat": line.line_vat,
        "line_total": line.line_total,
        "packs_dispatched": line.packs_dispatched,
        "packs_received": line.packs_received,
        "invoiced_packs": invoiced.packs if invoiced else None,
        "invoiced_pack_price": invoiced.pack_price if invoiced else None,
        "price_source": line.price_source,
        "price_reference": line.price_reference,
    }


def _order_detail(request: Request, order: PurchaseOrder) -> dict:
    match = None
    if order.invoice_number:
        result = selectors.order_match(order=order)
        match = {"matched": result.matched, "discrepancies": result.discrepancies}
    return {
        **_order_summary(request, order),
        "delivery": {
            "site_id": order.delivery_site_id,
            "name": order.delivery_name,
            "address": order.delivery_address,
            "postcode": order.delivery_postcode,
            "gln": order.delivery_gln,
        },
        "note": order.note,
        "approvals_required": order.approvals_required,
        "approvals": [
            {"approver": str(a.approver), "approved_at": a.approved_at} for a in order.approvals.all()
        ],
        "lines": [_order_line_data(line) for line in order.lines.all()],
        "events": [
            {
                "transition": event.transition,
                "from_state": event.from_state,
                "to_state": event.to_state,
                "actor": str(event.actor) if event.actor_id else None,
                "note": event.note,
                "data": event.data,
                "occurred_at": event.occurred_at,
            }
            for event in order.events.all()
        ],
        "match": match,
    }


# --- Checkout ------------------------------------------------------------------------------------


class CheckoutOrderInput(serializers.Serializer):
    supplier = _id_field(PurchaseOrder, "supplier", help_text="A supplier with lines in the basket.")
    delivery_site = _id_field(PurchaseOrder, "delivery_site", help_text="One of the trust's delivery sites.")
    cost_centre = _id_field(PurchaseOrder, "cost_centre", help_text="One of the trust's cost centres.")
    required_by = serializers.DateField(required=False, allow_null=True, default=None)
    note = serializers.CharField(**NOTE, help_text="For the supplier, on the order.")


class CheckoutInput(serializers.Serializer):
    orders = CheckoutOrderInput(
        many=True, help_text="The delivery details of each supplier's order: one per supplier in the basket."
    )
    confirmed_changes = serializers.ListField(
        child=serializers.CharField(max_length=200),
        required=False,
        default=list,
        max_length=10_000,
        help_text="The `key`s of price changes a 409 answer listed, once the buyer has accepted them.",
    )

    def validate_orders(self, orders: list[dict]) -> list[dict]:
        suppliers = [o["supplier"] for o in orders]
        if len(suppliers) != len(set(suppliers)):
            raise serializers.ValidationError("Give each supplier's order once.")
        return orders


class CheckoutOutput(serializers.Serializer):
    orders = OrderSummaryOutput(many=True)


class CheckoutChangeOutput(serializers.Serializer):
    key = serializers.CharField(help_text="Send it back in `confirmed_changes` to accept the change.")
    line = serializers.IntegerField(help_text="The basket line's id.")
    kind = serializers.ChoiceField(choices=["price", "unavailable", "minimum"])
    message = serializers.CharField()
    confirmable = serializers.BooleanField(
        help_text="A price change is confirmed; an unavailable offer or a quantity below the minimum is "
        "put right in the basket (swap, change or remove the line)."
    )
    old_pack_price = AmountField(allow_null=True)
    new_pack_price = AmountField(allow_null=True)


class ChangesToConfirmOutput(ErrorOutput):
    changes = CheckoutChangeOutput(
        many=True, required=False, help_text="With `code` `changes_to_confirm`: what changed."
    )


IDEMPOTENCY_PARAMETER = idempotency_parameter(
    "A key of your choosing, new for each checkout (a UUID, say). Sending the same key "
    "again (a retry, a double submit) creates nothing and answers the orders the first request made. "
    "Missing: 400 naming the header."
)


class BasketCheckoutApi(APIView):
    @extend_schema(
        operation_id="baskets_checkout",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=CheckoutInput,
        responses={
            201: OpenApiResponse(CheckoutOutput, description="One order per supplier, each submitted."),
            200: OpenApiResponse(
                CheckoutOutput, description="A replayed Idempotency-Key: the orders its first request made."
            ),
            409: OpenApiResponse(
                ChangesToConfirmOutput,
                description="`changes_to_confirm`: prices, availability or minimums changed since the "
                "basket was last seen: nothing was created; confirm the price changes (their `key`s in "
                "`confirmed_changes`) or put the other lines right, then send again (the same key "
                "will do: nothing was kept). "
                "Also: the key was used by another person of the trust.",
            ),
            **error_responses(404, e404=BASKET_404),
        },
        description="Turn the basket into one purchase order per supplier, in one transaction: every "
        "line is priced again; the orders go to the trust's approvers or, under its approval band, "
        "straight to the suppliers. An empty basket is a 400 (`empty_basket`).",
    )
    def post(self, request: Request, pk: int) -> Response:
        basket, acting = _basket_or_404(request, pk)
        acting.require()
        key = idempotency_key(request, for_each="checkout")
        given = CheckoutInput(data=request.data)
        given.is_valid(raise_exception=True)
        replayed = selectors.checkout_key_used(trust=basket.trust, key=key)
        orders = services.basket_checkout(
            basket=basket,
            actor=request.user,
            acting=acting,
            idempotency_key=key,
            orders=[
                OrderInput(
                    supplier_id=o["supplier"],
                    delivery_site_id=o["delivery_site"],
                    cost_centre_id=o["cost_centre"],
                    required_by=o["required_by"],
                    note=o["note"],
                )
                for o in given.validated_data["orders"]
            ],
            confirmed_changes=given.validated_data["confirmed_changes"],
        )
        # Read back through the scoped list (its trust, supplier and line counts in one query).
        found = {
            o.pk: o for o in selectors.orders_for(acting=acting).filter(pk__in=[order.pk for order in orders])
        }
        data = {"orders": [_order_summary(request, found[order.pk]) for order in orders]}
        return Response(
            CheckoutOutput(data).data, status=status.HTTP_200_OK if replayed else status.HTTP_201_CREATED
        )


# --- Orders: reads -------------------------------------------------------------------------------


class OrderFilterInput(serializers.Serializer):
    state = serializers.ChoiceField(choices=OrderState.values, required=False)
    supplier = _id_field(PurchaseOrder, "supplier", required=False)
    created_from = serializers.DateField(required=False)
    created_to = serializers.DateField(required=False)

    def validate(self, attrs: dict) -> dict:
        start, end = attrs.get("created_from"), attrs.get("created_to")
        if start and end and start > end:
            raise serializers.ValidationError({"created_to": ["The end date is on or after the start date."]})
        return attrs


class OrderListApi(GenericAPIView):
    queryset = PurchaseOrder.objects.none()

    @extend_schema(
        operation_id="orders_list",
        parameters=[
            OpenApiParameter(
                "state", OpenApiTypes.STR, enum=OrderState.values, description="Only this state."
            ),
            OpenApiParameter("supplier", OpenApiTypes.INT, description="Only orders to this supplier (id)."),
            OpenApiParameter("created_from", OpenApiTypes.DATE, description="Placed on or after this day."),
            OpenApiParameter("created_to", OpenApiTypes.DATE, description="Placed on or before this day."),
        ],
        responses=OrderSummaryOutput(many=True),
        description="The orders of the organisation the request acts for, newest first: a trust's own, "
        "or those sent to a supplier (never its drafts or orders awaiting approval); nothing for others.",
    )
    def get(self, request: Request) -> Response:
        filters = OrderFilterInput(data=request.query_params)
        filters.is_valid(raise_exception=True)
        wanted = filters.validated_data
        filters = {
            "state": wanted.get("state"),
            "supplier_id": wanted.get("supplier"),
            "created_from": wanted.get("created_from"),
            "created_to": wanted.get("created_to"),
        }
        orders = selectors.orders_for(acting=acting_for(request), **filters)
        ids = self.paginate_queryset(orders.values_list("pk", flat=True))
        data = [_order_summary(request, order) for order in selectors.orders_page(orders, ids)]
        return self.get_paginated_response(OrderSummaryOutput(data, many=True).data)


ORDER_404 = "No such order for you: it is another organisation's than the one you act for."


class OrderDetailApi(APIView):
    @extend_schema(
        operation_id="orders_retrieve",
        responses={200: OrderDetailOutput, **error_responses(404, e404=ORDER_404)},
        description="One order with its lines, approvals, timeline and, once invoiced, its three-way match.",
    )
    def get(self, request: Request, pk: int) -> Response:
        order = selectors.order_for(acting=acting_for(request), order_id=pk)
        return Response(OrderDetailOutput(_order_detail(request, order)).data)


# --- Orders: one POST per step -------------------------------------------------------------------


class NoteInput(serializers.Serializer):
    note = serializers.CharField(**NOTE)


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=services.MAX_NOTE_LENGTH, help_text="Told to the other side.")


class AcknowledgeInput(NoteInput):
    expected_delivery = serializers.DateField(help_text="Today or later.")


class LinePacksInput(serializers.Serializer):
    line = _id_field(OrderLine, help_text="The order line's id.")
    packs = serializers.IntegerField(**bounds.integer(OrderLine, "packs_dispatched"))


def _unique_lines(lines: list[dict] | None):
    if lines is not None and len({x["line"] for x in lines}) != len(lines):
        raise serializers.ValidationError("Give each line once.")
    return lines


class DispatchInput(serializers.Serializer):
    tracking_reference = serializers.CharField(max_length=100)
    lines = LinePacksInput(
        many=True,
        required=False,
        allow_null=True,
        default=None,
        help_text="Packs dispatched now per line; leave out to dispatch all that is left.",
    )

    def validate_lines(self, lines):
        return _unique_lines(lines)


class ReceiveInput(NoteInput):
    lines = LinePacksInput(
        many=True,
        required=False,
        allow_null=True,
        default=None,
        help_text="Packs received per line; leave out to receive all that was dispatched.",
    )

    def validate_lines(self, lines):
        return _unique_lines(lines)


class InvoiceLineInput(LinePacksInput):
    pack_price = AmountField(min_value=0, help_text="Charged per pack, excluding VAT.")


class InvoiceInput(serializers.Serializer):
    invoice_number = serializers.CharField(max_length=50)
    lines = InvoiceLineInput(many=True, allow_empty=False)

    def validate_lines(self, lines):
        return _unique_lines(lines)


def _packs(lines: list[dict] | None) -> dict[int, int] | None:
    return None if lines is None else {x["line"]: x["packs"] for x in lines}


def _approve(request, order, acting, data):
    return services.order_approve(order=order, actor=request.user, acting=acting, note=data["note"])


def _reject(request, order, acting, data):
    # The same word for both sides: an approver turns the order down, or the supplier declines it.
    reject = services.order_supplier_reject if acting.supplier is not None else services.order_reject
    return reject(order=order, actor=request.user, acting=acting, reason=data["reason"])


def _acknowledge(request, order, acting, data):
    return services.order_acknowledge(
        order=order,
        actor=request.user,
        acting=acting,
        expected_delivery=data["expected_delivery"],
        note=data["note"],
    )


def _dispatch(request, order, acting, data):
    return services.order_dispatch(
        order=order,
        actor=request.user,
        acting=acting,
        tracking_reference=data["tracking_reference"],
        quantities=_packs(data["lines"]),
    )


def _receive(request, order, acting, data):
    return services.order_receive(
        order=order, actor=request.user, acting=acting, quantities=_packs(data["lines"]), note=data["note"]
    )


def _invoice(request, order, acting, data):
    return services.order_invoice(
        order=order,
        actor=request.user,
        acting=acting,
        invoice_number=data["invoice_number"],
        lines={x["line"]: (x["packs"], x["pack_price"]) for x in data["lines"]},
    )


def _cancel(request, order, acting, data):
    return services.order_cancel(order=order, actor=request.user, acting=acting, reason=data["reason"])


def _close(request, order, acting, data):
    return services.order_close(order=order, actor=request.user, acting=acting, note=data["note"])


class OrderTransitionApi(APIView):
    """One step of an order: the order is found in the acting organisation's scope (404), its input
    read (400), then the step's service decides (403 not on the side that may act, 409 not from
    this state, 400 a rule about the input). Answers the order as it is after the step."""

    def run(self, request: Request, pk: int, input_class: type[serializers.Serializer], step) -> Response:
        acting = acting_for(request)
        acting.require()
        order = selectors.order_for(acting=acting, order_id=pk)
        given = input_class(data=request.data)
        given.is_valid(raise_exception=True)
        step(request, order.pk, acting, given.validated_data)
        fresh = selectors.order_for(acting=acting, order_id=order.pk)
        return Response(OrderDetailOutput(_order_detail(request, fresh)).data)


STEP_RESPONSES = {
    200: OrderDetailOutput,
    **error_responses(
        404,
        409,
        e404=ORDER_404,
        e409="`transition_not_allowed`: the order's state does not allow this step.",
    ),
}


class OrderApproveApi(OrderTransitionApi):
    @extend_schema(
        operation_id="orders_approve",
        request=NoteInput,
        responses=STEP_RESPONSES,
        description="An approver of the trust approves (never their own order: 403 `own_order`; never "
        "twice: 409 `approved_already`). The last approval needed sends the order to the supplier.",
    )
    def post(self, request: Request, pk: int) -> Response:
        return self.run(request, pk, NoteInput, _approve)


class OrderRejectApi(OrderTransitionApi):
    @extend_schema(
        operation_id="orders_reject",
        request=ReasonInput,
        responses=STEP_RESPONSES,
        description="Acting for the trust, an approver turns down an order awaiting approval; acting for "
        "the supplier, it declines an order sent to it. The reason is told to the other side.",
    )
    def post(self, request: Request, pk: int) -> Response:
        return self.run(request, pk, ReasonInput, _reject)


class OrderAcknowledgeApi(OrderTransitionApi):
    @extend_schema(
        operation_id="orders_acknowledge",
        request=AcknowledgeInput,
        responses=STEP_RESPONSES,
        description="The supplier accepts a sent order and says when it expects to deliver.",
    )
    def post(self, request: Request, pk: int) -> Response:
        return self.run(request, pk, AcknowledgeInput, _acknowledge)


class OrderDispatchApi(OrderTransitionApi):
    @extend_schema(
        operation_id="orders_dispatch",
        request=DispatchInput,
        responses=STEP_RESPONSES,
        description="The supplier dispatches all that is left, or some packs of some lines (never more "
        "than ordered: 400 `too_many` naming `lines`), with a tracking reference.",
    )
    def post(self, request: Request, pk: int) -> Response:
        return self.run(request, pk, DispatchInput, _dispatch)


class OrderReceiveApi(OrderTransitionApi):
    @extend_schema(
        operation_id="orders_receive",
        request=ReceiveInput,
        responses=STEP_RESPONSES,
        description="A buyer of the trust records what arrived (never more than dispatched); the "
        "received lines go into the trust's purchase history.",
    )
    def post(self, request: Request, pk: int) -> Response:
        return self.run(request, pk, ReceiveInput, _receive)


class OrderInvoiceApi(OrderTransitionApi):
    @extend_schema(
        operation_id="orders_invoice",
        request=InvoiceInput,
        responses=STEP_RESPONSES,
        description="The supplier invoices a received order: its number, and per line the packs and the "
        "price per pack. The order's `match` then shows the three-way match.",
    )
    def post(self, request: Request, pk: int) -> Response:
        return self.run(request, pk, InvoiceInput, _invoice)


class OrderCancelApi(OrderTransitionApi):
    @extend_schema(
        operation_id="orders_cancel",
        request=ReasonInput,
        responses=STEP_RESPONSES,
        description="A buyer of the trust cancels an order before anything is dispatched, saying why.",
    )
    def post(self, request: Request, pk: int) -> Response:
        return self.run(request, pk, ReasonInput, _cancel)


class OrderCloseApi(OrderTransitionApi):
    @extend_schema(
        operation_id="orders_close",
        request=NoteInput,
        responses=STEP_RESPONSES,
        description="A buyer of the trust closes an invoiced order: nothing more happens to it.",
    )
    def post(self, request: Request, pk: int) -> Response:
        return self.run(request, pk, NoteInput, _close)


# Path segment -> operation, for api_urls.
TRANSITION_APIS: dict[str, type[OrderTransitionApi]] = {
    "approve": OrderApproveApi,
    "reject": OrderRejectApi,
    "acknowledge": OrderAcknowledgeApi,
    "dispatch": OrderDispatchApi,
    "receive": OrderReceiveApi,
    "invoice": OrderInvoiceApi,
    "cancel": OrderCancelApi,
    "close": OrderCloseApi,
}
