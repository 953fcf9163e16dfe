"""Returns in the API: the supplier's side under the orders API (`/orders/{id}/returns/`, accept and
refuse), and the serializers personal budgets' patient-orders API answers with. The order (and the
return) a path names is found in the acting organisation's scope first: another supplier's is a 404
whatever is sent. Rules are `purchasing.returns.services`'."""

from __future__ import annotations

from collections.abc import Callable

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import AmountField, error_responses
from organisations.acting import Acting, acting_for
from purchasing import selectors as order_selectors
from purchasing.returns import selectors, services
from purchasing.returns.models import OrderReturn, ReturnState


class ReturnOutput(serializers.Serializer):
    id = serializers.IntegerField()
    order = serializers.IntegerField(help_text="The order's id.")
    order_number = serializers.CharField()
    line = serializers.IntegerField(help_text="The order line's id.")
    line_number = serializers.IntegerField()
    description = serializers.CharField()
    packs = serializers.IntegerField()
    reason = serializers.CharField()
    state = serializers.ChoiceField(choices=ReturnState.choices)
    refund_amount = AmountField(allow_null=True, help_text="Given back with VAT, once accepted.")
    decision_note = serializers.CharField(help_text="The supplier's note, or why it refused.")
    requested_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)


def return_data(found: OrderReturn) -> dict:
    return {
        "id": found.pk,
        "order": found.order_id,
        "order_number": found.order.number,
        "line": found.line_id,
        "line_number": found.line.line_number,
        "description": found.line.description,
        "packs": found.packs,
        "reason": found.reason,
        "state": found.state,
        "refund_amount": found.refund_amount,
        "decision_note": found.decision_note,
        "requested_at": found.requested_at,
        "decided_at": found.decided_at,
    }


class ReturnRequestInput(serializers.Serializer):
    line = serializers.IntegerField(min_value=1, max_value=2**31 - 1, help_text="The order line's id.")
    packs = serializers.IntegerField(min_value=1, max_value=10**6)
    reason = serializers.CharField(max_length=services.MAX_REASON)


class AcceptInput(serializers.Serializer):
    note = serializers.CharField(max_length=services.MAX_REASON, required=False, allow_blank=True, default="")


class RefuseInput(serializers.Serializer):
    reason = serializers.CharField(max_length=services.MAX_REASON)


RETURN_404 = "No such order or return in the acting organisation's scope."


class OrderReturnListApi(APIView):
    @extend_schema(
        operation_id="orders_returns_list",
        responses={200: ReturnOutput(many=True), **error_responses(404, e404=RETURN_404)},
        description="The order's returns, oldest first (its supplier, or its trust).",
    )
    def get(self, request: Request, pk: int) -> Response:
        order = order_selectors.order_for(acting=acting_for(request), order_id=pk)
        found = selectors.returns_of(order=order).select_related("order")
        return Response(ReturnOutput([return_data(r) for r in found], many=True).data)


# What an answer does: given who acts, the return and the checked input, the service's result.
Decide = Callable[[Acting, OrderReturn, dict], tuple[OrderReturn, bool]]


def _answer(
    request: Request, pk: int, return_id: int, given: serializers.Serializer, decide: Decide
) -> Response:
    """The supplier's answer to a return: found in the acting supplier's scope first (404 for anyone
    else, whatever is sent), then the input checked, then the service, then the return as it is."""
    acting = acting_for(request)
    acting.require()
    found = selectors.supplier_return(acting=acting, order_id=pk, return_id=return_id)
    given.is_valid(raise_exception=True)
    decided, _ = decide(acting, found, given.validated_data)
    fresh = selectors.supplier_return(acting=acting, order_id=pk, return_id=decided.pk)
    return Response(ReturnOutput(return_data(fresh)).data, status=status.HTTP_200_OK)


DECISION_RESPONSES = {
    200: OpenApiResponse(ReturnOutput, description="The return after the answer (or as it was: a retry)."),
    **error_responses(404, 409, e404=RETURN_404, e409="`return_decided`: it had the other answer already."),
}


class ReturnAcceptApi(APIView):
    @extend_schema(
        operation_id="orders_returns_accept",
        request=AcceptInput,
        responses=DECISION_RESPONSES,
        description="The supplier has the goods back: the return is accepted and the money given back "
        "(a patient's order: the wallet part through the ledger, a card part refunded through Stripe). "
        "Accepting again answers the same return and gives nothing back twice.",
    )
    def post(self, request: Request, pk: int, return_id: int) -> Response:
        return _answer(
            request,
            pk,
            return_id,
            AcceptInput(data=request.data),
            lambda acting, found, data: services.return_accept(
                order_return=found.pk, actor=request.user, acting=acting, note=data["note"]
            ),
        )


class ReturnRefuseApi(APIView):
    @extend_schema(
        operation_id="orders_returns_refuse",
        request=RefuseInput,
        responses=DECISION_RESPONSES,
        description="The supplier refuses the return, saying why (the buyer reads it).",
    )
    def post(self, request: Request, pk: int, return_id: int) -> Response:
        return _answer(
            request,
            pk,
            return_id,
            RefuseInput(data=request.data),
            lambda acting, found, data: services.return_refuse(
                order_return=found.pk, actor=request.user, acting=acting, reason=data["reason"]
            ),
        )
