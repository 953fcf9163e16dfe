"""Demo personal budgets for `seed_demo` (after purchasing): each demo patient of the West Yorkshire
ICB has a budget, an agreed support plan and some history, made through the services as the demo
people would make them:

- Pat Patel (whose daughter Casey is their carer) has a five-year personal wheelchair budget: £2,000
  paid in, four quarterly instalments of £250 to come and £500 not allocated yet; a support plan in
  its second version (the first, for a manual wheelchair only, is kept in its history); a walking
  frame paid for, a cushion sent to the supplier (money held), and a bariatric wheelchair over the
  plan's cap per item waiting in the care coordinator's queue;
- Jo Jones has a year's budget for mobility aids: a walking stick paid for and half of it refunded,
  and a frame the coordinator declined, with the reason Jo reads;
- Kim Khan's budget ends in seven weeks with most of it unspent (the commissioner's report shows it;
  the budget manager may give Kim the next one, starting the day after).

Returns: Pat's walking frame has been sent (dispatched), so Pat can send it back; Kim's walking stick
was sent and Kim asked to send it back, so Pennine has a return waiting for its answer.

Orders are from Pennine Medical Supplies, whose demo staff acknowledge them. Idempotent: a patient
whose budget exists is left as it is; the returns' steps are taken only where not taken yet. The
demo's order steps are not news: nobody is emailed about them.
"""

from __future__ import annotations

import datetime as dt
from typing import TextIO

from django.utils import timezone

from catalogue.models import Category, Offer
from organisations.acting import Acting
from organisations.models import Organisation, PatientProfile, User
from personal_budgets import services
from personal_budgets.models import Budget, BudgetKind
from personal_budgets.periods import add_months
from purchasing import services as purchasing
from purchasing.models import OrderEvent, PurchaseOrder
from purchasing.returns import services as returns
from purchasing.states import OrderState
from purchasing.types import PatientDelivery, PatientLine

MANAGER = "budget.manager@wy-icb.demo.example"
COORDINATOR = "care.coordinator@wy-icb.demo.example"
SUPPLIER = "pennine-medical-supplies"
SUPPLIER_STAFF = "supplier.staff@pennine.demo.example"


def _offer(name_starts: str) -> Offer:
    offer = (
        Offer.objects.filter(
            supplier__slug=SUPPLIER,
            patient_eligible=True,
            buyable=True,
            min_order_packs=1,
            product__name__startswith=name_starts,
        )
        .select_related("product")
        .order_by("pack_price", "id")
        .first()
    )
    if offer is None:
        raise LookupError(f"No demo offer of {name_starts!r} from {SUPPLIER}: run the catalogue demo first.")
    return offer


def _category(path: str) -> Category:
    return Category.objects.get(path=path)


def _buy(patient: PatientProfile, actor: User, offer: Offer, key: str):
    return services.patient_checkout(
        patient=patient,
        actor=actor,
        lines=[PatientLine(offer_id=offer.pk, packs=1)],
        delivery=PatientDelivery(
            name=patient.user.full_name, address="1 Demo Street\nLeeds", postcode="LS1 4AP"
        ),
        idempotency_key=f"demo-{key}",
    )


def _acknowledge(order, staff: User, supplier: Organisation) -> None:
    purchasing.order_acknowledge(
        order=order,
        actor=staff,
        acting=Acting(organisation=supplier, explicit=True, kind=supplier.kind),
        expected_delivery=timezone.localdate() + dt.timedelta(days=5),
    )


def _budget(patient: PatientProfile, manager: User, *, name: str, amount: str, start: dt.date, end: dt.date):
    return services.budget_create(
        patient=patient,
        actor=manager,
        name=name,
        kind=BudgetKind.NOTIONAL,
        amount=amount,
        period_start=start,
        period_end=end,
    )


def _shop(supplier: Organisation) -> Acting:
    return Acting(organisation=supplier, explicit=True, kind=supplier.kind)


def _sent(order: PurchaseOrder, staff: User, supplier: Organisation) -> None:
    """The shop sends everything of an acknowledged order (once: a sent order is left alone)."""
    if order.state == OrderState.ACKNOWLEDGED:
        purchasing.order_dispatch(
            order=order, actor=staff, acting=_shop(supplier), tracking_reference=f"DEMO-{order.number}"
        )


def _returns(staff: User, supplier: Organisation) -> None:
    """Pat's frame sent (she may send it back); Kim's stick sent and asked back (Pennine's answer
    waits). Each step only where it was not taken yet."""
    orders = {
        o.checkout.key: o
        for o in PurchaseOrder.objects.filter(
            checkout__key__in=["demo-pat-frame", "demo-kim-stick"], patient__isnull=False
        ).select_related("checkout", "patient__user")
    }
    if (frame := orders.get("demo-pat-frame")) is not None:
        _sent(frame, staff, supplier)
    if (stick := orders.get("demo-kim-stick")) is not None:
        _sent(stick, staff, supplier)
        stick.refresh_from_db()
        if stick.state == OrderState.DISPATCHED:
            returns.return_request(
                order=stick,
                actor=stick.patient.user,
                line=stick.lines.get().pk,
                packs=1,
                reason="It is too short for me. I need a taller one.",
                idempotency_key="demo-kim-return",
            )


def seed(stdout: TextIO) -> None:
    try:
        manager = User.objects.get(email=MANAGER)
        coordinator = User.objects.get(email=COORDINATOR)
        staff = User.objects.get(email=SUPPLIER_STAFF)
        supplier = Organisation.objects.get(slug=SUPPLIER)
    except (User.DoesNotExist, Organisation.DoesNotExist):
        stdout.write("Personal budgets: run the organisations demo first.")
        return
    today = timezone.localdate()
    first_event = OrderEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    patients = {p.user.email: p for p in PatientProfile.objects.select_related("user", "commissioner")}
    made = 0

    pat = patients.get("patient1@demo.example")
    if pat is not None and not Budget.objects.filter(patient=pat).exists():
        budget = _budget(
            pat,
            manager,
            name="Personal wheelchair budget",
            amount="3500.00",
            start=today - dt.timedelta(days=90),
            end=today + dt.timedelta(days=5 * 365 - 90),
        )
        services.allocation_create(budget=budget, actor=manager, amount="2000.00", note="First payment")
        services.allocation_schedule_create(
            budget=budget,
            actor=manager,
            amount="250.00",
            first_on=add_months(today, 3),
            instalments=4,
            every_months=3,
            note="Quarterly",
        )
        first = services.plan_propose(
            budget=budget,
            actor=coordinator,
            categories=[_category("Wheelchairs")],
            item_cap="400.00",
            notes="A manual wheelchair first.",
        )
        services.plan_agree(plan=first, actor=pat.user)
        plan = services.plan_propose(
            budget=budget,
            actor=coordinator,
            categories=[_category("Wheelchairs"), _category("Mobility aids")],
            item_cap="450.00",
            period_cap="1500.00",
            cap_period_months=12,
            approval_categories=[_category("Wheelchairs > Powered wheelchairs")],
            notes="A manual wheelchair, a cushion and walking aids. Powered chairs after an assessment.",
        )
        services.plan_agree(plan=plan, actor=pat.user)
        frame = _buy(pat, pat.user, _offer("Walking frame"), "pat-frame")
        _acknowledge(frame.order, staff, supplier)
        carer = User.objects.filter(carer_links__patient=pat).first() or pat.user
        _buy(pat, carer, _offer("Pressure-relieving cushion"), "pat-cushion")
        _buy(pat, pat.user, _offer("Bariatric wheelchair"), "pat-wheelchair")  # over the cap: waits
        made += 1

    jo = patients.get("patient2@demo.example")
    if jo is not None and not Budget.objects.filter(patient=jo).exists():
        budget = _budget(
            jo,
            manager,
            name="Personal health budget",
            amount="800.00",
            start=today - dt.timedelta(days=30),
            end=today + dt.timedelta(days=335),
        )
        services.allocation_create(budget=budget, actor=manager, amount="800.00")
        plan = services.plan_propose(
            budget=budget, actor=coordinator, categories=[_category("Mobility aids")], item_cap="30.00"
        )
        services.plan_agree(plan=plan, actor=jo.user)
        stick = _buy(jo, jo.user, _offer("Walking stick"), "jo-stick")
        _acknowledge(stick.order, staff, supplier)
        services.refund_create(
            order=stick.order,
            actor=staff,
            amount=str(stick.order.total_incl_vat / 2),
            reason="Returned",
            key="demo",
        )
        frame = _buy(jo, jo.user, _offer("Walking frame, wide"), "jo-frame")
        services.spend_decline(
            spend=frame.spend,
            actor=coordinator,
            reason="Let us try the standard frame first, at your next visit.",
        )
        made += 1

    kim = patients.get("patient3@demo.example")
    if kim is not None and not Budget.objects.filter(patient=kim).exists():
        budget = _budget(
            kim,
            manager,
            name="Personal health budget",
            amount="1200.00",
            start=today - dt.timedelta(days=316),
            end=today + dt.timedelta(days=49),
        )
        services.allocation_create(budget=budget, actor=manager, amount="1200.00")
        plan = services.plan_propose(
            budget=budget, actor=coordinator, categories=[_category("Mobility aids")]
        )
        services.plan_agree(plan=plan, actor=kim.user)
        stick = _buy(kim, kim.user, _offer("Walking stick"), "kim-stick")
        _acknowledge(stick.order, staff, supplier)
        made += 1

    _returns(staff, supplier)
    # The demo's history is not news: its order steps are marked as told, so nobody is emailed.
    purchasing.order_events_mark_told(after_id=first_event)
    stdout.write(
        f"Personal budgets: {made} made now, {Budget.objects.count()} in all "
        "(Pat Patel's wheelchair budget has an order waiting for the care coordinator; Pat's walking "
        "frame can be sent back; Pennine has Kim Khan's return waiting)."
    )
