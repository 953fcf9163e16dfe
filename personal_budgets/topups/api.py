"""Card top-ups' REST API: start (or get back) the card part of a patient's top-up order, and read its
state. For an app doing what the top-up page does: it hands `client_secret` and `publishable_key` to
Stripe's own SDK (Elements, or the mobile Payment Sheet), which takes the card straight to Stripe.

Scoped to the payer: the patient themselves or a carer they granted (`X-Acting-Patient` picks the
patient). The care coordinator, who may see and approve the order, does not pay it: 404, as for
anyone else's order. Every rule is in `personal_budgets.topups.services`; its domain errors answer in
the API's error shape, naming the field.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from common.api import AmountField, error_responses, idempotency_key, idempotency_parameter
from common.errors import NotFound
from common.money import from_pence
from organisations.acting import acting_for
from payments.states import PaymentState
from personal_budgets.api import PATIENT_PARAMETER
from personal_budgets.topups import selectors, services
from personal_budgets.topups.models import TopUp, TopUpState

KEY_PARAMETER = idempotency_parameter(
    "A key of your choosing. There is one card payment per order: the same request again, "
    "with this key or another, answers the same PaymentIntent and asks Stripe nothing new."
)
ORDER_404 = "No such top-up order for you: not the patient's, or you are not the patient or their carer."


class TopUpPaymentOutput(serializers.Serializer):
    order = serializers.IntegerField(help_text="The patient order's id.")
    number = serializers.CharField()
    amount = AmountField(help_text="The card part, in pounds: the order's total less the budget's part.")
    amount_pence = serializers.IntegerField(help_text="The same in pence, as Stripe takes it.")
    currency = serializers.CharField()
    client_secret = serializers.CharField(
        help_text="The PaymentIntent's client secret, for Stripe's SDK only: never log or store it."
    )
    publishable_key = serializers.CharField(help_text="Stripe's publishable key for the SDK.")
    payment_state = serializers.ChoiceField(choices=PaymentState.values)
    expires_at = serializers.DateTimeField(
        help_text="Unpaid by then, it is cancelled and the budget's part freed."
    )


class TopUpPaymentStateOutput(serializers.Serializer):
    state = serializers.ChoiceField(choices=TopUpState.values)
    status = serializers.ChoiceField(
        choices=["awaiting_approval", "waiting", "declined", "processing", "paid", "cancelled", "returned"],
        help_text="What the patient's page says, in one word.",
    )
    message = serializers.CharField(help_text="The same in words for the patient.")
    final = serializers.BooleanField(help_text="Nothing more will change: stop asking.")
    wallet_amount = AmountField(help_text="The budget's part.")
    card_amount = AmountField(help_text="The card's part.")
    payment_state = serializers.ChoiceField(
        choices=PaymentState.values, allow_null=True, help_text="Null until the card payment is started."
    )
    amount_refunded = AmountField(help_text="Card money given back so far.")
    card_due_at = serializers.DateTimeField(
        allow_null=True, help_text="The card payment must be started by then or the order is cancelled."
    )
    ended_reason = serializers.CharField(help_text="Why it was cancelled or the card given back, if so.")


def _state(top_up: TopUp) -> dict:
    shown = selectors.top_up_status(top_up=top_up)
    payment = top_up.payment
    return {
        "state": top_up.state,
        "status": shown.state,
        "message": shown.message,
        "final": shown.final,
        "wallet_amount": from_pence(top_up.wallet_pence).amount,
        "card_amount": from_pence(top_up.card_pence).amount,
        "payment_state": payment.state if payment else None,
        "amount_refunded": from_pence(payment.amount_refunded_pence if payment else 0).amount,
        "card_due_at": top_up.card_due_at,
        "ended_reason": top_up.ended_reason,
    }


def _payer(request: Request):
    """The patient the request acts for; 404, as for another patient's order, when it acts for none:
    a top-up names one order, and a stranger learns nothing of it."""
    patient = acting_for(request).patient
    if patient is None:
        raise NotFound("No such order.", field="order")
    return patient


class TopUpPaymentApi(GenericAPIView):
    queryset = TopUp.objects.none()

    @extend_schema(
        operation_id="patient_orders_top_up_state",
        parameters=[PATIENT_PARAMETER],
        responses={200: TopUpPaymentStateOutput, **error_responses(400, 401, 403, 404, e404=ORDER_404)},
        description="The card part of a top-up order: waiting for the coordinator, for the card, paid, "
        "cancelled (and why) or given back. Never the client secret.",
    )
    def get(self, request: Request, pk: int) -> Response:
        top_up = selectors.top_up_for_payer(user=request.user, patient=_payer(request), order_id=pk)
        return Response(TopUpPaymentStateOutput(_state(top_up)).data)

    @extend_schema(
        operation_id="patient_orders_top_up_start",
        parameters=[
            PATIENT_PARAMETER,
            KEY_PARAMETER,
        ],
        request=None,
        responses={
            201: OpenApiResponse(TopUpPaymentOutput, description="The card payment is started."),
            200: OpenApiResponse(TopUpPaymentOutput, description="The card payment already under way."),
            409: OpenApiResponse(
                description="`order`: waiting for the care coordinator (`top_up_awaiting_approval`), "
                "paid (`top_up_paid`), cancelled (`top_up_cancelled`) or given back (`top_up_returned`)."
            ),
            **error_responses(400, 401, 403, 404, e404=ORDER_404),
        },
        description="Start the card part of a top-up order (or get back the one under way) for Stripe's "
        "SDK. 400 `card_pence` (`payments_disabled`) when card payments are switched off here.",
    )
    def post(self, request: Request, pk: int) -> Response:
        patient = _payer(request)
        # Whose order it is first: a stranger learns nothing, not even that a key is missing.
        top_up = selectors.top_up_for_payer(user=request.user, patient=patient, order_id=pk)
        idempotency_key(request)
        started = services.topup_payment_start(top_up=top_up)
        order = top_up.spend.order
        body = {
            "order": order.pk,
            "number": order.number,
            "amount": from_pence(top_up.card_pence).amount,
            "amount_pence": started.payment.amount_pence,
            "currency": started.payment.currency,
            "client_secret": started.client_secret,
            "publishable_key": started.publishable_key,
            "payment_state": started.payment.state,
            "expires_at": started.payment.expires_at,
        }
        return Response(
            TopUpPaymentOutput(body).data,
            status=status.HTTP_201_CREATED if started.created else status.HTTP_200_OK,
        )
