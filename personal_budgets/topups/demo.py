"""Demo card top-ups for `seed_demo` (after the personal budgets' demo).

Kim Khan (patient3@demo.example) wants an active user rigid-frame wheelchair (£1,890, zero-rated)
while her budget, ending in seven weeks, has about £1,190 left. Her care coordinator proposes a new
version of her support plan adding manual self-propelled wheelchairs and letting her pay the rest
by card, and Kim agrees it (both through the budgets' services, as the demo people would). On first
sign-in Kim finds the chair in her shop marked "Pay the rest by card": with Stripe's test keys set
the card page works (Stripe's test card 4242 4242 4242 4242); without them the page says card
top-ups are not available and the rest of the shop works.

No earlier top-up is seeded: a completed card payment can only come from Stripe (payments records
one only from Stripe's answer or its signed webhook), so the demo writes none rather than fake one.
Idempotent: a plan that already allows top-ups is left as it is.
"""

from __future__ import annotations

from typing import TextIO

from catalogue.models import Category
from organisations.models import PatientProfile, User
from personal_budgets import services
from personal_budgets.selectors import current_budget, current_plan

COORDINATOR = "care.coordinator@wy-icb.demo.example"
PATIENT = "patient3@demo.example"
CHAIRS = "Wheelchairs > Manual self-propelled wheelchairs"


def seed(stdout: TextIO) -> None:
    kim = PatientProfile.objects.select_related("user").filter(user__email=PATIENT).first()
    coordinator = User.objects.filter(email=COORDINATOR).first()
    budget = current_budget(patient=kim) if kim else None
    plan = current_plan(budget=budget) if budget else None
    if kim is None or coordinator is None or plan is None:
        stdout.write("Card top-ups: run the organisations and personal budgets demos first.")
        return
    if plan.top_ups_allowed:
        stdout.write("Card top-ups: Kim Khan's plan already lets her pay the rest by card.")
        return
    chairs = Category.objects.filter(path=CHAIRS).first()
    categories = list(plan.categories.all()) + ([chairs] if chairs else [])
    proposed = services.plan_propose(
        budget=budget,
        actor=coordinator,
        categories=categories,
        item_cap=plan.item_cap,
        period_cap=plan.period_cap,
        over_cap_with_approval=plan.over_cap_with_approval,
        approval_categories=list(plan.approval_categories.all()),
        approval_products=list(plan.approval_products.all()),
        top_ups_allowed=True,
        notes="An active user wheelchair: Kim may pay what the budget does not cover by card.",
    )
    services.plan_agree(plan=proposed, actor=kim.user)
    stdout.write(
        "Card top-ups: Kim Khan (patient3@demo.example) may now pay the rest by card; the active user "
        "wheelchair costs more than her budget has left. No earlier top-up is seeded (only Stripe can "
        "complete a card payment)."
    )
