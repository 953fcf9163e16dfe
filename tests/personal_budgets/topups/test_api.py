"""The top-up API: a patient's app orders a chair dearer than the budget with `card_amount`, starts the
card part (POST .../top-up/ with an Idempotency-Key: the client secret and the amount for Stripe's
SDK) and reads its state (GET). Only the patient and a carer they granted may; errors name the
field. Stripe's HTTP layer answers from recorded responses (the `stripe` library runs)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from organisations import services as org_services
from organisations.models import Role
from payments.models import Payment
from personal_budgets.topups.models import TopUp
from tests.organisations.factories import PatientProfileFactory, UserFactory, member
from tests.payments.stripe_http import event, intent_id, payment_intent
from tests.personal_budgets.topups.test_topups import INTENTS, deliver, intent_of

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def chair_body(world, card_amount="100.00") -> dict:
    body = {
        "lines": [{"offer": world.wheelchair.pk, "quantity": 1}],
        "delivery": {"name": "Pat Patel", "address": "1 Example Road", "postcode": "LS1 1AA"},
    }
    if card_amount is not None:
        body["card_amount"] = card_amount
    return body


@pytest.fixture
def pat(world):
    world.give_budget(amount="1000.00", allocate="300.00", top_ups_allowed=True)
    return world


def order_chair(world, client=None, **headers):
    answer = (client or api(world.patient.user)).post(
        "/api/v1/patient-orders/", chair_body(world), format="json", HTTP_IDEMPOTENCY_KEY="chair", **headers
    )
    assert answer.status_code == 201, answer.json()
    return answer.json()


def test_the_patients_app_orders_the_chair_starts_the_card_part_and_reads_it_paid(
    pat, stripe_http, client, django_capture_on_commit_callbacks
):
    order = order_chair(pat)
    assert order["top_up"] == f"/api/v1/patient-orders/{order['id']}/top-up/"
    assert order["money"] == "held" and order["state"] == "approved"  # kept back for the card
    intent = payment_intent(id=intent_id(), amount=10000)
    stripe_http.answer("POST", INTENTS, intent)
    app = api(pat.patient.user)

    started = app.post(order["top_up"], HTTP_IDEMPOTENCY_KEY="pay-1")
    again = app.post(order["top_up"], HTTP_IDEMPOTENCY_KEY="pay-1")

    assert (started.status_code, again.status_code) == (201, 200)
    body = started.json()
    assert body["amount"] == "100.00" and body["amount_pence"] == 10000 and body["currency"] == "gbp"
    assert body["client_secret"] == intent["client_secret"]
    assert body["publishable_key"].startswith("pk_test_")
    assert again.json()["client_secret"] == body["client_secret"]
    [request] = stripe_http.requests  # the second call asked Stripe nothing
    assert request.idempotency_key == f"mp-payment:topup:order:{order['id']}"
    assert request.params["amount"] == "10000"
    assert request.params["metadata[reference]"] == f"order:{order['number']}"

    waiting = app.get(order["top_up"]).json()
    assert (waiting["state"], waiting["status"], waiting["final"]) == ("awaiting_card", "waiting", False)
    assert "client_secret" not in waiting
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, event("payment_intent.succeeded", intent_of(Payment.objects.get(), "succeeded")))
    paid = app.get(order["top_up"]).json()
    assert (paid["state"], paid["payment_state"], paid["final"]) == ("paid", "succeeded", True)
    assert (paid["wallet_amount"], paid["card_amount"]) == ("300.00", "100.00")


def test_the_top_up_needs_an_idempotency_key_and_names_it(pat, stripe_http):
    order = order_chair(pat)

    answer = api(pat.patient.user).post(order["top_up"])

    assert answer.status_code == 400 and answer.json()["field"] == "Idempotency-Key"
    assert stripe_http.requests == []


def test_a_carer_with_a_grant_may_pay_but_the_coordinator_and_strangers_get_a_404(pat, stripe_http):
    order = order_chair(pat)
    header = {"HTTP_X_ACTING_PATIENT": pat.patient.nhs_number, "HTTP_IDEMPOTENCY_KEY": "k"}
    carer = UserFactory()
    other_patient = PatientProfileFactory(commissioner=pat.icb).user
    colleague = member(Role.CARE_COORDINATOR, pat.icb)

    for outsider in (carer, pat.coordinator):
        answer = api(outsider).post(order["top_up"], **header)
        assert answer.status_code in (403, 404), (outsider, answer.json())
        assert api(outsider).get(order["top_up"], **header).status_code in (403, 404)
    assert api(pat.coordinator).post(order["top_up"], **header).status_code == 404
    assert api(other_patient).post(order["top_up"], HTTP_IDEMPOTENCY_KEY="k").status_code == 404
    assert api(colleague).get(order["top_up"], **header).status_code in (403, 404)
    assert stripe_http.requests == []

    org_services.carer_link_create(patient=pat.patient, carer=carer, actor=pat.patient.user)
    stripe_http.answer("POST", INTENTS, payment_intent(id=intent_id(), amount=10000))
    assert api(carer).post(order["top_up"], **header).status_code == 201


def test_checkout_errors_name_the_field(world, stripe_http):
    world.give_budget(amount="1000.00", allocate="300.00", top_ups_allowed=True)
    app = api(world.patient.user)

    wrong = app.post(
        "/api/v1/patient-orders/", chair_body(world, "99.99"), format="json", HTTP_IDEMPOTENCY_KEY="a"
    )
    not_needed = app.post(
        "/api/v1/patient-orders/",
        {**chair_body(world), "lines": [{"offer": world.walking_frame.pk, "quantity": 1}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="b",
    )
    as_number = app.post(
        "/api/v1/patient-orders/", chair_body(world, 100.0), format="json", HTTP_IDEMPOTENCY_KEY="c"
    )

    assert (wrong.status_code, wrong.json()["field"], wrong.json()["code"]) == (
        400,
        "card_pence",
        "amount_mismatch",
    )
    assert "£100.00" in wrong.json()["detail"]
    assert (not_needed.status_code, not_needed.json()["code"]) == (400, "not_needed")
    assert as_number.status_code == 400 and "card_amount" in str(as_number.json())
    assert not TopUp.objects.exists() and stripe_http.requests == []


def test_a_plan_without_top_ups_is_refused_naming_the_plan(world, stripe_http):
    world.give_budget(amount="1000.00", allocate="300.00", top_ups_allowed=False)

    answer = api(world.patient.user).post(
        "/api/v1/patient-orders/", chair_body(world), format="json", HTTP_IDEMPOTENCY_KEY="a"
    )

    assert (answer.status_code, answer.json()["field"], answer.json()["code"]) == (
        400,
        "plan",
        "top_ups_not_allowed",
    )


def test_an_order_waiting_for_the_coordinator_cannot_be_paid_yet(world, stripe_http):
    world.give_budget(
        amount="1000.00",
        allocate="300.00",
        top_ups_allowed=True,
        item_cap="350.00",
        over_cap_with_approval=True,
    )
    order = order_chair(world)
    assert order["waits_for_approval"]

    answer = api(world.patient.user).post(order["top_up"], HTTP_IDEMPOTENCY_KEY="k")

    assert answer.status_code == 409
    assert (answer.json()["field"], answer.json()["code"]) == ("order", "top_up_awaiting_approval")
    assert api(world.patient.user).get(order["top_up"]).json()["status"] == "awaiting_approval"
    assert stripe_http.requests == []


def test_without_stripe_keys_the_top_up_says_card_payments_are_off(world):
    world.give_budget(amount="1000.00", allocate="300.00", top_ups_allowed=True)

    answer = api(world.patient.user).post(
        "/api/v1/patient-orders/", chair_body(world), format="json", HTTP_IDEMPOTENCY_KEY="a"
    )

    assert answer.status_code == 400 and answer.json()["code"] == "payments_disabled"


def test_the_top_up_is_in_the_openapi_schema(client):
    schema = client.get("/api/schema/?format=json").json()
    operations = schema["paths"]["/api/v1/patient-orders/{id}/top-up/"]
    assert operations["post"]["operationId"] == "patient_orders_top_up_start"
    assert any(p["name"] == "Idempotency-Key" and p["required"] for p in operations["post"]["parameters"])
    assert operations["get"]["operationId"] == "patient_orders_top_up_state"
    inputs = [v for k, v in schema["components"]["schemas"].items() if k.startswith("PatientOrderInput")]
    assert inputs and all("card_amount" in found["properties"] for found in inputs)
