"""The patient's top-up pages: the offer on the item's page, the split and delivery, the card page
(Stripe's own script and the publishable key; no card field of ours), the status page and its JSON,
the switched-off message without keys, the Content-Security-Policy that lets Stripe in on the card
page only, plain English (Flesch reading ease as the rest of the patient shop) and scoping."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from personal_budgets.topups.models import TopUp
from purchasing.models import PurchaseOrder
from purchasing.states import OrderState
from tests.organisations.factories import PatientProfileFactory
from tests.payments.conftest import WEBHOOK_SECRET
from tests.payments.stripe_http import event, intent_id, payment_intent, sign
from tests.personal_budgets.readability import flesch_reading_ease, main_text

pytestmark = pytest.mark.django_db

EASY = 80  # as tests/personal_budgets/test_pages.py: reading age about 9


@pytest.fixture
def pat_client(client, world):
    world.give_budget(amount="1000.00", allocate="300.00", top_ups_allowed=True)
    client.force_login(world.patient.user)
    return client


def start_form(client, world, *, card_pence=10000, key="tab-1"):
    return client.post(
        reverse("topups:start", args=[world.wheelchair.pk]),
        {
            "name": "Pat Patel",
            "address": "1 Example Road",
            "postcode": "LS1 1AA",
            "card_pence": card_pence,
            "request_key": key,
        },
    )


def test_the_item_page_offers_a_top_up_when_it_costs_more_than_is_left(pat_client, world):
    html = pat_client.get(reverse("personal_budgets:buy", args=[world.wheelchair.pk])).content.decode()
    assert "Pay the rest by card" in html and reverse("topups:start", args=[world.wheelchair.pk]) in html
    cheap = pat_client.get(reverse("personal_budgets:buy", args=[world.walking_frame.pk])).content.decode()
    assert "Pay the rest by card" not in cheap


def test_without_stripe_keys_the_page_says_top_ups_are_not_available(pat_client, world):
    response = pat_client.get(reverse("topups:start", args=[world.wheelchair.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Card top-ups are not available" in html and "<form" not in html.split("<main", 1)[1]
    assert start_form(pat_client, world).status_code == 200
    assert not PurchaseOrder.objects.exists()


def test_the_patient_sees_the_split_pays_on_stripes_page_and_sees_the_status(
    pat_client, world, stripe_http, django_capture_on_commit_callbacks
):
    page = pat_client.get(reverse("topups:start", args=[world.wheelchair.pk])).content.decode()
    assert "£300.00" in page and "£100.00" in page
    intent = payment_intent(id=intent_id(), amount=10000)
    stripe_http.answer("POST", "/v1/payment_intents", intent)

    response = start_form(pat_client, world)
    order = PurchaseOrder.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("topups:pay", args=[order.pk])
    pay = pat_client.get(response["Location"])
    html = pay.content.decode()
    assert '<script src="https://js.stripe.com/v3/"></script>' in html
    assert "pk_test_" in html and intent["client_secret"] in html
    assert 'name="card' not in html and "cardnumber" not in html  # card fields are Stripe's, in its frame
    csp = pay["Content-Security-Policy"]
    assert "script-src 'self' https://js.stripe.com" in csp
    assert "frame-src https://js.stripe.com https://hooks.stripe.com" in csp
    # Every other page keeps the site's policy.
    status_page = pat_client.get(reverse("topups:status", args=[order.pk]))
    assert "stripe" not in status_page["Content-Security-Policy"]

    status = pat_client.get(reverse("topups:status-json", args=[order.pk])).json()
    assert status == {"state": "waiting", "message": "We are waiting for your card payment.", "final": False}

    payment = TopUp.objects.get().payment
    body = event(
        "payment_intent.succeeded",
        payment_intent(
            id=payment.provider_id,
            amount=10000,
            status="succeeded",
            metadata={"payment_id": str(payment.pk), "reference": payment.reference},
        ),
    )
    payload = json.dumps(body).encode()
    with django_capture_on_commit_callbacks(execute=True):
        pat_client.post(
            "/webhooks/stripe/",
            payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=sign(payload, WEBHOOK_SECRET),
        )
    assert pat_client.get(reverse("topups:status-json", args=[order.pk])).json()["state"] == "paid"
    assert PurchaseOrder.objects.get().state == OrderState.SENT
    order_page = pat_client.get(reverse("personal_budgets:order", args=[order.pk])).content.decode()
    assert "your card pays £100.00" in order_page and "Your card payment is made." in order_page
    statement = pat_client.get(reverse("personal_budgets:statement")).content.decode()
    assert f"You paid by card for order {order.number}" in statement


def test_a_wrong_card_amount_is_shown_on_the_page(pat_client, world, stripe_http):
    html = start_form(pat_client, world, card_pence=5000).content.decode()
    assert "There is a problem" in html and "should be £100.00" in html
    assert not PurchaseOrder.objects.exists()


def test_top_up_pages_read_at_about_age_nine(pat_client, world, stripe_http):
    stripe_http.answer("POST", "/v1/payment_intents", payment_intent(id=intent_id(), amount=10000))
    start_form(pat_client, world)
    order = PurchaseOrder.objects.get()
    pages = [
        reverse("topups:start", args=[world.wheelchair.pk]),
        reverse("topups:pay", args=[order.pk]),
        reverse("topups:status", args=[order.pk]),
        reverse("personal_budgets:order", args=[order.pk]),
    ]
    names = [world.wheelchair.product.name, world.supplier.name, "Pat Patel", order.number]

    def copy(url: str) -> str:
        text = main_text(pat_client.get(url).content.decode())
        for name in names:
            text = text.replace(name, "it")
        return text

    scores = {url: round(flesch_reading_ease(copy(url))) for url in pages}
    assert all(score >= EASY for score in scores.values()), scores


def test_another_patients_top_up_is_a_404(client, world, stripe_http):
    world.give_budget(amount="1000.00", allocate="300.00", top_ups_allowed=True)
    client.force_login(world.patient.user)
    stripe_http.answer("POST", "/v1/payment_intents", payment_intent(id=intent_id(), amount=10000))
    start_form(client, world)
    order = PurchaseOrder.objects.get()
    other = PatientProfileFactory(commissioner=world.icb)
    client.force_login(other.user)
    for name in ("topups:pay", "topups:status", "topups:status-json"):
        assert client.get(reverse(name, args=[order.pk])).status_code == 404, name


def test_a_chair_the_coordinator_checks_first_is_asked_for_then_paid_after_their_yes(
    client, world, stripe_http, django_capture_on_commit_callbacks
):
    from personal_budgets import services as budget_services

    world.give_budget(
        amount="1000.00",
        allocate="300.00",
        top_ups_allowed=True,
        item_cap="350.00",
        over_cap_with_approval=True,
    )
    client.force_login(world.patient.user)
    start = client.get(reverse("topups:start", args=[world.wheelchair.pk])).content.decode()
    assert "Ask my care coordinator" in start and "checks this first" in start

    answer = start_form(client, world)

    order = PurchaseOrder.objects.get()
    assert answer.status_code == 302 and answer["Location"] == reverse("topups:status", args=[order.pk])
    waiting = client.get(reverse("topups:status", args=[order.pk])).content.decode()
    assert "checks this order first" in waiting and reverse("topups:pay", args=[order.pk]) not in waiting
    assert "topups.js" not in waiting  # days may pass: the page does not poll meanwhile
    assert client.get(reverse("topups:pay", args=[order.pk])).status_code == 302  # nothing to pay yet
    assert stripe_http.requests == []

    with django_capture_on_commit_callbacks(execute=True):
        budget_services.spend_approve(spend=order.budget_spend.pk, actor=world.coordinator)

    asked = client.get(reverse("topups:status", args=[order.pk])).content.decode()
    assert "said yes" in asked and reverse("topups:pay", args=[order.pk]) in asked
    stripe_http.answer("POST", "/v1/payment_intents", payment_intent(id=intent_id(), amount=10000))
    pay = client.get(reverse("topups:pay", args=[order.pk])).content.decode()
    assert "https://js.stripe.com/v3/" in pay and "Pay £100.00" in pay
    text = main_text(asked).replace(order.number, "it").replace("Pat Patel", "it")
    assert flesch_reading_ease(text) >= EASY
