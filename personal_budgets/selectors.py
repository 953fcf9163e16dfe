"""Reads for the personal budgets' pages and API: who may see which budget, what a budget has left,
the patient shop, statements, the coordinator's queue and the commissioner's report.

Scoping: a budget is visible to its patient, a carer they granted, their care coordinator
(`organisations.permissions.patients_for`) and the budget managers of its ICB; anyone else gets
`NotFound` (a 404), never a hint that it exists.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import models
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from catalogue.models import CATEGORY_SEPARATOR, Category, Offer, Product
from catalogue.selectors import in_category_q, listed_offers
from catalogue.strategy import Strategy, default_strategy
from common.errors import NotFound
from common.money import Money, from_pence
from ledger.selectors import account_holds, account_statement, balance
from ledger.types import StatementLine
from organisations.models import Organisation, PatientProfile, Role, User
from organisations.permissions import commissioners_for, patients_for
from personal_budgets.models import (
    Allocation,
    AllocationState,
    Budget,
    Refund,
    Spend,
    SpendState,
    SupportPlan,
)
from personal_budgets.periods import CapPeriod, cap_period
from purchasing.models import OrderLine, PurchaseOrder
from purchasing.states import OrderState

SHOP_LIMIT = 60
ENDING_WITHIN_DAYS = 180


# --- Scoping --------------------------------------------------------------------------------


def budgets_for(user: User) -> QuerySet[Budget]:
    """The budgets the user may see (see the module's docstring)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Budget.objects.none()
    managed = commissioners_for(user, roles=[Role.BUDGET_MANAGER]).values("pk")
    return Budget.objects.filter(
        Q(patient__in=patients_for(user).values("pk")) | Q(commissioner__in=managed)
    ).select_related("patient__user", "commissioner", "wallet")


def budget_for(*, user: User, budget_id: int) -> Budget:
    found = budgets_for(user).filter(pk=budget_id).first()
    if found is None:
        raise NotFound("No such budget.", field="budget")
    return found


def current_budget(*, patient: PatientProfile, today: dt.date | None = None) -> Budget | None:
    """The patient's budget whose period holds today (the newest if several)."""
    today = today or timezone.localdate()
    return (
        Budget.objects.filter(patient=patient, period_start__lte=today, period_end__gte=today)
        .select_related("patient__user", "commissioner", "wallet")
        .order_by("-period_start", "-id")
        .first()
    )


def current_plan(*, budget: Budget) -> SupportPlan | None:
    """The newest agreed version of the budget's plan (None until one is agreed)."""
    return (
        SupportPlan.objects.filter(budget=budget, patient_agreed_at__isnull=False)
        .prefetch_related("categories", "approval_categories", "approval_products")
        .order_by("-version")
        .first()
    )


def plan_waiting(*, budget: Budget) -> SupportPlan | None:
    """A newer version than the agreed one, waiting for the patient to agree it."""
    newest = (
        SupportPlan.objects.filter(budget=budget).prefetch_related("categories").order_by("-version").first()
    )
    return newest if newest is not None and not newest.is_agreed else None


@dataclass(frozen=True)
class CapPeriodSpent:
    period: CapPeriod
    spent: Decimal  # pounds
    cap: Decimal | None = None  # the plan's cap per period (None: no cap)

    @property
    def left(self) -> Decimal | None:
        return None if self.cap is None else max(self.cap - self.spent, Decimal("0"))


def cap_period_spent(
    *, budget: Budget, plan: SupportPlan | None = None, on: dt.date | None = None
) -> CapPeriodSpent:
    """What counts against the plan's cap per period: the money held or paid for the orders made in
    the cap period holding `on` (today when not given), less what was given back for them (an
    order's refund counts in the period the order was made). The cap period is the plan's (`plan`,
    else the budget's agreed plan; a budget year without one)."""
    plan = plan or current_plan(budget=budget)
    period = cap_period(
        period_start=budget.period_start,
        period_end=budget.period_end,
        months=plan.cap_period_months if plan is not None else 12,
        on=on or timezone.localdate(),
    )
    in_period = Spend.objects.filter(
        budget=budget, created_at__date__gte=period.first_day, created_at__date__lte=period.last_day
    )
    spent = in_period.filter(state__in=[SpendState.HELD, SpendState.PAID]).aggregate(total=Sum("amount"))[
        "total"
    ] or Decimal("0")
    refunded = Refund.objects.filter(spend__in=in_period).aggregate(total=Sum("amount"))["total"] or Decimal(
        "0"
    )
    return CapPeriodSpent(
        period=period, spent=spent - refunded, cap=plan.period_cap if plan is not None else None
    )


# --- What a budget has ----------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetSummary:
    budget: Budget
    plan: SupportPlan | None
    allocated: Money  # paid into the wallet so far
    scheduled: Money  # allocations still to come
    held: Money  # orders waiting (money put aside)
    left: Money  # what may still be spent now
    spent: Money  # paid for orders, less money back

    @property
    def days_left(self) -> int:
        return (self.budget.period_end - timezone.localdate()).days


def budget_summary(*, budget: Budget) -> BudgetSummary:
    found = balance(budget.wallet_id)
    allocations = Allocation.objects.filter(budget=budget)
    made = allocations.filter(state=AllocationState.MADE).aggregate(t=Sum("amount"))["t"] or Decimal("0")
    scheduled = allocations.filter(state=AllocationState.SCHEDULED).aggregate(t=Sum("amount"))[
        "t"
    ] or Decimal("0")
    return BudgetSummary(
        budget=budget,
        plan=current_plan(budget=budget),
        allocated=Money(made),
        scheduled=Money(scheduled),
        held=from_pence(found.debits_pending),
        left=from_pence(found.available),
        spent=Money(made) - from_pence(found.posted),
    )


# --- The patient shop -----------------------------------------------------------------------


@dataclass(frozen=True)
class ShopItem:
    offer: Offer
    price: Money  # one pack, with VAT
    needs_approval: bool
    affordable: bool


def shop_items(
    *, patient: PatientProfile, summary: BudgetSummary, strategy: Strategy | None = None
) -> list[ShopItem]:
    """What the patient may buy: patient-eligible offers on sale in the plan's categories, within
    its cap per item (or over it, marked, when the coordinator may approve it), cheapest first."""
    plan = summary.plan
    if plan is None:
        return []
    categories = list(plan.categories.all())
    if not categories:
        return []
    in_plan = Q()
    for category in categories:
        in_plan |= in_category_q(category, prefix="product__category__")
    offers = (
        listed_offers()
        .filter(in_plan, patient_eligible=True)
        .select_related("product__category", "supplier")
        .prefetch_related("tiers")
        .order_by("unit_price", "product__name", "id")[:SHOP_LIMIT]
    )
    strategy = strategy or default_strategy()
    flagged_categories = list(plan.approval_categories.all())
    flagged_products = {p.pk for p in plan.approval_products.all()}
    items = []
    for offer in offers:
        price = strategy.price(offer=offer, buyer=patient, quantity=max(1, offer.min_order_packs))
        if price.problems:
            continue
        each = price.pack.incl_vat
        over_cap = plan.item_cap is not None and each.amount > plan.item_cap
        if over_cap and not plan.over_cap_with_approval:
            continue
        path = offer.product.category.path
        flagged = offer.product_id in flagged_products or any(
            path == c.path or path.startswith(c.path + " > ") for c in flagged_categories
        )
        items.append(
            ShopItem(
                offer=offer,
                price=each,
                needs_approval=over_cap or flagged,
                affordable=each.amount <= summary.left.amount,
            )
        )
    return items


def shop_offer(*, patient: PatientProfile, summary: BudgetSummary, offer_id: int) -> ShopItem:
    """One item of the shop, or NotFound if the patient's shop does not hold it."""
    found = next(
        (item for item in shop_items(patient=patient, summary=summary) if item.offer.pk == offer_id), None
    )
    if found is None:
        raise NotFound("That item is not in your shop.", field="offer")
    return found


# --- Orders ---------------------------------------------------------------------------------


def patient_orders(*, patient: PatientProfile) -> QuerySet[PurchaseOrder]:
    return (
        PurchaseOrder.objects.filter(patient=patient)
        .select_related("supplier", "budget_spend", "buyer")
        .prefetch_related("lines")
        .order_by("-created_at", "-id")
    )


def patient_order(*, patient: PatientProfile, order_id: int) -> PurchaseOrder:
    found = patient_orders(patient=patient).filter(pk=order_id).first()
    if found is None:
        raise NotFound("No such order.", field="order")
    return found


def budget_reference(order: PurchaseOrder) -> str | None:
    """The reference of the personal health budget a patient's order is paid from (e.g. PHB-000012),
    printed on the order's documents as the buyer's reference (registered with purchasing in
    apps.py); None for an order no budget pays."""
    budget_id = Spend.objects.filter(order_id=order.pk).values_list("budget_id", flat=True).first()
    return f"PHB-{budget_id:06d}" if budget_id is not None else None


# --- Statements -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementRow:
    when: dt.datetime
    what: str
    money_in: Money | None
    money_out: Money | None
    balance: Money
    transfer_id: str


def _words(code: str, reference: str, commissioner: Organisation) -> str:
    order = reference.removeprefix("order:")
    if code == "allocation":
        return f"Money from {commissioner.name}"
    if code == "purchase":
        return f"Paid for order {order}"
    if code == "refund":
        return f"Money back for order {order}"
    if code == "card_top_up":  # personal_budgets.topups: the card part of an order
        return f"You paid by card for order {order}"
    return code.replace("_", " ").capitalize()


def wallet_lines(*, budget: Budget) -> list[StatementLine]:
    """The wallet's posted ledger transfers, oldest first, with the ledger's running balance."""
    return account_statement(budget.wallet_id)


def statement_rows(*, budget: Budget) -> list[StatementRow]:
    """Every posted ledger transfer of the wallet, oldest first, with the running balance the ledger
    gives (the last row's balance is the wallet's posted balance)."""
    rows = []
    for line in account_statement(budget.wallet_id):
        amount = from_pence(abs(line.amount_signed))
        rows.append(
            StatementRow(
                when=line.created_at,
                what=_words(line.code, line.reference, budget.commissioner),
                money_in=amount if line.amount_signed > 0 else None,
                money_out=amount if line.amount_signed < 0 else None,
                balance=from_pence(line.balance),
                transfer_id=str(line.transfer_id),
            )
        )
    return rows


@dataclass(frozen=True)
class Hold:
    when: dt.datetime
    what: str
    amount: Money


def statement_holds(*, budget: Budget) -> list[Hold]:
    return [
        Hold(
            when=t.created_at,
            what=f"Put aside for order {t.reference.removeprefix('order:')}",
            amount=from_pence(t.amount),
        )
        for t in account_holds(budget.wallet_id)
        if t.debit_account_id == budget.wallet_id
    ]


# --- The care coordinator -------------------------------------------------------------------


def coordinator_queue(*, user: User) -> QuerySet[Spend]:
    """Orders waiting for this care coordinator's decision, oldest first."""
    return (
        Spend.objects.filter(
            state=SpendState.HELD,
            order__state=OrderState.AWAITING_APPROVAL,
            budget__patient__care_coordinator=user,
            budget__patient__in=patients_for(user).values("pk"),
        )
        .select_related("budget__patient__user", "order__supplier", "plan")
        .prefetch_related("order__lines")
        .order_by("created_at", "id")
    )


def coordinator_spend(*, user: User, spend_id: int) -> Spend:
    found = coordinator_queue(user=user).filter(pk=spend_id).first()
    if found is None:
        raise NotFound("No such order waiting for you.", field="spend")
    return found


def coordinated_budgets(*, user: User, commissioner: Organisation | None = None) -> QuerySet[Budget]:
    """The budgets of the patients this care coordinator supports (at `commissioner` only, when
    given: the ICB they act for)."""
    found = Budget.objects.filter(patient__care_coordinator=user, patient__in=patients_for(user).values("pk"))
    if commissioner is not None:
        found = found.filter(commissioner=commissioner)
    return found.select_related("patient__user", "commissioner", "wallet").order_by(
        "patient__user__full_name", "id"
    )


def coordinated_budget(*, user: User, commissioner: Organisation, budget_id: int) -> Budget:
    """One budget of a patient this coordinator supports at the ICB they act for; else NotFound."""
    found = coordinated_budgets(user=user, commissioner=commissioner).filter(pk=budget_id).first()
    if found is None:
        raise NotFound("No such budget.", field="budget")
    return found


class PlanVersionState(models.TextChoices):
    IN_USE = "in_use", "in use"
    WAITING = "waiting", "waiting for the patient to agree"
    NEVER_AGREED = "never_agreed", "never agreed"
    REPLACED = "replaced", "replaced"


def plan_versions(*, budget: Budget) -> list[SupportPlan]:
    """Every version of the budget's support plan, newest first, with who wrote and agreed it and its
    `state` (a `PlanVersionState`): the newest agreed one is in use, a newer one waits for the
    patient, an older one never agreed was passed over, and the other agreed ones are replaced."""
    versions = list(
        SupportPlan.objects.filter(budget=budget)
        .select_related("proposed_by", "patient_agreed_by")
        .prefetch_related("categories", "approval_categories", "approval_products")
        .order_by("-version")
    )
    in_use = next((plan.pk for plan in versions if plan.is_agreed), None)
    for newest_first, plan in enumerate(versions):
        if plan.pk == in_use:
            plan.state = PlanVersionState.IN_USE
        elif plan.is_agreed:
            plan.state = PlanVersionState.REPLACED
        else:
            plan.state = PlanVersionState.WAITING if newest_first == 0 else PlanVersionState.NEVER_AGREED
    return versions


def plan_category_choices() -> QuerySet[Category]:
    """The categories a plan may name: those holding (at or below them) an offer sold to patients."""
    paths = set(
        Offer.objects.filter(patient_eligible=True)
        .values_list("product__category__path", flat=True)
        .distinct()
    )
    wanted = set()
    for path in paths:
        parts = path.split(CATEGORY_SEPARATOR)
        wanted.update(CATEGORY_SEPARATOR.join(parts[: n + 1]) for n in range(len(parts)))
    return Category.objects.filter(path__in=wanted).order_by("path")


def plan_product_choices() -> QuerySet[Product]:
    """The products a plan may flag for the coordinator's approval: those sold to patients."""
    return (
        Product.objects.filter(offers__patient_eligible=True)
        .select_related("category")
        .distinct()
        .order_by("name", "id")
    )


# --- The commissioner -----------------------------------------------------------------------


@dataclass
class CommissionerReport:
    commissioner: Organisation
    allocated: Money = field(default_factory=Money.zero)
    scheduled: Money = field(default_factory=Money.zero)
    spent: Money = field(default_factory=Money.zero)
    unspent: Money = field(default_factory=Money.zero)
    by_category: list[tuple[str, Money]] = field(default_factory=list)
    by_supplier: list[tuple[str, Money]] = field(default_factory=list)
    budgets: list[BudgetSummary] = field(default_factory=list)
    ending_soon: list[BudgetSummary] = field(default_factory=list)
    allocations: list[Allocation] = field(default_factory=list)


def _ranked(totals: dict[str, Decimal]) -> list[tuple[str, Money]]:
    return [(name, Money(amount)) for name, amount in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))]


def commissioner_patients(*, commissioner: Organisation) -> QuerySet[PatientProfile]:
    """The patients of this ICB (whom its budget managers may give a budget), by name."""
    return (
        PatientProfile.objects.filter(commissioner=commissioner, user__is_active=True)
        .select_related("user")
        .order_by("user__full_name", "id")
    )


def commissioner_budget(*, commissioner: Organisation, budget_id: int) -> Budget:
    found = commissioner_budgets(commissioner=commissioner).filter(pk=budget_id).first()
    if found is None:
        raise NotFound("No such budget.", field="budget")
    return found


def budget_allocations(*, budget: Budget) -> list[Allocation]:
    """The budget's allocations, soonest first: paid in, scheduled and cancelled."""
    found = Allocation.objects.filter(budget=budget).select_related("created_by")
    return list(found.order_by("due_on", "id"))


def commissioner_allocation(*, commissioner: Organisation, budget_id: int, allocation_id: int) -> Allocation:
    """One allocation to a budget of this ICB; NotFound for any other (never reveal it exists)."""
    found = (
        Allocation.objects.filter(pk=allocation_id, budget_id=budget_id, budget__commissioner=commissioner)
        .select_related("budget__patient__user")
        .first()
    )
    if found is None:
        raise NotFound("No such allocation.", field="allocation")
    return found


def commissioner_budgets(*, commissioner: Organisation) -> QuerySet[Budget]:
    return (
        Budget.objects.filter(commissioner=commissioner)
        .select_related("patient__user", "commissioner", "wallet")
        .order_by("period_end", "id")
    )


def commissioner_report(*, commissioner: Organisation, today: dt.date | None = None) -> CommissionerReport:
    """Allocations, spend by category and by supplier (paid orders, less money back), unspent
    balances, and the budgets ending within ENDING_WITHIN_DAYS (unspent money may be reclaimed)."""
    today = today or timezone.localdate()
    report = CommissionerReport(commissioner=commissioner)
    budgets = list(commissioner_budgets(commissioner=commissioner))
    report.budgets = [budget_summary(budget=b) for b in budgets]
    for summary in report.budgets:
        report.allocated += summary.allocated
        report.scheduled += summary.scheduled
        report.unspent += summary.left + summary.held
    report.ending_soon = [
        s
        for s in report.budgets
        if today <= s.budget.period_end <= today + dt.timedelta(days=ENDING_WITHIN_DAYS)
    ]
    paid_lines = OrderLine.objects.filter(
        order__commissioner=commissioner,
        order__patient__isnull=False,
        order__budget_spend__state=SpendState.PAID,
    )
    by_category: dict[str, Decimal] = defaultdict(Decimal)
    for name, total in paid_lines.values_list("product__category__name").annotate(total=Sum("line_total")):
        by_category[name] += total
    by_supplier: dict[str, Decimal] = defaultdict(Decimal)
    for name, total in paid_lines.values_list("order__supplier__name").annotate(total=Sum("line_total")):
        by_supplier[name] += total
    refunds = Refund.objects.filter(spend__budget__commissioner=commissioner)
    for name, total in refunds.values_list("spend__order__supplier__name").annotate(total=Sum("amount")):
        by_supplier[name] -= total
    report.by_category = _ranked(by_category)
    report.by_supplier = _ranked(by_supplier)
    report.spent = Money(sum(by_supplier.values(), Decimal("0")))
    report.allocations = list(
        Allocation.objects.filter(budget__commissioner=commissioner)
        .select_related("budget__patient__user")
        .order_by("-created_at", "-id")[:50]
    )
    return report
