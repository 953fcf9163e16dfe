"""Budgets and support plans through the API, as on the pages: the ICB's budget manager gives a
patient a budget (a retried request makes one), the care coordinator writes a plan version, and the
patient agrees it; each refusal names its field, and only the people the page allows may do each."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from organisations.models import Role
from personal_budgets.models import Budget, SupportPlan
from tests.catalogue.factories import CategoryFactory
from tests.organisations.factories import CommissionerFactory, PatientProfileFactory, member

pytestmark = pytest.mark.django_db


def api(user, key: str | None = None) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    if key is not None:
        client.credentials(HTTP_IDEMPOTENCY_KEY=key)
    return client


def budget_body(world, **changes) -> dict:
    body = {
        "patient": world.patient.pk,
        "name": "Personal wheelchair budget",
        "kind": "notional",
        "amount": "3000.00",
        "period_start": "2027-04-01",
        "period_end": "2028-03-31",
    }
    return {**body, **changes}


def test_the_manager_gives_a_budget_once_however_often_the_request_is_sent(world):
    first = api(world.manager, key="budget-1").post("/api/v1/wallets/", budget_body(world), format="json")
    assert first.status_code == 201
    wallet = first.json()
    assert (wallet["patient"]["id"], wallet["amount"], wallet["allocated"], wallet["available"]) == (
        world.patient.pk,
        "3000.00",
        "0.00",
        "0.00",
    )
    again = api(world.manager, key="budget-1").post("/api/v1/wallets/", budget_body(world), format="json")
    assert again.json()["id"] == wallet["id"]
    assert Budget.objects.count() == 1

    # Then money goes in through the allocations API, as before.
    allocated = api(world.manager).post(
        "/api/v1/allocations/", {"budget": wallet["id"], "amount": "500.00"}, format="json"
    )
    assert allocated.status_code == 201
    assert api(world.patient.user).get("/api/v1/wallets/").json()["results"][0]["available"] == "500.00"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": "0.00"}, "amount"),
        ({"period_end": "2027-03-01"}, "period_end"),
        ({"kind": "cash"}, "kind"),
        ({"name": ""}, "name"),
        ({"amount": 30.5}, "amount"),  # a JSON number with a fraction is a float: refused
    ],
)
def test_a_bad_budget_is_refused_on_its_field(world, changes, field):
    answer = api(world.manager, key="k").post(
        "/api/v1/wallets/", budget_body(world, **changes), format="json"
    )
    assert answer.status_code == 400
    assert field in str(answer.json())
    assert not Budget.objects.exists()


def test_a_budget_needs_a_key_a_patient_of_the_icb_and_no_overlap(world):
    no_key = api(world.manager).post("/api/v1/wallets/", budget_body(world), format="json")
    assert no_key.status_code == 400 and no_key.json()["field"] == "Idempotency-Key"

    stranger = PatientProfileFactory(commissioner=CommissionerFactory())
    other = api(world.manager, key="k1").post(
        "/api/v1/wallets/", budget_body(world, patient=stranger.pk), format="json"
    )
    assert other.status_code == 400 and other.json()["field"] == "patient"

    api(world.manager, key="k2").post("/api/v1/wallets/", budget_body(world), format="json")
    overlap = api(world.manager, key="k3").post(
        "/api/v1/wallets/",
        budget_body(world, period_start="2027-12-01", period_end="2028-11-30"),
        format="json",
    )
    assert overlap.status_code == 400 and overlap.json()["field"] == "period_start"
    assert Budget.objects.count() == 1


def test_only_a_budget_manager_of_the_icb_gives_budgets(world):
    for outsider in (world.coordinator, world.patient.user, member(Role.BUYER)):
        answer = api(outsider, key="k").post("/api/v1/wallets/", budget_body(world), format="json")
        assert answer.status_code in (403, 404)
    assert not Budget.objects.exists()


def plan_body(world, **changes) -> dict:
    body = {
        "categories": [world.mobility.slug],
        "item_cap": "450.00",
        "period_cap": "900.00",
        "cap_period_months": 6,
        "approval_products": [world.wheelchair.product_id],
        "top_ups_allowed": True,
        "notes": "Wheelchair and walking aids; ask me before the wheelchair.",
    }
    return {**body, **changes}


def test_the_coordinator_writes_a_plan_and_the_patient_agrees_it(world):
    world.give_budget(allocate="500.00")  # version 1 agreed: mobility
    url = f"/api/v1/wallets/{world.budget.pk}/plans/"
    written = api(world.coordinator, key="plan-2").post(url, plan_body(world), format="json")
    assert written.status_code == 201
    assert (written.json()["version"], written.json()["state"]) == (2, "waiting")
    assert (
        api(world.coordinator, key="plan-2").post(url, plan_body(world), format="json").json()["version"] == 2
    )
    assert SupportPlan.objects.filter(budget=world.budget).count() == 2

    seen = api(world.patient.user).get(url).json()
    assert [(v["version"], v["state"]) for v in seen] == [(2, "waiting"), (1, "in_use")]
    assert seen[0]["approval_products"] == [world.wheelchair.product_id]
    assert seen[0]["period_cap"] == "900.00" and seen[0]["cap_period_months"] == 6

    refused = api(world.coordinator).post(f"{url}2/agree/")
    assert refused.status_code == 403 and refused.json()["code"] == "not_patient"
    agreed = api(world.patient.user).post(f"{url}2/agree/")
    assert agreed.status_code == 200 and agreed.json()["state"] == "in_use"
    again = api(world.patient.user).post(f"{url}2/agree/")
    assert again.status_code == 409 and again.json()["code"] == "agreed_already"
    assert [v["state"] for v in api(world.manager).get(url).json()] == ["in_use", "replaced"]
    plan = SupportPlan.objects.get(budget=world.budget, version=2)
    assert (plan.item_cap, plan.top_ups_allowed) == (Decimal("450.00"), True)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"categories": []}, "categories"),
        ({"categories": ["no-such-category"]}, "categories"),
        ({"item_cap": "950.00"}, "item_cap"),  # over the cap per period
        ({"cap_period_months": 0}, "cap_period_months"),
        ({"approval_products": [2**31 - 1]}, "approval_products"),
    ],
)
def test_a_bad_plan_is_refused_on_its_field(world, changes, field):
    world.give_budget(allocate="500.00")
    answer = api(world.coordinator, key="k").post(
        f"/api/v1/wallets/{world.budget.pk}/plans/", plan_body(world, **changes), format="json"
    )
    assert answer.status_code == 400
    assert field in str(answer.json())
    assert SupportPlan.objects.filter(budget=world.budget).count() == 1


def test_a_category_no_patient_can_buy_from_is_not_a_plan_choice(world):
    world.give_budget(allocate="500.00")
    surgical = CategoryFactory(name="Surgical instruments")
    answer = api(world.coordinator, key="k").post(
        f"/api/v1/wallets/{world.budget.pk}/plans/",
        plan_body(world, categories=[surgical.slug]),
        format="json",
    )
    assert answer.status_code == 400 and "categories" in str(answer.json())


def test_only_the_patients_coordinator_writes_and_outsiders_see_nothing(world):
    world.give_budget(allocate="500.00")
    url = f"/api/v1/wallets/{world.budget.pk}/plans/"
    assert api(world.patient.user, key="k").post(url, plan_body(world), format="json").status_code == 403
    manager = api(world.manager, key="k").post(url, plan_body(world), format="json")
    assert manager.status_code == 403, manager.json()
    colleague = member(Role.CARE_COORDINATOR, world.icb)
    for outsider in (colleague, member(Role.BUDGET_MANAGER, CommissionerFactory())):
        assert api(outsider).get(url).status_code == 404
        assert api(outsider, key="k").post(url, plan_body(world), format="json").status_code == 404
    assert SupportPlan.objects.filter(budget=world.budget).count() == 1
