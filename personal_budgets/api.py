"""Personal budgets' REST API: wallets and their transactions, the commissioner's allocations, and the
patient's checkout (with an `Idempotency-Key` header).

Scoped like the pages (`personal_budgets.selectors.budgets_for`): a wallet is the patient's own, a
patient's they care for or coordinate (`X-Acting-Patient` picks the patient for checkout), or one of
the ICB's patients for its budget managers; anything else answers 404. Every rule is in
`personal_budgets.services`; its domain errors answer in the API's error shape, naming the field.
Amounts are strings in pounds; ledger transfers' ids are their idempotency keys.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from catalogue.models import Category, Product
from common.api import AmountField, error_responses, idempotency_key, idempotency_parameter
from common.errors import DomainError, NotFound, PermissionDenied
from common.money import from_pence, to_pence
from organisations.acting import PATIENT_HEADER, acting_for
from organisations.models import OrganisationKind, Role
from personal_budgets import selectors, services
from personal_budgets.models import Allocation, AllocationKind, AllocationState, Budget, BudgetKind
from purchasing.models import PurchaseOrder
from purchasing.returns import selectors as return_selectors
from purchasing.returns import services as return_services
from purchasing.returns.models import ReturnState
from purchasing.states import OrderState
from purchasing.types import PatientDelivery, PatientLine

WALLET_404 = "No such wallet for you: not yours, not a patient's you act for, nor your ICB's."


# --- Wallets -------------------------------------------------------------------------------------


class BudgetPartyOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class WalletOutput(serializers.Serializer):
    id = serializers.IntegerField(help_text="The budget's id (its wallet is one ledger account).")
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=BudgetKind.choices)
    patient = BudgetPartyOutput()
    commissioner = BudgetPartyOutput()
    amount = AmountField(help_text="The budget for its whole period.")
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    allocated = AmountField(help_text="Paid into the wallet so far.")
    scheduled = AmountField(help_text="Allocations still to be paid in.")
    held = AmountField(help_text="Put aside for orders waiting for the supplier or the coordinator.")
    available = AmountField(help_text="What may be spent now.")
    transactions_url = serializers.CharField()


def _wallet(request: Request, budget: Budget) -> dict:
    summary = selectors.budget_summary(budget=budget)
    return {
        "id": budget.pk,
        "name": budget.name,
        "kind": budget.kind,
        "patient": {"id": budget.patient_id, "name": budget.patient.user.full_name},
        "commissioner": {"id": budget.commissioner_id, "name": budget.commissioner.name},
        "amount": budget.amount,
        "period_start": budget.period_start,
        "period_end": budget.period_end,
        "allocated": summary.allocated.amount,
        "scheduled": summary.scheduled.amount,
        "held": summary.held.amount,
        "available": summary.left.amount,
        "transactions_url": request.build_absolute_uri(f"/api/v1/wallets/{budget.pk}/transactions/"),
    }


class BudgetInput(serializers.Serializer):
    patient = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, help_text="The id of a patient of your ICB."
    )
    name = serializers.CharField(max_length=120)
    kind = serializers.ChoiceField(choices=BudgetKind.choices)
    amount = AmountField(help_text="The budget for its whole period, in pounds; more than 0.")
    period_start = serializers.DateField()
    period_end = serializers.DateField(help_text="After period_start.")


BUDGET_KEY_PARAMETER = idempotency_parameter(
    "A key of your choosing, new for each budget. The same key again (a retry) makes "
    "nothing and answers the budget the first request made."
)


class WalletListApi(GenericAPIView):
    queryset = Budget.objects.none()

    @extend_schema(
        operation_id="wallets_create",
        request=BudgetInput,
        parameters=[BUDGET_KEY_PARAMETER],
        responses={
            201: WalletOutput,
            409: OpenApiResponse(description="The key was used for another patient's budget."),
            **error_responses(400, 401, 403),
        },
        description="Give a patient of your ICB a personal budget (budget managers). Its wallet opens "
        "empty: allocate into it with POST /api/v1/allocations/. A patient has one budget of a kind "
        "at a time (400 naming `period_start` when the periods overlap); a patient of another ICB is "
        "400 naming `patient`.",
    )
    def post(self, request: Request) -> Response:
        icb = _commissioner(request)
        key = idempotency_key(request)
        given = BudgetInput(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        patient = selectors.commissioner_patients(commissioner=icb).filter(pk=data["patient"]).first()
        if patient is None:
            raise DomainError(f"No patient of {icb.name} has that id.", field="patient")
        budget = services.budget_create(
            patient=patient,
            actor=request.user,
            commissioner=icb,
            name=data["name"],
            kind=data["kind"],
            amount=data["amount"],
            period_start=data["period_start"],
            period_end=data["period_end"],
            request_key=key,
        )
        return Response(WalletOutput(_wallet(request, budget)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="wallets_list",
        responses={200: WalletOutput(many=True), **error_responses(401, 403)},
        description="The personal budgets' wallets you may see, each with what is left.",
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(selectors.budgets_for(request.user).order_by("id"))
        return self.get_paginated_response(WalletOutput([_wallet(request, b) for b in page], many=True).data)


class TransactionOutput(serializers.Serializer):
    id = serializers.UUIDField(help_text="The ledger transfer's id (its idempotency key).")
    created_at = serializers.DateTimeField()
    code = serializers.CharField(help_text="Why: allocation, purchase, refund, ...")
    reference = serializers.CharField(help_text="e.g. order:QWO-PB-000012")
    amount = AmountField(help_text="Positive into the wallet, negative out of it.")
    balance = AmountField(help_text="The wallet's balance after it (posted transfers only).")


class WalletTransactionsApi(GenericAPIView):
    queryset = Budget.objects.none()

    @extend_schema(
        operation_id="wallets_transactions",
        responses={200: TransactionOutput(many=True), **error_responses(401, 403, 404, e404=WALLET_404)},
        description="Every posted ledger transfer of the wallet, oldest first, with the running balance.",
    )
    def get(self, request: Request, pk: int) -> Response:
        budget = selectors.budget_for(user=request.user, budget_id=pk)
        rows = [
            {
                "id": line.transfer_id,
                "created_at": line.created_at,
                "code": line.code,
                "reference": line.reference,
                "amount": (
                    from_pence(abs(line.amount_signed)).amount * (1 if line.amount_signed > 0 else -1)
                ),
                "balance": from_pence(line.balance).amount,
            }
            for line in selectors.wallet_lines(budget=budget)
        ]
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(TransactionOutput(page, many=True).data)


# --- Support plans -------------------------------------------------------------------------------


class PlanOutput(serializers.Serializer):
    version = serializers.IntegerField()
    state = serializers.ChoiceField(choices=selectors.PlanVersionState.choices)
    categories = serializers.ListField(child=serializers.CharField(), help_text="Category slugs.")
    item_cap = AmountField(allow_null=True)
    period_cap = AmountField(allow_null=True)
    cap_period_months = serializers.IntegerField()
    over_cap_with_approval = serializers.BooleanField()
    approval_categories = serializers.ListField(child=serializers.CharField())
    approval_products = serializers.ListField(child=serializers.IntegerField())
    top_ups_allowed = serializers.BooleanField()
    notes = serializers.CharField()
    proposed_at = serializers.DateTimeField()
    patient_agreed_at = serializers.DateTimeField(allow_null=True)


class PlanCategoryField(serializers.SlugRelatedField):
    """A category a plan may name, by slug: as on the coordinator's page (read when checked)."""

    def __init__(self, **kwargs) -> None:
        # The queryset names the model for the schema; get_queryset narrows it when a request is checked.
        super().__init__(slug_field="slug", queryset=Category.objects.all(), **kwargs)

    def get_queryset(self):
        return selectors.plan_category_choices()


class PlanProductField(serializers.PrimaryKeyRelatedField):
    """A product sold to patients, by id, that the coordinator checks first."""

    def __init__(self, **kwargs) -> None:
        super().__init__(queryset=Product.objects.all(), **kwargs)

    def get_queryset(self):
        return selectors.plan_product_choices()


class PlanInput(serializers.Serializer):
    categories = PlanCategoryField(
        many=True,
        allow_empty=False,
        help_text="Slugs of what the budget may buy (a category covers the ones below it).",
    )
    item_cap = AmountField(required=False, allow_null=True, default=None)
    period_cap = AmountField(required=False, allow_null=True, default=None)
    cap_period_months = serializers.IntegerField(min_value=1, max_value=120, default=12)
    over_cap_with_approval = serializers.BooleanField(default=True)
    approval_categories = PlanCategoryField(many=True, required=False)
    approval_products = PlanProductField(many=True, required=False)
    top_ups_allowed = serializers.BooleanField(default=False)
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


def _plans(budget: Budget) -> list[dict]:
    return [
        {
            "version": plan.version,
            "state": plan.state,
            "categories": [c.slug for c in plan.categories.all()],
            "item_cap": plan.item_cap,
            "period_cap": plan.period_cap,
            "cap_period_months": plan.cap_period_months,
            "over_cap_with_approval": plan.over_cap_with_approval,
            "approval_categories": [c.slug for c in plan.approval_categories.all()],
            "approval_products": [p.pk for p in plan.approval_products.all()],
            "top_ups_allowed": plan.top_ups_allowed,
            "notes": plan.notes,
            "proposed_at": plan.proposed_at,
            "patient_agreed_at": plan.patient_agreed_at,
        }
        for plan in selectors.plan_versions(budget=budget)
    ]


PLAN_KEY_PARAMETER = idempotency_parameter(
    "A key of your choosing, new for each version. The same key again writes nothing and "
    "answers the version the first request wrote."
)


class PlanListApi(GenericAPIView):
    queryset = Budget.objects.none()

    @extend_schema(
        operation_id="wallets_plans_list",
        responses={200: PlanOutput(many=True), **error_responses(401, 403, 404, e404=WALLET_404)},
        description="Every version of the budget's support plan, newest first: the one in use, one "
        "waiting for the patient to agree it, and those replaced.",
    )
    def get(self, request: Request, pk: int) -> Response:
        budget = selectors.budget_for(user=request.user, budget_id=pk)
        return Response(PlanOutput(_plans(budget), many=True).data)

    @extend_schema(
        operation_id="wallets_plans_create",
        request=PlanInput,
        parameters=[PLAN_KEY_PARAMETER],
        responses={201: PlanOutput, **error_responses(400, 401, 403, 404, e404=WALLET_404)},
        description="The patient's care coordinator writes a new version of the plan. It is used once "
        "the patient (or a carer they chose) agrees it: POST .../plans/{version}/agree/. 400 names the "
        "field (`categories`, `item_cap` over `period_cap`, ...); anyone but the coordinator is 403.",
    )
    def post(self, request: Request, pk: int) -> Response:
        budget = selectors.budget_for(user=request.user, budget_id=pk)
        if not services.is_coordinator_of(actor=request.user, patient=budget.patient):
            # Someone who may see the budget (the patient, a carer, the ICB's managers) but not write it.
            raise PermissionDenied(
                "Only the patient's care coordinator writes their support plan.",
                field="acting",
                code="not_coordinator",
            )
        key = idempotency_key(request)
        given = PlanInput(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        plan = services.plan_propose(
            budget=budget,
            actor=request.user,
            categories=data["categories"],
            item_cap=data["item_cap"],
            period_cap=data["period_cap"],
            cap_period_months=data["cap_period_months"],
            over_cap_with_approval=data["over_cap_with_approval"],
            approval_categories=data.get("approval_categories", []),
            approval_products=data.get("approval_products", []),
            top_ups_allowed=data["top_ups_allowed"],
            notes=data["notes"],
            request_key=key,
        )
        written = next(row for row in _plans(budget) if row["version"] == plan.version)
        return Response(PlanOutput(written).data, status=status.HTTP_201_CREATED)


class PlanAgreeApi(GenericAPIView):
    queryset = Budget.objects.none()

    @extend_schema(
        operation_id="wallets_plans_agree",
        request=None,
        responses={200: PlanOutput, **error_responses(401, 403, 404, 409, e404=WALLET_404)},
        description="The patient, or a carer they chose, agrees the waiting version: it is the plan from "
        "now. 409 `agreed_already`, or `superseded` when a newer version was written since; the care "
        "coordinator is 403 (`not_patient`).",
    )
    def post(self, request: Request, pk: int, version: int) -> Response:
        budget = selectors.budget_for(user=request.user, budget_id=pk)
        plan = budget.plans.filter(version=version).first()
        if plan is None:
            raise NotFound("No such version of this budget's plan.", field="version")
        services.plan_agree(plan=plan, actor=request.user)
        agreed = next(row for row in _plans(budget) if row["version"] == plan.version)
        return Response(PlanOutput(agreed).data)


# --- Allocations ---------------------------------------------------------------------------------


class AllocationInput(serializers.Serializer):
    budget = serializers.IntegerField(min_value=1, max_value=2**31 - 1, help_text="A budget of your ICB.")
    amount = AmountField(help_text="More than 0, in pounds.")
    kind = serializers.ChoiceField(choices=AllocationKind.choices, default=AllocationKind.ONE_OFF)
    due_on = serializers.DateField(required=False, allow_null=True, default=None, help_text="Scheduled only.")
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class AllocationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    budget = serializers.IntegerField(source="budget_id")
    amount = AmountField()
    kind = serializers.ChoiceField(choices=AllocationKind.choices)
    state = serializers.ChoiceField(choices=AllocationState.choices)
    due_on = serializers.DateField()
    made_at = serializers.DateTimeField(allow_null=True)
    transfer_id = serializers.UUIDField(help_text="The ledger transfer that pays it in.")
    note = serializers.CharField()
    cancelled_at = serializers.DateTimeField(allow_null=True)
    cancel_reason = serializers.CharField()


class AllocationCancelInput(serializers.Serializer):
    reason = serializers.CharField(max_length=200, help_text="Why it is called off (kept in the audit log).")


def _commissioner(request: Request):
    acting = acting_for(request, kind=OrganisationKind.COMMISSIONER)
    icb = acting.require()
    if not acting.has_role(Role.BUDGET_MANAGER):
        raise PermissionDenied("Only a budget manager of the ICB may do this.", field="acting")
    return icb


class AllocationListApi(GenericAPIView):
    queryset = Allocation.objects.none()

    @extend_schema(
        operation_id="allocations_list",
        responses={200: AllocationOutput(many=True), **error_responses(400, 401, 403)},
        description="Your ICB's allocations to its patients' budgets, newest first (budget managers).",
    )
    def get(self, request: Request) -> Response:
        icb = _commissioner(request)
        found = Allocation.objects.filter(budget__commissioner=icb).order_by("-created_at", "-id")
        page = self.paginate_queryset(found)
        return self.get_paginated_response(AllocationOutput(page, many=True).data)

    @extend_schema(
        operation_id="allocations_create",
        request=AllocationInput,
        responses={201: AllocationOutput, **error_responses(400, 401, 403, 404)},
        description="Allocate money to a budget: a one-off is paid into its wallet now, a scheduled one "
        "on its day. Allocations never add up to more than the budget (400 `over_budget`).",
    )
    def post(self, request: Request) -> Response:
        icb = _commissioner(request)
        given = AllocationInput(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        budget = selectors.commissioner_budgets(commissioner=icb).filter(pk=data["budget"]).first()
        if budget is None:
            raise NotFound("No such budget of your ICB.", field="budget")
        allocation = services.allocation_create(
            budget=budget,
            actor=request.user,
            amount=data["amount"],
            kind=data["kind"],
            due_on=data["due_on"],
            note=data["note"],
        )
        return Response(AllocationOutput(allocation).data, status=status.HTTP_201_CREATED)


class AllocationCancelApi(GenericAPIView):
    queryset = Allocation.objects.none()

    @extend_schema(
        operation_id="allocations_cancel",
        request=AllocationCancelInput,
        responses={200: AllocationOutput, **error_responses(400, 401, 403, 404, 409)},
        description="Call off a scheduled allocation before its day: it is never paid in and its amount "
        "may be allocated again. Cancelling it again answers the same allocation; one already paid in "
        "is 409 `already_paid_in`.",
    )
    def post(self, request: Request, pk: int) -> Response:
        icb = _commissioner(request)
        found = Allocation.objects.filter(pk=pk, budget__commissioner=icb).first()
        if found is None:
            raise NotFound("No such allocation of your ICB.", field="allocation")
        given = AllocationCancelInput(data=request.data)
        given.is_valid(raise_exception=True)
        allocation = services.allocation_cancel(
            allocation=found, actor=request.user, reason=given.validated_data["reason"]
        )
        return Response(AllocationOutput(allocation).data)


# --- Patient orders ------------------------------------------------------------------------------


class PatientLineInput(serializers.Serializer):
    offer = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    quantity = serializers.IntegerField(min_value=1, max_value=100, help_text="Packs.")


class DeliveryInput(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    address = serializers.CharField(max_length=500)
    postcode = serializers.CharField(max_length=10)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class PatientOrderInput(serializers.Serializer):
    lines = PatientLineInput(many=True, min_length=1, max_length=50, help_text="Items from one supplier.")
    delivery = DeliveryInput()
    card_amount = AmountField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Pay the rest by card (a top-up): the order's total less what the budget has left, in "
        "pounds, as the patient was shown it. Only when the plan allows top-ups; then start the card "
        "payment with POST /api/v1/patient-orders/{id}/top-up/.",
    )


class PatientOrderOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    state = serializers.ChoiceField(choices=OrderState.values)
    supplier = BudgetPartyOutput()
    total_incl_vat = AmountField()
    money = serializers.ChoiceField(
        choices=["held", "paid", "released"], help_text="Held until the supplier accepts; released if not."
    )
    waits_for_approval = serializers.BooleanField()
    approval_reasons = serializers.ListField(child=serializers.CharField())
    decision_reason = serializers.CharField(help_text="The coordinator's or supplier's reason, if any.")
    created_at = serializers.DateTimeField()
    top_up = serializers.CharField(
        allow_null=True,
        help_text="Paid partly by card: its card payment's address (start it, read its state).",
    )


def _patient_order(order: PurchaseOrder) -> dict:
    spend = order.budget_spend
    return {
        "id": order.pk,
        "number": order.number,
        "state": order.state,
        "supplier": {"id": order.supplier_id, "name": order.supplier.name},
        "total_incl_vat": order.total_incl_vat,
        "money": spend.state,
        "waits_for_approval": order.state == OrderState.AWAITING_APPROVAL,
        "approval_reasons": spend.approval_reasons,
        "decision_reason": spend.decision_reason,
        "created_at": order.created_at,
        "top_up": f"/api/v1/patient-orders/{order.pk}/top-up/" if hasattr(spend, "top_up") else None,
    }


IDEMPOTENCY_PARAMETER = idempotency_parameter(
    "A key of your choosing, new for each checkout. The same key again (a retry, a "
    "second tab) creates nothing, moves no money and answers the order the first request made."
)
PATIENT_PARAMETER = OpenApiParameter(
    PATIENT_HEADER,
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="The patient's NHS number, for a carer or care coordinator acting for them.",
)


def _patient(request: Request):
    patient = acting_for(request).patient
    if patient is None:
        raise DomainError(f"Send the {PATIENT_HEADER} header: the patient you act for.", field=PATIENT_HEADER)
    return patient


class PatientOrderListApi(GenericAPIView):
    queryset = PurchaseOrder.objects.none()

    @extend_schema(
        operation_id="patient_orders_list",
        parameters=[PATIENT_PARAMETER],
        responses={200: PatientOrderOutput(many=True), **error_responses(400, 401, 403)},
        description="The patient's orders paid from their budget, newest first.",
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(selectors.patient_orders(patient=_patient(request)))
        return self.get_paginated_response(
            PatientOrderOutput([_patient_order(o) for o in page], many=True).data
        )

    @extend_schema(
        operation_id="patient_orders_create",
        parameters=[IDEMPOTENCY_PARAMETER, PATIENT_PARAMETER],
        request=PatientOrderInput,
        responses={
            201: OpenApiResponse(PatientOrderOutput, description="Ordered; the money is held in the wallet."),
            200: OpenApiResponse(
                PatientOrderOutput, description="A replayed key: the first request's order."
            ),
            409: OpenApiResponse(description="The key was used by someone else."),
            **error_responses(400, 401, 403, 404),
        },
        description="Buy from one supplier with the patient's budget. The support plan's rules apply "
        "(400 naming `offer`, `item_cap` or `period_cap`; `amount` when not enough is left). An item over "
        "the cap per item, or one the plan flags, waits for the care coordinator with the money held. With "
        "`card_amount` the patient pays the rest by card (a top-up; 400 naming `plan` or `card_pence`).",
    )
    def post(self, request: Request) -> Response:
        patient = _patient(request)
        key = idempotency_key(request)
        given = PatientOrderInput(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        delivery = data["delivery"]
        arguments = {
            "patient": patient,
            "actor": request.user,
            "lines": [PatientLine(offer_id=line["offer"], packs=line["quantity"]) for line in data["lines"]],
            "delivery": PatientDelivery(
                name=delivery["name"],
                address=delivery["address"],
                postcode=delivery["postcode"],
                note=delivery["note"],
            ),
            "idempotency_key": key,
        }
        if data["card_amount"] is not None:
            from personal_budgets.topups import services as topups  # the room above: imported late

            result = topups.topup_checkout(**arguments, card_pence=to_pence(data["card_amount"]))
        else:
            result = services.patient_checkout(**arguments)
        order = selectors.patient_order(patient=patient, order_id=result.order.pk)
        return Response(
            PatientOrderOutput(_patient_order(order)).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


# --- Returns of a patient's order ----------------------------------------------------------------


class ReturnRequestInput(serializers.Serializer):
    line = serializers.IntegerField(min_value=1, max_value=2**31 - 1, help_text="The order line's id.")
    packs = serializers.IntegerField(min_value=1, max_value=100)
    reason = serializers.CharField(max_length=500)


class PatientReturnOutput(serializers.Serializer):
    id = serializers.IntegerField()
    line = serializers.IntegerField(help_text="The order line's id.")
    description = serializers.CharField()
    packs = serializers.IntegerField()
    reason = serializers.CharField()
    state = serializers.ChoiceField(choices=ReturnState.choices)
    refund_amount = AmountField(allow_null=True, help_text="Given back with VAT, once accepted.")
    decision_note = serializers.CharField(help_text="The supplier's note, or why it said no.")
    requested_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)


def return_data(found) -> dict:
    return {
        "id": found.pk,
        "line": found.line_id,
        "description": found.line.description,
        "packs": found.packs,
        "reason": found.reason,
        "state": found.state,
        "refund_amount": found.refund_amount,
        "decision_note": found.decision_note,
        "requested_at": found.requested_at,
        "decided_at": found.decided_at,
    }


RETURN_IDEMPOTENCY_PARAMETER = idempotency_parameter(
    "A key of your choosing, new for each return. The same key again answers the same "
    "return and asks nothing twice."
)


def _patients_order(request: Request, order_id: int) -> PurchaseOrder:
    """One of the acting patient's orders; 404 for anyone acting for no patient or another one."""
    patient = acting_for(request).patient
    if patient is None:
        raise NotFound("No such order.", field="order")
    return selectors.patient_order(patient=patient, order_id=order_id)


class PatientOrderReturnsApi(GenericAPIView):
    """The returns of one of the patient's orders, and asking for a new one. Another patient's order
    is a 404 whatever is sent."""

    queryset = PurchaseOrder.objects.none()
    pagination_class = None

    @extend_schema(
        operation_id="patient_order_returns_list",
        parameters=[PATIENT_PARAMETER],
        responses={200: PatientReturnOutput(many=True), **error_responses(400, 401, 403, 404)},
        description="The order's returns, oldest first: waiting for the supplier, accepted (with the "
        "money given back) or refused (with the supplier's reason).",
    )
    def get(self, request: Request, order_id: int) -> Response:
        order = _patients_order(request, order_id)
        found = return_selectors.returns_of(order=order)
        return Response(PatientReturnOutput([return_data(r) for r in found], many=True).data)

    @extend_schema(
        operation_id="patient_order_returns_create",
        parameters=[RETURN_IDEMPOTENCY_PARAMETER, PATIENT_PARAMETER],
        request=ReturnRequestInput,
        responses={
            201: OpenApiResponse(PatientReturnOutput, description="Asked; the supplier is told."),
            200: OpenApiResponse(
                PatientReturnOutput, description="A replayed key: the first request's return."
            ),
            409: OpenApiResponse(
                description="`not_dispatched`: that line has not been sent yet; or the key "
                "was used by someone else."
            ),
            **error_responses(400, 401, 403, 404),
        },
        description="Ask to send back some packs of a dispatched line, saying why (400 naming `line`, "
        "`packs` (`too_many`: more than was sent less what is already going back) or `reason`). The "
        "money comes back when the supplier accepts.",
    )
    def post(self, request: Request, order_id: int) -> Response:
        order = _patients_order(request, order_id)
        key = idempotency_key(request)
        given = ReturnRequestInput(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        found, created = return_services.return_request(
            order=order.pk,
            actor=request.user,
            line=data["line"],
            packs=data["packs"],
            reason=data["reason"],
            idempotency_key=key,
        )
        fresh = return_selectors.returns_of(order=order).get(pk=found.pk)
        return Response(
            PatientReturnOutput(return_data(fresh)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
