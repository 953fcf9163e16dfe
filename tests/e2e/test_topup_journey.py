"""Pat's wheelchair costs more than her personal budget has left: she pays the rest by card and sees
both parts, the budget's and the card's, on her statement.

What is real and what is not: the server is pytest-django's live server, in this process, with
Stripe's test keys set; the `stripe` library runs and its HTTP layer is answered by the recorded
Stripe responses of tests/payments/stripe_http.py (the same client the payments tests use). In the
browser, **Stripe's Elements script (https://js.stripe.com/v3/) is the one part stubbed**: Playwright
answers it with a small stand-in `Stripe()` whose Payment Element is a placeholder and whose
`confirmPayment` resolves as Stripe's does after a successful card, so no card is typed and no
request leaves for Stripe. Stripe's webhook `payment_intent.succeeded` is then posted by the test
over HTTP to /webhooks/stripe/, signed the way Stripe signs it; the status page polls our endpoint
until the order is paid. Every page is checked by axe (WCAG 2.2 AA), as in every journey."""

from __future__ import annotations

import json

import pytest
import stripe

from personal_budgets.topups.models import TopUp
from tests.conftest import PASSWORD
from tests.payments.conftest import WEBHOOK_SECRET
from tests.payments.stripe_http import RecordedStripe, event, intent_id, payment_intent, sign
from tests.personal_budgets.conftest import world  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e

# The stand-in for Stripe's script: the page's own code (static/personal_budgets/topups.js) mounts
# the Payment Element and confirms the payment through it, exactly as it does with Stripe's.
FAKE_STRIPE_JS = """
window.Stripe = function (publishableKey) {
  return {
    elements: function (options) {
      return {
        create: function () {
          return {
            mount: function (selector) {
              var box = document.querySelector(selector);
              box.setAttribute("data-stub", "stripe-elements");
              box.textContent = "Card details (a test stand-in for Stripe's form)";
            }
          };
        }
      };
    },
    confirmPayment: function (options) {
      window.__confirmed = { key: publishableKey, returnUrl: options.confirmParams.return_url };
      return Promise.resolve({});
    }
  };
};
"""


@pytest.fixture
def recorded_stripe(settings, monkeypatch) -> RecordedStripe:
    settings.STRIPE_SECRET_KEY = "sk_test_51QxJ2bLkdIwHu7ixRecordedResponsesOnly"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_51QxJ2bLkdIwHu7ixRecordedResponsesOnly"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    client = RecordedStripe()
    monkeypatch.setattr(stripe, "default_http_client", client)
    return client


def test_a_patient_pays_the_rest_of_a_chair_by_card_and_sees_both_parts_on_the_statement(
    world,  # noqa: F811
    journey,
    recorded_stripe,
):
    world.give_budget(amount="1000.00", allocate="300.00", top_ups_allowed=True)
    intent = payment_intent(id=intent_id(), amount=10000)
    recorded_stripe.answer("POST", "/v1/payment_intents", intent)
    page = journey.page
    page.route(
        "https://js.stripe.com/v3/**",
        lambda route: route.fulfill(status=200, content_type="application/javascript", body=FAKE_STRIPE_JS),
    )
    journey.sign_in(world.patient.user.email, PASSWORD)

    journey.goto(f"/budgets/shop/{world.wheelchair.pk}/", "the chair costs more than is left")
    page.get_by_role("link", name="Pay the rest by card").click()
    journey.check("how Pat pays: budget and card")
    assert page.get_by_role("row", name="From your budget £300.00").is_visible()
    assert page.get_by_role("row", name="By your card £100.00").is_visible()
    page.get_by_label("Address").fill("1 Example Road\nLeeds")
    page.get_by_label("Postcode").fill("LS1 1AA")
    page.get_by_role("button", name="Go to card payment").click()
    page.wait_for_selector("[data-stub=stripe-elements]")
    journey.check("the card page with Stripe's form")
    [asked] = recorded_stripe.requests_to("POST", "/v1/payment_intents")
    assert asked.params["amount"] == "10000"

    page.get_by_role("button", name="Pay £100.00").click()
    page.wait_for_url("**/budgets/top-ups/orders/*/")
    journey.check("waiting for the card payment")
    assert "waiting for your card payment" in page.locator("#top-up-status").inner_text()

    # Stripe tells us the card payment succeeded.
    payment = TopUp.objects.get().payment
    body = event(
        "payment_intent.succeeded",
        payment_intent(
            id=intent["id"],
            amount=10000,
            status="succeeded",
            metadata={"payment_id": str(payment.pk), "reference": payment.reference},
        ),
    )
    payload = json.dumps(body).encode()
    answer = page.request.post(
        journey.base_url + "/webhooks/stripe/",
        data=payload,
        headers={"Content-Type": "application/json", "Stripe-Signature": sign(payload, WEBHOOK_SECRET)},
    )
    assert answer.status == 200
    page.get_by_text("Your card payment is made").wait_for()
    journey.check("paid: the order has gone to the shop")

    page.get_by_role("link", name="See your statement").click()
    journey.check("the statement shows both parts")
    order = TopUp.objects.get().spend.order
    assert page.get_by_role("row", name=f"You paid by card for order {order.number} £100.00").count() == 1
    assert page.get_by_role("row", name=f"Paid for order {order.number}").count() == 1  # the card part
    # The budget part, put aside until the shop accepts the order.
    assert page.get_by_role("heading", name="Put aside").is_visible()
    assert page.get_by_role("listitem").filter(has_text="£300.00").count() == 1
    journey.assert_no_problems()
