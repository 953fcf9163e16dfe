"""Personal budgets' business rules: budgets and their wallets, allocations, support plans and their
rules, the patient's checkout, the care coordinator's decisions and refunds.

Money moves only through `ledger.services`, in integer pence, with ids derived from business keys
(`ledger.services.transfer_id`): paying in an allocation, holding an order's money or giving it back
twice moves it once. Ledger accounts: the commissioner's funding (`funding:commissioner:<id>`), the
budget's wallet (never below zero: the ledger's CHECK), and each supplier's payable account
(`payable:supplier:<id>`). An order's money is held (a pending transfer wallet -> payable) at
checkout, posted when the supplier acknowledges the order and voided when the coordinator or the
supplier turns it down or it is cancelled: purchasing calls `order_transitioned` (registered in
`apps.py`) in the transaction of each transition.

Each function takes keyword-only arguments, runs in one transaction and raises `common.errors`
domain errors naming the field at fault; nothing changes when one is raised.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from catalogue.models import CATEGORY_SEPARATOR, Category, Offer, Product
from catalogue.strategy import Strategy, default_strategy
from common import audit
from common.errors import Conflict, DomainError, NotFound, PermissionDenied
from common.money import Money, to_pence
from ledger import services as ledger
from ledger.selectors import balance
from organisations.models import Organisation, PatientProfile, Role, User
from organisations.permissions import patients_for, roles_for
from personal_budgets.models import (
    Allocation,
    AllocationKind,
    AllocationState,
    Budget,
    BudgetKind,
    Refund,
    Spend,
    SpendState,
    SupportPlan,
)
from personal_budgets.periods import CapPeriod, add_months, cap_period
from personal_budgets.selectors import cap_period_spent, current_budget, current_plan
from purchasing import services as purchasing
from purchasing.models import PurchaseOrder
from purchasing.states import OrderState
from purchasing.types import PatientDelivery, PatientLine

BUDGET_CREATED = audit.register_kind("personal_budgets.budget_created", "Personal budget created")
ALLOCATED = audit.register_kind("personal_budgets.allocated", "Money allocated to a personal budget")
BUDGET_CHANGED = audit.register_kind("personal_budgets.budget_changed", "Personal budget changed or ended")
ALLOCATION_CANCELLED = audit.register_kind(
    "personal_budgets.allocation_cancelled", "Scheduled allocation to a personal budget cancelled"
)
PLAN_PROPOSED = audit.register_kind("personal_budgets.plan_proposed", "Support plan written")
PLAN_AGREED = audit.register_kind("personal_budgets.plan_agreed", "Support plan agreed by the patient")
SPEND_APPROVED = audit.register_kind("personal_budgets.spend_approved", "Patient order approved")
SPEND_DECLINED = audit.register_kind("personal_budgets.spend_declined", "Patient order declined")
REFUNDED = audit.register_kind("personal_budgets.refunded", "Money given back to a personal budget")

MAX_AMOUNT = Decimal(10**7)  # ten million pounds: no personal budget comes near it
MAX_TEXT = 2000


# --- Checks ---------------------------------------------------------------------------------


def _amount(value, *, field: str) -> Decimal:
    """A positive amount of pounds to the penny, below MAX_AMOUNT (zero and negatives refused)."""
    try:
        amount = Decimal(str(value)) if not isinstance(value, float | bool) else None
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite() or amount.as_tuple().exponent < -2:
        raise DomainError("Enter an amount in pounds, like 250 or 249.99.", field=field)
    if not 0 < amount < MAX_AMOUNT:
        raise DomainError(f"Enter an amount more than £0 and less than £{MAX_AMOUNT:,}.", field=field)
    return amount


def _cap(value, *, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    return _amount(value, field=field)


def _text(value: str, *, field: str, required: bool = True, max_length: int = MAX_TEXT) -> str:
    text = (value or "").strip()
    if required and not text:
        raise DomainError(f"Enter the {field.replace('_', ' ')}.", field=field)
    if len(text) > max_length or "\x00" in text:
        raise DomainError(f"The {field.replace('_', ' ')} is at most {max_length} characters.", field=field)
    return text


def _require_budget_manager(*, actor: User, commissioner: Organisation) -> None:
    if not commissioner.is_active or Role.BUDGET_MANAGER not in roles_for(actor, commissioner):
        raise PermissionDenied(
            f"Only a budget manager of {commissioner.name} may do this.",
            field="acting",
            code="not_budget_manager",
        )


def is_coordinator_of(*, actor: User, patient: PatientProfile) -> bool:
    """The actor is the patient's care coordinator, acting at the patient's ICB."""
    return patient.care_coordinator_id == actor.pk and patients_for(actor).filter(pk=patient.pk).exists()


def _require_coordinator(*, actor: User, patient: PatientProfile) -> None:
    if not patients_for(actor).filter(pk=patient.pk).exists():
        raise NotFound("No such patient.", field="patient")
    if not is_coordinator_of(actor=actor, patient=patient):
        raise PermissionDenied(
            "Only the patient's care coordinator may do this.", field="acting", code="not_coordinator"
        )


def _require_acts_for(*, actor: User, patient: PatientProfile) -> None:
    """The patient themselves, a carer they have, or their care coordinator; anyone else: 404."""
    if not patients_for(actor).filter(pk=patient.pk).exists():
        raise NotFound("No such patient.", field="patient")


# --- Ledger accounts ------------------------------------------------------------------------


def funding_account(*, commissioner: Organisation):
    """The commissioner's funding account: allocations are debited here (it may go below zero)."""
    return ledger.account_open(
        code=f"funding:commissioner:{commissioner.pk}", kind="funding", name=f"Funding: {commissioner.name}"
    )


def payable_account(*, supplier: Organisation):
    """What the marketplace owes a supplier for patients' orders."""
    return ledger.account_open(
        code=f"payable:supplier:{supplier.pk}", kind="supplier_payable", name=f"Payable: {supplier.name}"
    )


# --- Budgets and allocations ----------------------------------------------------------------


def _key(value: str) -> str:
    key = (value or "").strip()
    if len(key) > 100 or "\x00" in key:
        raise DomainError("The request key is at most 100 characters.", field="request_key")
    return key


def budget_create(
    *,
    patient: PatientProfile,
    actor: User,
    name: str,
    kind: str,
    amount,
    period_start: dt.date,
    period_end: dt.date,
    commissioner: Organisation | None = None,
    request_key: str = "",
) -> Budget:
    """A budget manager of the patient's ICB gives the patient a budget for a period; its wallet is
    opened in the ledger, empty until money is allocated.

    `commissioner` is the ICB the manager acts for (the page's): a patient of another ICB is
    refused (`patient`). A patient has one budget of a kind at a time: a second of the same kind
    whose period overlaps one they have is refused (`period_start`). The same `request_key` again
    (a second press of the page's button) answers the budget it made."""
    _require_budget_manager(actor=actor, commissioner=commissioner or patient.commissioner)
    if commissioner is not None and patient.commissioner_id != commissioner.pk:
        raise DomainError(f"This person is not a patient of {commissioner.name}.", field="patient")
    request_key = _key(request_key)
    if request_key and (
        replay := Budget.objects.filter(commissioner=patient.commissioner, request_key=request_key).first()
    ):
        if replay.patient_id != patient.pk:
            raise Conflict("That request key was used for another budget.", field="request_key")
        return replay
    name = _text(name, field="name", max_length=120)
    if kind not in BudgetKind.values:
        raise DomainError("Choose the kind of budget.", field="kind")
    amount = _amount(amount, field="amount")
    if not isinstance(period_start, dt.date):
        raise DomainError("Enter the first day of the budget.", field="period_start")
    if not isinstance(period_end, dt.date):
        raise DomainError("Enter the last day of the budget.", field="period_end")
    if period_end <= period_start:
        raise DomainError("The budget ends after it starts.", field="period_end")
    with transaction.atomic():
        # The patient's row lock puts two new budgets for one patient one after the other, so the
        # second sees the first when it looks for an overlap.
        PatientProfile.objects.select_for_update().filter(pk=patient.pk).first()
        replayed = Budget.objects.filter(commissioner=patient.commissioner, request_key=request_key)
        if request_key and (replay := replayed.first()):
            return replay
        overlapping = Budget.objects.filter(
            patient=patient, kind=kind, period_start__lte=period_end, period_end__gte=period_start
        ).first()
        if overlapping is not None:
            what = overlapping.get_kind_display().split(" (")[0].lower()
            raise DomainError(
                f"{patient.user.full_name or 'This patient'} already has a {what} from "
                f"{overlapping.period_start:%-d %B %Y} to {overlapping.period_end:%-d %B %Y}. "
                "Start this one after that ends.",
                field="period_start",
                code="overlaps",
            )
        wallet = ledger.account_open(
            code=f"wallet:budget:{uuid.uuid4().hex}",
            kind="wallet",
            name=f"{name}: {patient.user.full_name or patient.user.email}"[:200],
            debits_must_not_exceed_credits=True,
        )
        budget = Budget.objects.create(
            patient=patient,
            commissioner=patient.commissioner,
            name=name,
            kind=kind,
            amount=amount,
            period_start=period_start,
            period_end=period_end,
            wallet=wallet,
            created_by=actor,
            request_key=request_key,
        )
        audit.record(
            kind=BUDGET_CREATED,
            actor=actor,
            organisation_id=budget.commissioner_id,
            subject=f"budget:{budget.pk}",
            data={"patient": patient.pk, "amount": str(amount), "kind": kind},
        )
    return budget


def budget_change(
    *,
    budget: Budget | int,
    actor: User,
    reason: str,
    name: str | None = None,
    amount=None,
    period_end: dt.date | None = None,
) -> Budget:
    """A budget manager of the budget's ICB renames it, changes its amount or moves its last day
    (ending it early: the last day today or later). The amount never goes below what is allocated
    (`amount`); the last day is after the first and not in the past, and a later one may not run
    into the patient's next budget of the same kind (`period_end`). Scheduled allocations due after
    a new last day are cancelled with the same reason, in the same transaction; money already in the
    wallet stays there (it is spent only while the budget's period holds today). Everything changed
    is in one audit row with its reason; a change to nothing changes nothing."""
    budget_id = budget.pk if isinstance(budget, Budget) else budget
    reason = _text(reason, field="reason", max_length=200)
    with transaction.atomic():
        locked = (
            Budget.objects.select_for_update()
            .select_related("commissioner", "patient__user")
            .filter(pk=budget_id)
            .first()
        )
        if locked is None:
            raise NotFound("No such budget.", field="budget")
        _require_budget_manager(actor=actor, commissioner=locked.commissioner)
        changes: dict[str, list[str]] = {}
        if name is not None and (name := _text(name, field="name", max_length=120)) != locked.name:
            changes["name"] = [locked.name, name]
            locked.name = name
        if amount is not None and (amount := _amount(amount, field="amount")) != locked.amount:
            allocated = (
                Allocation.objects.filter(budget=locked)
                .exclude(state=AllocationState.CANCELLED)
                .aggregate(total=Sum("amount"))["total"]
                or 0
            )
            if amount < allocated:
                raise DomainError(
                    f"£{allocated:,.2f} is allocated to this budget already: the amount can be no less. "
                    "Cancel scheduled allocations first to lower it further.",
                    field="amount",
                    code="below_allocated",
                )
            changes["amount"] = [str(locked.amount), str(amount)]
            locked.amount = amount
        cancelled: list[Allocation] = []
        if period_end is not None and period_end != locked.period_end:
            if not isinstance(period_end, dt.date):
                raise DomainError("Enter the last day of the budget.", field="period_end")
            if period_end <= locked.period_start:
                raise DomainError("The budget ends after it starts.", field="period_end")
            if period_end < timezone.localdate():
                raise DomainError(
                    "The last day is today or later: a budget is not ended in the past.", field="period_end"
                )
            following = (
                Budget.objects.filter(
                    patient=locked.patient,
                    kind=locked.kind,
                    period_start__gt=locked.period_start,
                    period_start__lte=period_end,
                )
                .exclude(pk=locked.pk)
                .first()
            )
            if following is not None:
                raise DomainError(
                    f"{locked.patient.user.full_name or 'This patient'}'s next budget starts on "
                    f"{following.period_start:%-d %B %Y}: end this one before then.",
                    field="period_end",
                    code="overlaps",
                )
            changes["period_end"] = [locked.period_end.isoformat(), period_end.isoformat()]
            locked.period_end = period_end
            cancelled = list(
                Allocation.objects.select_for_update()
                .filter(budget=locked, state=AllocationState.SCHEDULED, due_on__gt=period_end)
                .order_by("due_on", "id")
            )
        if not changes:
            return locked
        locked.save(update_fields=[*changes])
        now = timezone.now()
        for allocation in cancelled:
            allocation.state, allocation.cancelled_at = AllocationState.CANCELLED, now
            allocation.cancelled_by, allocation.cancel_reason = actor, reason
            allocation.save(update_fields=["state", "cancelled_at", "cancelled_by", "cancel_reason"])
        audit.record(
            kind=BUDGET_CHANGED,
            actor=actor,
            organisation_id=locked.commissioner_id,
            subject=f"budget:{locked.pk}",
            data={
                "changes": changes,
                "reason": reason,
                "allocations_cancelled": [allocation.pk for allocation in cancelled],
            },
        )
    return locked


MAX_INSTALMENTS = 60
MAX_EVERY_MONTHS = 12


@dataclass(frozen=True)
class _Planned:
    amount: Decimal
    kind: str
    due_on: dt.date
    request_key: str


def _allocations_add(
    *, budget: Budget, actor: User, planned: Sequence[_Planned], note: str
) -> list[Allocation]:
    """Adds the allocations in one transaction with the budget's row locked (so two managers never
    allocate more than the budget between them), paying the one-off ones in now. Replayed request
    keys answer the allocations they made."""
    with transaction.atomic():
        locked = Budget.objects.select_for_update().get(pk=budget.pk)
        keys = [p.request_key for p in planned if p.request_key]
        if keys:
            existing = list(
                Allocation.objects.filter(budget=locked, request_key__in=keys).order_by("due_on", "id")
            )
            if existing:
                return existing
        allocated = (
            Allocation.objects.filter(budget=locked)
            .exclude(state=AllocationState.CANCELLED)
            .aggregate(total=Sum("amount"))["total"]
            or 0
        )
        total = sum((p.amount for p in planned), Decimal("0"))
        if allocated + total > locked.amount:
            raise DomainError(
                f"That is more than the budget: £{locked.amount - allocated:,.2f} of £{locked.amount:,.2f} "
                f"is not allocated yet, and this is £{total:,.2f}.",
                field="amount",
                code="over_budget",
            )
        made = []
        for item in planned:
            allocation = Allocation.objects.create(
                budget=locked,
                kind=item.kind,
                amount=item.amount,
                due_on=item.due_on,
                note=note,
                created_by=actor,
                request_key=item.request_key,
                # Derived from a fresh key, so it is known before the row exists and never reused.
                transfer_id=ledger.transfer_id("allocation", uuid.uuid4().hex),
            )
            audit.record(
                kind=ALLOCATED,
                actor=actor,
                organisation_id=locked.commissioner_id,
                subject=f"allocation:{allocation.pk}",
                data={
                    "budget": locked.pk,
                    "amount": str(item.amount),
                    "kind": item.kind,
                    "due_on": item.due_on.isoformat(),
                },
            )
            if item.kind == AllocationKind.ONE_OFF:
                _allocation_pay(allocation)
            made.append(allocation)
    return made


def _due_in_budget(*, budget: Budget, due_on: dt.date, field: str) -> None:
    if due_on > budget.period_end:
        raise DomainError(
            f"The budget ends on {budget.period_end:%-d %B %Y}: choose a day before then.", field=field
        )


def allocation_create(
    *,
    budget: Budget,
    actor: User,
    amount,
    kind: str = AllocationKind.ONE_OFF,
    due_on: dt.date | None = None,
    note: str = "",
    request_key: str = "",
) -> Allocation:
    """A budget manager of the budget's ICB allocates money to it: a one-off is paid into the wallet
    now; a scheduled one on its day (`allocations_due_pay`). Allocations never add up to more than
    the budget. The same `request_key` again answers the same allocation and moves nothing."""
    _require_budget_manager(actor=actor, commissioner=budget.commissioner)
    request_key = _key(request_key)
    amount = _amount(amount, field="amount")
    note = _text(note, field="note", required=False, max_length=200)
    today = timezone.localdate()
    if kind not in AllocationKind.values:
        raise DomainError("Choose one-off or scheduled.", field="kind")
    if kind == AllocationKind.ONE_OFF:
        due_on = today
    elif not isinstance(due_on, dt.date) or due_on <= today:
        raise DomainError("A scheduled allocation is paid in on a day after today.", field="due_on")
    _due_in_budget(budget=budget, due_on=due_on, field="due_on")
    return _allocations_add(
        budget=budget,
        actor=actor,
        planned=[_Planned(amount=amount, kind=kind, due_on=due_on, request_key=request_key)],
        note=note,
    )[0]


def _whole(value, *, field: str, low: int, high: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise DomainError(f"Enter {what}: a whole number from {low} to {high}.", field=field)
    return value


def allocation_schedule_create(
    *,
    budget: Budget,
    actor: User,
    amount,
    first_on: dt.date,
    instalments: int,
    every_months: int,
    note: str = "",
    request_key: str = "",
) -> list[Allocation]:
    """A budget manager sets up instalments: `instalments` allocations of `amount` each, the first on
    `first_on` (after today) and then every `every_months` months, each paid in on its day by
    `allocations_due_pay`. All or none: together they may not be more than the budget has not
    allocated yet (`amount`), nor the last fall after the budget ends (`instalments`). The same
    `request_key` again answers the same instalments and adds none."""
    _require_budget_manager(actor=actor, commissioner=budget.commissioner)
    request_key = _key(request_key)
    amount = _amount(amount, field="amount")
    note = _text(note, field="note", required=False, max_length=200)
    instalments = _whole(
        instalments, field="instalments", low=1, high=MAX_INSTALMENTS, what="how many instalments"
    )
    every_months = _whole(
        every_months, field="every_months", low=1, high=MAX_EVERY_MONTHS, what="how many months apart"
    )
    if not isinstance(first_on, dt.date) or first_on <= timezone.localdate():
        raise DomainError("The first instalment is paid in on a day after today.", field="due_on")
    _due_in_budget(budget=budget, due_on=first_on, field="due_on")
    days = [add_months(first_on, n * every_months) for n in range(instalments)]
    if days[-1] > budget.period_end:
        raise DomainError(
            f"The last instalment would be on {days[-1]:%-d %B %Y}, after the budget ends on "
            f"{budget.period_end:%-d %B %Y}. Choose fewer instalments or fewer months apart.",
            field="instalments",
        )
    return _allocations_add(
        budget=budget,
        actor=actor,
        planned=[
            _Planned(
                amount=amount,
                kind=AllocationKind.SCHEDULED,
                due_on=day,
                request_key=f"{request_key}:{n + 1}" if request_key else "",
            )
            for n, day in enumerate(days)
        ],
        note=note,
    )


def _allocation_pay(allocation: Allocation) -> None:
    locked = (
        Allocation.objects.select_for_update().select_related("budget__commissioner").get(pk=allocation.pk)
    )
    if locked.state != AllocationState.SCHEDULED:
        return  # paid in already, or cancelled while the nightly task was on its way to it
    budget = locked.budget
    ledger.transfer_create(
        id=locked.transfer_id,
        debit_account_id=funding_account(commissioner=budget.commissioner).pk,
        credit_account_id=budget.wallet_id,
        amount=to_pence(locked.amount),
        code="allocation",
        reference=f"allocation:{locked.pk}",
    )
    Allocation.objects.filter(pk=locked.pk).update(state=AllocationState.MADE, made_at=timezone.now())
    allocation.state, allocation.made_at = AllocationState.MADE, timezone.now()


def allocation_cancel(*, allocation: Allocation | int, actor: User, reason: str) -> Allocation:
    """A budget manager of the budget's ICB calls off a scheduled allocation before its day: it is
    never paid in, and its amount may be allocated again. Money already paid in is not taken back
    here (that would be a transfer out of the patient's wallet, not a cancellation). Cancelling a
    cancelled allocation again changes nothing, so a second press or a retried request is harmless."""
    allocation_id = allocation.pk if isinstance(allocation, Allocation) else allocation
    reason = _text(reason, field="reason", max_length=200)
    with transaction.atomic():
        locked = (
            Allocation.objects.select_for_update(of=("self",))
            .select_related("budget__commissioner")
            .filter(pk=allocation_id)
            .first()
        )
        if locked is None:
            raise NotFound("No such allocation.", field="allocation")
        _require_budget_manager(actor=actor, commissioner=locked.budget.commissioner)
        if locked.state == AllocationState.CANCELLED:
            return locked
        if locked.state == AllocationState.MADE:
            paid_on = timezone.localtime(locked.made_at)
            raise Conflict(
                f"This allocation was paid into the wallet on {paid_on:%-d %B %Y}: "
                "it can no longer be cancelled.",
                field="allocation",
                code="already_paid_in",
            )
        locked.state = AllocationState.CANCELLED
        locked.cancelled_at = timezone.now()
        locked.cancelled_by = actor
        locked.cancel_reason = reason
        locked.save(update_fields=["state", "cancelled_at", "cancelled_by", "cancel_reason"])
        audit.record(
            kind=ALLOCATION_CANCELLED,
            actor=actor,
            organisation_id=locked.budget.commissioner_id,
            subject=f"allocation:{locked.pk}",
            data={
                "budget": locked.budget_id,
                "amount": str(locked.amount),
                "due_on": locked.due_on.isoformat(),
                "reason": reason,
            },
        )
    return locked


def allocations_due_pay(*, today: dt.date | None = None) -> int:
    """Pay in every scheduled allocation due by `today`; returns how many. Safe to run twice (the
    transfer's id is the allocation's)."""
    today = today or timezone.localdate()
    paid = 0
    for allocation in Allocation.objects.filter(state=AllocationState.SCHEDULED, due_on__lte=today):
        with transaction.atomic():
            _allocation_pay(allocation)
        paid += 1
    return paid


# --- Support plans --------------------------------------------------------------------------


def plan_propose(
    *,
    budget: Budget,
    actor: User,
    categories: Collection[Category],
    item_cap=None,
    period_cap=None,
    over_cap_with_approval: bool = True,
    approval_categories: Collection[Category] = (),
    approval_products: Collection[Product] = (),
    top_ups_allowed: bool = False,
    notes: str = "",
    cap_period_months: int = 12,
    request_key: str = "",
) -> SupportPlan:
    """The patient's care coordinator writes a new version of the support plan (agreed by them as
    they write it). It counts once the patient agrees (`plan_agree`); until then the last agreed
    version stays the plan. The cap per period counts each `cap_period_months` from the budget's
    first day (12: each budget year). The same `request_key` again (a second press of the page's
    button) answers the version it wrote."""
    _require_coordinator(actor=actor, patient=budget.patient)
    request_key = _key(request_key)
    categories = list(categories)
    if not categories:
        raise DomainError("Choose at least one kind of item the budget may buy.", field="categories")
    item_cap = _cap(item_cap, field="item_cap")
    period_cap = _cap(period_cap, field="period_cap")
    cap_period_months = _whole(
        cap_period_months, field="cap_period_months", low=1, high=120, what="how long each cap period is"
    )
    if item_cap is not None and period_cap is not None and item_cap > period_cap:
        raise DomainError("The cap per item is at most the cap per period.", field="item_cap")
    notes = _text(notes, field="notes", required=False)
    with transaction.atomic():
        locked = Budget.objects.select_for_update().get(pk=budget.pk)
        replayed = SupportPlan.objects.filter(budget=locked, request_key=request_key)
        if request_key and (replay := replayed.first()):
            return replay
        last = SupportPlan.objects.filter(budget=locked).order_by("-version").first()
        plan = SupportPlan.objects.create(
            budget=locked,
            version=(last.version + 1) if last else 1,
            item_cap=item_cap,
            period_cap=period_cap,
            cap_period_months=cap_period_months,
            over_cap_with_approval=bool(over_cap_with_approval),
            top_ups_allowed=bool(top_ups_allowed),
            notes=notes,
            proposed_by=actor,
            request_key=request_key,
        )
        plan.categories.set(categories)
        plan.approval_categories.set(list(approval_categories))
        plan.approval_products.set(list(approval_products))
        audit.record(
            kind=PLAN_PROPOSED,
            actor=actor,
            organisation_id=locked.commissioner_id,
            subject=f"support_plan:{plan.pk}",
            data={"budget": locked.pk, "version": plan.version},
        )
    return plan


def budget_cap_period(*, budget: Budget, plan: SupportPlan, on: dt.date | None = None) -> CapPeriod:
    """The plan's cap period holding `on` (today when not given)."""
    return cap_period(
        period_start=budget.period_start,
        period_end=budget.period_end,
        months=plan.cap_period_months,
        on=on or timezone.localdate(),
    )


def plan_agree(*, plan: SupportPlan, actor: User) -> SupportPlan:
    """The patient (or a carer acting for them) agrees the newest version of their plan."""
    patient = plan.budget.patient
    _require_acts_for(actor=actor, patient=patient)
    if is_coordinator_of(actor=actor, patient=patient) and actor.pk != patient.user_id:
        raise PermissionDenied(
            "The patient, or someone caring for them, agrees the plan.", field="acting", code="not_patient"
        )
    with transaction.atomic():
        locked = SupportPlan.objects.select_for_update().get(pk=plan.pk)
        newest = SupportPlan.objects.filter(budget_id=locked.budget_id).order_by("-version").first()
        if locked.is_agreed:
            raise Conflict("This plan is agreed already.", field="plan", code="agreed_already")
        if newest.pk != locked.pk:
            raise Conflict("A newer version of this plan was written since.", field="plan", code="superseded")
        locked.patient_agreed_by = actor
        locked.patient_agreed_at = timezone.now()
        locked.save(update_fields=["patient_agreed_by", "patient_agreed_at"])
        audit.record(
            kind=PLAN_AGREED,
            actor=actor,
            organisation_id=locked.budget.commissioner_id,
            subject=f"support_plan:{locked.pk}",
            data={"budget": locked.budget_id, "version": locked.version},
        )
    return locked


# --- The plan's rules -----------------------------------------------------------------------


def _under_any(category: Category, categories: Collection[Category]) -> bool:
    """The category is one of `categories` or below one of them (by path: no queries)."""
    return any(
        category.path == c.path or category.path.startswith(c.path + CATEGORY_SEPARATOR) for c in categories
    )


def in_plan(*, plan: SupportPlan, category: Category) -> bool:
    """The category, or one above it, is one the plan allows."""
    return _under_any(category, plan.categories.all())


@dataclass(frozen=True)
class PlannedItem:
    """An item a patient means to buy, as the plan's rules see it: one pack's price with VAT."""

    offer: Offer
    packs: int
    pack_price_incl_vat: Decimal
    total_incl_vat: Decimal


def plan_check(*, plan: SupportPlan, items: Sequence[PlannedItem], spent: Decimal) -> list[str]:
    """The plan's rules for one order. Raises a DomainError naming the rule broken (an item outside
    the plan: `offer`; over the cap per item with no approval possible: `item_cap`; over the cap for
    the period: `period_cap`). Returns why the order must wait for the care coordinator (empty: it
    need not): an item over the cap per item, or one the plan says needs their approval."""
    reasons: list[str] = []
    approval_categories = list(plan.approval_categories.all())
    approval_products = {p.pk for p in plan.approval_products.all()}
    for item in items:
        product = item.offer.product
        if not item.offer.patient_eligible:
            raise DomainError(
                f"{product.name} cannot be bought with a personal health budget.",
                field="offer",
                code="not_eligible",
            )
        if not in_plan(plan=plan, category=product.category):
            raise DomainError(
                f"{product.name} is not in your support plan.", field="offer", code="not_in_plan"
            )
        if plan.item_cap is not None and item.pack_price_incl_vat > plan.item_cap:
            if not plan.over_cap_with_approval:
                raise DomainError(
                    f"{product.name} costs £{item.pack_price_incl_vat:,.2f}: your plan allows up to "
                    f"£{plan.item_cap:,.2f} for one item.",
                    field="item_cap",
                    code="over_item_cap",
                )
            reasons.append(f"{product.name} costs more than £{plan.item_cap:,.2f}, the most for one item.")
        if product.pk in approval_products or _under_any(product.category, approval_categories):
            reasons.append(f"Your plan says your care coordinator checks {product.name} first.")
    total = sum((item.total_incl_vat for item in items), Decimal("0"))
    if plan.period_cap is not None and spent + total > plan.period_cap:
        left = max(plan.period_cap - spent, Decimal("0"))
        period = budget_cap_period(budget=plan.budget, plan=plan)
        raise DomainError(
            f"This order costs £{total:,.2f}. Your plan lets you spend £{left:,.2f} more "
            f"until {period.last_day:%-d %B %Y}.",
            field="period_cap",
            code="over_period_cap",
        )
    return reasons


def spent_in_period(*, budget: Budget, plan: SupportPlan | None = None, on: dt.date | None = None) -> Decimal:
    """What counts against the plan's cap per period today (or `on`): see
    `selectors.cap_period_spent`, which this reads."""
    return cap_period_spent(budget=budget, plan=plan, on=on).spent


# --- The patient's checkout -----------------------------------------------------------------


@dataclass(frozen=True)
class CheckoutResult:
    order: PurchaseOrder
    spend: Spend
    created: bool

    @property
    def waits_for_approval(self) -> bool:
        return self.spend.state == SpendState.HELD and self.order.state == OrderState.AWAITING_APPROVAL


def _priced(
    *, patient: PatientProfile, lines: Sequence[PatientLine], strategy: Strategy
) -> list[PlannedItem]:
    offers = {
        o.pk: o
        for o in Offer.objects.select_related("product__category", "supplier")
        .prefetch_related("tiers")
        .filter(pk__in=[line.offer_id for line in lines])
    }
    items = []
    for line in lines:
        offer = offers.get(line.offer_id)
        if offer is None:
            raise DomainError("That item is not in the catalogue.", field="offer")
        if isinstance(line.packs, bool) or not isinstance(line.packs, int) or line.packs < 1:
            raise DomainError("Choose how many: 1 or more.", field="quantity")
        price = strategy.price(offer=offer, buyer=patient, quantity=line.packs)
        items.append(
            PlannedItem(
                offer=offer,
                packs=line.packs,
                pack_price_incl_vat=price.pack.incl_vat.amount,
                total_incl_vat=price.total.incl_vat.amount,
            )
        )
    return items


def _replayed(*, patient: PatientProfile, key: str) -> CheckoutResult | None:
    order = (
        PurchaseOrder.objects.filter(patient=patient, checkout__key=key.strip())
        .select_related("budget_spend")
        .first()
    )
    if order is None:
        return None
    return CheckoutResult(order=order, spend=order.budget_spend, created=False)


def patient_checkout(
    *,
    patient: PatientProfile,
    actor: User,
    lines: Sequence[PatientLine],
    delivery: PatientDelivery,
    idempotency_key: str,
    strategy: Strategy | None = None,
) -> CheckoutResult:
    """The patient (or a carer, or their care coordinator) buys from one supplier with their budget.

    The plan's rules are checked (`plan_check`), the order goes to the supplier through purchasing
    (or waits for the care coordinator), and its total with VAT is held in the wallet as a pending
    ledger transfer. Refused, with nothing changed, when the budget has not enough left. The same
    `idempotency_key` again answers the same order and moves no money."""
    _require_acts_for(actor=actor, patient=patient)
    if not (idempotency_key or "").strip():
        raise DomainError("Send a request key.", field="idempotency_key")
    strategy = strategy or default_strategy()
    budget = current_budget(patient=patient)
    if budget is None:
        raise DomainError(
            "You do not have a personal health budget for today.", field="budget", code="no_budget"
        )
    with transaction.atomic():
        # The budget's row lock puts two checkouts of one budget one after the other, so the
        # period's cap and the balance are read after the other's hold.
        Budget.objects.select_for_update().filter(pk=budget.pk).first()
        if (replay := _replayed(patient=patient, key=idempotency_key)) is not None:
            if replay.order.buyer_id != actor.pk:
                raise Conflict("That request key was used for another order.", field="idempotency_key")
            return replay
        plan = current_plan(budget=budget)
        if plan is None:
            raise DomainError("Your support plan is not agreed yet.", field="plan", code="no_plan")
        items = _priced(patient=patient, lines=lines, strategy=strategy)
        reasons = plan_check(plan=plan, items=items, spent=spent_in_period(budget=budget, plan=plan))
        total = sum((item.total_incl_vat for item in items), Decimal("0"))
        left = Money(Decimal(balance(budget.wallet_id).available) / 100)
        if total > left.amount:
            raise DomainError(
                f"This costs £{total:,.2f} but your budget has £{left.amount:,.2f} left.",
                field="amount",
                code="insufficient_funds",
            )
        order, created = purchasing.patient_order_place(
            patient=patient,
            actor=actor,
            lines=lines,
            delivery=delivery,
            idempotency_key=idempotency_key,
            needs_approval=bool(reasons),
            strategy=strategy,
        )
        hold_id = ledger.transfer_id("purchase", order.pk)
        try:
            ledger.transfer_create(
                id=hold_id,
                debit_account_id=budget.wallet_id,
                credit_account_id=payable_account(supplier=order.supplier).pk,
                amount=to_pence(order.total_incl_vat),
                code="purchase",
                reference=f"order:{order.number}",
                pending=True,
            )
        except ledger.LedgerError as error:
            if error.code == "insufficient_funds":
                raise DomainError(
                    "Your budget does not have enough left for this.",
                    field="amount",
                    code="insufficient_funds",
                ) from error
            raise
        spend = Spend.objects.create(
            budget=budget,
            order=order,
            plan=plan,
            amount=order.total_incl_vat,
            hold_id=hold_id,
            approval_reasons=reasons,
        )
    return CheckoutResult(order=order, spend=spend, created=created)


# --- Following the order: post or void the held money ---------------------------------------

_RELEASING = {"reject", "supplier_reject", "cancel"}


def order_transitioned(
    *, order: PurchaseOrder, transition: str, source: str, target: str, actor: User | None, note: str
) -> None:
    """Purchasing's listener (registered in apps.py): the supplier's acknowledgement pays the held
    money; a refusal (coordinator, supplier) or a cancellation gives it back. Exactly once: the post
    and the void have ids derived from the order, and the ledger refuses a void after a post."""
    if order.patient_id is None or (transition != "acknowledge" and transition not in _RELEASING):
        return
    spend = Spend.objects.select_for_update().filter(order_id=order.pk).first()
    if spend is None or spend.state != SpendState.HELD:
        return
    if transition == "acknowledge":
        ledger.pending_post(id=ledger.transfer_id("purchase-post", order.pk), pending_id=spend.hold_id)
        spend.state = SpendState.PAID
        spend.save(update_fields=["state"])
        return
    ledger.pending_void(id=ledger.transfer_id("purchase-void", order.pk), pending_id=spend.hold_id)
    spend.state = SpendState.RELEASED
    fields = ["state"]
    if transition == "supplier_reject":
        spend.decision_reason, spend.decided_at = note, timezone.now()
        fields += ["decision_reason", "decided_at"]
    spend.save(update_fields=fields)


# --- The care coordinator's decisions -------------------------------------------------------


def _spend_for_coordinator(*, spend: Spend | int, actor: User) -> Spend:
    pk = spend.pk if isinstance(spend, Spend) else spend
    found = Spend.objects.select_related("budget__patient", "order").filter(pk=pk).first()
    if found is None or not is_coordinator_of(actor=actor, patient=found.budget.patient):
        raise NotFound("No such order.", field="order")
    return found


def spend_approve(*, spend: Spend | int, actor: User, note: str = "") -> Spend:
    """The care coordinator approves an order waiting for them: it goes to the supplier, the money
    stays held until the supplier accepts it. A top-up order (part by card) is kept back until the
    patient has paid the card part."""
    found = _spend_for_coordinator(spend=spend, actor=actor)
    from personal_budgets.topups import services as topups  # above this module: imported late

    with transaction.atomic():
        # An order the patient pays partly by card stays kept back: the card part is asked for now
        # (personal_budgets.topups, its order listener) and the order goes when it is paid.
        purchasing.patient_order_approve(
            order=found.order_id, actor=actor, note=note, send=not topups.waits_for_approval(found.order_id)
        )
        Spend.objects.filter(pk=found.pk).update(
            decided_by=actor, decided_at=timezone.now(), decision_reason=(note or "").strip()
        )
        audit.record(
            kind=SPEND_APPROVED,
            actor=actor,
            organisation_id=found.budget.commissioner_id,
            subject=found.order.number,
            data={"spend": found.pk},
        )
    found.refresh_from_db()
    return found


def spend_decline(*, spend: Spend | int, actor: User, reason: str) -> Spend:
    """The care coordinator declines an order waiting for them, saying why (the patient reads it);
    the held money goes back into the wallet."""
    found = _spend_for_coordinator(spend=spend, actor=actor)
    reason = _text(reason, field="reason")
    with transaction.atomic():
        purchasing.patient_order_decline(order=found.order_id, actor=actor, reason=reason)
        Spend.objects.filter(pk=found.pk).update(
            decided_by=actor, decided_at=timezone.now(), decision_reason=reason
        )
        audit.record(
            kind=SPEND_DECLINED,
            actor=actor,
            organisation_id=found.budget.commissioner_id,
            subject=found.order.number,
            data={"spend": found.pk, "reason": reason},
        )
    found.refresh_from_db()
    return found


# --- Refunds --------------------------------------------------------------------------------


def refund_create(*, order: PurchaseOrder | int, actor: User, amount, reason: str, key: str) -> Refund:
    """The supplier of a paid patient order gives money back (an item returned): the wallet is
    credited through the ledger. At most what was paid, less earlier refunds; the same `key` again
    answers the same refund and moves nothing."""
    pk = order.pk if isinstance(order, PurchaseOrder) else order
    from personal_budgets.topups import services as topups  # above this module: imported late

    if topups.is_top_up_order(pk):
        # Paid partly by card: split between the wallet and the card (personal_budgets.topups).
        return topups.topup_refund(order=pk, actor=actor, amount=amount, reason=reason, key=key)
    found = PurchaseOrder.objects.select_related("supplier").filter(pk=pk, patient__isnull=False).first()
    if found is None or not set(roles_for(actor, found.supplier)) & {
        Role.SUPPLIER_ADMIN,
        Role.SUPPLIER_STAFF,
    }:
        raise NotFound("No such order.", field="order")
    amount = _amount(amount, field="amount")
    reason = _text(reason, field="reason", max_length=500)
    key = _text(key, field="key", max_length=100)
    with transaction.atomic():
        spend = Spend.objects.select_for_update().select_related("budget").get(order=found)
        existing = Refund.objects.filter(spend=spend, key=key).first()
        if existing is not None:
            return existing
        if spend.state != SpendState.PAID:
            raise Conflict("Only a paid order's money can be given back.", field="order", code="not_paid")
        refunded = spend.refunds.aggregate(total=Sum("amount"))["total"] or Decimal("0")
        if refunded + amount > spend.amount:
            raise DomainError(
                f"At most £{spend.amount - refunded:,.2f} can be given back for this order.",
                field="amount",
                code="over_paid",
            )
        transfer = ledger.transfer_id("refund", found.pk, key)
        ledger.transfer_create(
            id=transfer,
            debit_account_id=payable_account(supplier=found.supplier).pk,
            credit_account_id=spend.budget.wallet_id,
            amount=to_pence(amount),
            code="refund",
            reference=f"order:{found.number}",
        )
        refund = Refund.objects.create(
            spend=spend, amount=amount, reason=reason, key=key, transfer_id=transfer, created_by=actor
        )
        audit.record(
            kind=REFUNDED,
            actor=actor,
            organisation_id=spend.budget.commissioner_id,
            subject=found.number,
            data={"refund": refund.pk, "amount": str(amount)},
        )
    return refund


# --- Returns --------------------------------------------------------------------------------


def return_accepted(*, order_return, actor: User) -> None:
    """Purchasing's return listener (registered in apps.py), in the transaction of the supplier's
    acceptance: the money for the packs sent back goes back through `refund_create` (the wallet
    through the ledger; a top-up order's card part through the split refund), keyed by the return,
    so it is given back once. A trust's order (no patient) moves no budget money."""
    order = order_return.order
    if order.patient_id is None or not order_return.refund_amount:
        return
    line = order_return.line
    reason = f"Returned {order_return.packs} x {line.description}: {order_return.reason}"
    refund_create(
        order=order.pk,
        actor=actor,
        amount=order_return.refund_amount,
        reason=reason[:500],
        key=f"return:{order_return.pk}",
    )
