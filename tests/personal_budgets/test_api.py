"""The personal budgets' API: wallets, transactions, allocations and the patient's checkout."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from ledger.selectors import balance
from organisations import services as org_services
from organisations.models import Role
from purchasing.models import PurchaseOrder
from tests.organisations.factories import CommissionerFactory, PatientProfileFactory, UserFactory, member

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def order_body(world, offer=None, quantity=1) -> dict:
    return {
        "lines": [{"offer": (offer or world.walking_frame).pk, "quantity": quantity}],
        "delivery": {"name": "Pat Patel", "address": "1 Example Road", "postcode": "LS1 1AA"},
    }


def test_the_patient_sees_their_wallet_and_its_transactions(world):
    world.give_budget(allocate="300.00")
    world.buy(world.walking_frame)
    wallets = api(world.patient.user).get("/api/v1/wallets/").json()["results"]
    assert [(w["id"], w["available"], w["held"], w["allocated"]) for w in wallets] == [
        (world.budget.pk, "240.00", "60.00", "300.00")
    ]
    lines = api(world.patient.user).get(f"/api/v1/wallets/{world.budget.pk}/transactions/").json()["results"]
    assert [(line["code"], line["amount"], line["balance"]) for line in lines] == [
        ("allocation", "300.00", "300.00")
    ]


def test_a_wallet_is_a_404_for_another_patient_a_carer_without_a_grant_and_another_icb(world):
    world.give_budget(allocate="300.00")
    url = f"/api/v1/wallets/{world.budget.pk}/transactions/"
    outsiders = [
        PatientProfileFactory(commissioner=world.icb).user,
        UserFactory(),
        member(Role.BUDGET_MANAGER, CommissionerFactory()),
        member(Role.CARE_COORDINATOR, world.icb),  # a colleague, not this patient's coordinator
    ]
    for outsider in outsiders:
        assert api(outsider).get(url).status_code == 404
        assert api(outsider).get("/api/v1/wallets/").json()["results"] == []
    assert api(world.manager).get(url).status_code == 200
    assert api(world.coordinator).get(url).status_code == 200


def test_checkout_with_an_idempotency_key_replays_without_moving_money_twice(world):
    world.give_budget(allocate="300.00")
    client = api(world.patient.user)
    first = client.post(
        "/api/v1/patient-orders/", order_body(world), format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    again = client.post(
        "/api/v1/patient-orders/", order_body(world), format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and first.json()["money"] == "held"
    assert balance(world.budget.wallet_id).debits_pending == 6000
    missing = client.post("/api/v1/patient-orders/", order_body(world), format="json")
    assert missing.status_code == 400 and missing.json()["field"] == "Idempotency-Key"


def test_checkout_errors_name_the_rule(world):
    world.give_budget(allocate="100.00", period_cap="100.00")
    client = api(world.patient.user)
    outside = client.post(
        "/api/v1/patient-orders/",
        order_body(world, world.kettle_tipper),
        format="json",
        HTTP_IDEMPOTENCY_KEY="a",
    )
    assert outside.status_code == 400 and outside.json()["field"] == "offer"
    too_much = client.post(
        "/api/v1/patient-orders/", order_body(world, quantity=2), format="json", HTTP_IDEMPOTENCY_KEY="b"
    )
    assert too_much.status_code == 400 and too_much.json()["field"] == "period_cap"
    zero = client.post(
        "/api/v1/patient-orders/", order_body(world, quantity=0), format="json", HTTP_IDEMPOTENCY_KEY="c"
    )
    assert zero.status_code == 400
    assert not PurchaseOrder.objects.exists()


def test_a_carer_checks_out_with_the_patient_header_and_only_with_a_grant(world):
    world.give_budget(allocate="300.00")
    carer = UserFactory()
    header = {"HTTP_X_ACTING_PATIENT": world.patient.nhs_number, "HTTP_IDEMPOTENCY_KEY": "c1"}
    refused = api(carer).post("/api/v1/patient-orders/", order_body(world), format="json", **header)
    assert refused.status_code == 403 and refused.json()["field"] == "X-Acting-Patient"
    org_services.carer_link_create(patient=world.patient, carer=carer, actor=world.patient.user)
    made = api(carer).post("/api/v1/patient-orders/", order_body(world), format="json", **header)
    assert made.status_code == 201
    listed = api(carer).get("/api/v1/patient-orders/", HTTP_X_ACTING_PATIENT=world.patient.nhs_number).json()
    assert [o["id"] for o in listed["results"]] == [made.json()["id"]]


def test_the_budget_manager_allocates_through_the_api(world):
    world.give_budget(amount="1000.00", allocate="100.00")
    client = api(world.manager)
    made = client.post("/api/v1/allocations/", {"budget": world.budget.pk, "amount": "50.00"}, format="json")
    assert made.status_code == 201 and made.json()["state"] == "made"
    assert balance(world.budget.wallet_id).posted == 15000
    zero = client.post("/api/v1/allocations/", {"budget": world.budget.pk, "amount": "0"}, format="json")
    assert zero.status_code == 400 and zero.json()["field"] == "amount"
    assert len(client.get("/api/v1/allocations/").json()["results"]) == 2
    other = member(Role.BUDGET_MANAGER, CommissionerFactory())
    foreign = api(other).post(
        "/api/v1/allocations/", {"budget": world.budget.pk, "amount": "5"}, format="json"
    )
    assert foreign.status_code == 404
    assert api(world.coordinator).get("/api/v1/allocations/").status_code == 403
