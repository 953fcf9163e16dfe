"""The demo's top-up: Kim Khan signs in for the first time and finds, in her shop, a wheelchair
costing more than her budget has left and a plan that lets her pay the rest by card. Without Stripe
keys the page says card top-ups are off; with test keys (Stripe's HTTP answered by recorded
responses) the top-up goes through. No earlier top-up is seeded: only Stripe can complete one."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse

from catalogue import demo as catalogue_demo
from common.money import to_pence
from organisations import demo as organisations_demo
from organisations.models import PatientProfile
from payments.models import Payment
from personal_budgets import demo as budgets_demo
from personal_budgets import selectors
from personal_budgets.models import SupportPlan
from personal_budgets.topups import demo, services
from personal_budgets.topups.models import TopUp, TopUpState
from purchasing.types import PatientDelivery, PatientLine
from tests.payments.stripe_http import intent_id, payment_intent

pytestmark = pytest.mark.django_db


@pytest.fixture
def kim():
    for seeder in (organisations_demo, catalogue_demo, budgets_demo, demo):
        seeder.seed(io.StringIO())
    return PatientProfile.objects.select_related("user").get(user__email=demo.PATIENT)


def dearer_than_left(kim):
    summary = selectors.budget_summary(budget=selectors.current_budget(patient=kim))
    items = [i for i in selectors.shop_items(patient=kim, summary=summary) if not i.affordable]
    return summary, items


def test_kim_finds_a_chair_dearer_than_her_budget_and_a_plan_that_lets_her_pay_the_rest(kim, client):
    summary, items = dearer_than_left(kim)

    assert summary.plan.top_ups_allowed
    assert any("Active user" in i.offer.product.name and not i.needs_approval for i in items)
    chair = next(i for i in items if "Active user" in i.offer.product.name)
    client.force_login(kim.user)
    item_page = client.get(reverse("personal_budgets:buy", args=[chair.offer.pk])).content.decode()
    assert "Pay the rest by card" in item_page
    start = client.get(reverse("topups:start", args=[chair.offer.pk])).content.decode()
    assert "Card top-ups are not available" in start  # no Stripe keys: said plainly
    assert not TopUp.objects.exists() and not Payment.objects.exists()  # no history is faked

    plans = SupportPlan.objects.count()
    demo.seed(io.StringIO())
    assert SupportPlan.objects.count() == plans


def test_with_test_keys_kim_pays_the_rest_by_card(kim, stripe_http):
    summary, items = dearer_than_left(kim)
    chair = next(i for i in items if "Active user" in i.offer.product.name)
    split = services.split_for(budget=summary.budget, total_pence=to_pence(chair.price.amount))
    stripe_http.answer("POST", "/v1/payment_intents", payment_intent(id=intent_id(), amount=split.card_pence))

    result = services.topup_checkout(
        patient=kim,
        actor=kim.user,
        lines=[PatientLine(offer_id=chair.offer.pk, packs=1)],
        delivery=PatientDelivery(name="Kim Khan", address="3 Demo Street\nLeeds", postcode="LS1 4AP"),
        idempotency_key="kim-chair",
        card_pence=split.card_pence,
    )
    started = services.topup_payment_start(top_up=result.top_up)

    assert result.top_up.state == TopUpState.AWAITING_CARD and split.card_pence > 0
    assert started.payment.amount_pence == split.card_pence
