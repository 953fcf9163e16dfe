"""A small ICB with a patient, their care coordinator and budget manager, a supplier of mobility aids,
and a budget with money in it and an agreed support plan (made through the services)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.utils import timezone

from catalogue.models import Category, Offer
from organisations.models import Organisation, PatientProfile, Role, User
from personal_budgets import services
from personal_budgets.models import Budget, BudgetKind, SupportPlan
from purchasing.types import PatientDelivery, PatientLine
from tests.catalogue.factories import CategoryFactory, OfferFactory, ProductFactory
from tests.organisations.factories import CommissionerFactory, PatientProfileFactory, SupplierFactory, member

HOME = PatientDelivery(name="Pat Patel", address="1 Example Road\nLeeds", postcode="LS1 1AA")


@dataclass
class World:
    icb: Organisation
    manager: User
    coordinator: User
    patient: PatientProfile
    supplier: Organisation
    supplier_staff: User
    mobility: Category
    walking_aids: Category
    kitchen: Category
    walking_frame: Offer  # £60, zero-rated
    wheelchair: Offer  # £400, zero-rated
    kettle_tipper: Offer  # £25, outside the plan
    budget: Budget | None = None
    plan: SupportPlan | None = None
    keys: list[str] = field(default_factory=list)

    def key(self) -> str:
        self.keys.append(f"key-{len(self.keys)}")
        return self.keys[-1]

    def buy(self, offer: Offer, packs: int = 1, *, actor: User | None = None, key: str | None = None):
        return services.patient_checkout(
            patient=self.patient,
            actor=actor or self.patient.user,
            lines=[PatientLine(offer_id=offer.pk, packs=packs)],
            delivery=HOME,
            idempotency_key=key or self.key(),
        )

    def give_budget(self, *, amount="1000.00", allocate="1000.00", **plan) -> Budget:
        today = timezone.localdate()
        self.budget = services.budget_create(
            patient=self.patient,
            actor=self.manager,
            name="Personal wheelchair budget",
            kind=BudgetKind.NOTIONAL,
            amount=amount,
            period_start=today - dt.timedelta(days=30),
            period_end=today + dt.timedelta(days=5 * 365),
        )
        if allocate:
            services.allocation_create(budget=self.budget, actor=self.manager, amount=allocate)
        self.agree(**plan)
        return self.budget

    def agree(self, **plan) -> SupportPlan:
        plan.setdefault("categories", [self.mobility])
        proposed = services.plan_propose(budget=self.budget, actor=self.coordinator, **plan)
        self.plan = services.plan_agree(plan=proposed, actor=self.patient.user)
        return self.plan


def zero_rated(category, name, price, supplier) -> Offer:
    product = ProductFactory(category=category, name=name)
    return OfferFactory(
        supplier=supplier,
        product=product,
        pack_price=Decimal(price),
        vat_rate=Decimal("0"),
        patient_eligible=True,
    )


@pytest.fixture
def world(db) -> World:
    icb = CommissionerFactory(ods_code="QWO", name="NHS West Yorkshire ICB")
    coordinator = member(Role.CARE_COORDINATOR, icb, full_name="Chris Coordinator")
    supplier = SupplierFactory(name="Mobility Direct")
    mobility = CategoryFactory(name="Mobility")
    walking_aids = CategoryFactory(name="Walking aids", parent=mobility)
    kitchen = CategoryFactory(name="Kitchen aids")
    return World(
        icb=icb,
        manager=member(Role.BUDGET_MANAGER, icb, full_name="Bina Budget"),
        coordinator=coordinator,
        patient=PatientProfileFactory(
            commissioner=icb, care_coordinator=coordinator, user__full_name="Pat Patel"
        ),
        supplier=supplier,
        supplier_staff=member(Role.SUPPLIER_STAFF, supplier),
        mobility=mobility,
        walking_aids=walking_aids,
        kitchen=kitchen,
        walking_frame=zero_rated(walking_aids, "Folding walking frame", "60.00", supplier),
        wheelchair=zero_rated(mobility, "Self-propelled wheelchair", "400.00", supplier),
        kettle_tipper=zero_rated(kitchen, "Kettle tipper", "25.00", supplier),
    )
