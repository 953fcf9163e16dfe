"""Finance staff read card top-ups in the back office beside the card payments and the card
reconciliation page: each top-up's split, its card payment's state and Stripe's word, the order's
ledger transfers, refunds and Stripe events. Read-only, and only with the "view payment" permission."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission

from personal_budgets.topups.models import TopUp
from tests.organisations.factories import UserFactory
from tests.payments.stripe_http import event
from tests.personal_budgets.topups.test_topups import deliver, intent_of, start_paying

pytestmark = pytest.mark.django_db


def staff(*codenames: str):
    group = Group.objects.create(name="-".join(codenames))
    group.permissions.add(*Permission.objects.filter(codename__in=codenames))
    person = UserFactory(is_staff=True)
    person.groups.add(group)
    return person


def test_finance_staff_see_a_paid_top_up_with_its_ledger_transfers_and_stripes_state(
    world, stripe_http, client, django_capture_on_commit_callbacks
):
    world.give_budget(amount="1000.00", allocate="300.00", top_ups_allowed=True)
    result, started, _ = start_paying(world, stripe_http)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, event("payment_intent.succeeded", intent_of(started.payment, "succeeded")))
    top_up = TopUp.objects.get()
    client.force_login(staff("access_admin", "view_payment"))

    listing = client.get("/cms/payments/top-ups/").content.decode()
    detail = client.get(f"/cms/payments/top-ups/{top_up.pk}/").content.decode()

    assert result.order.number in listing and "Pat Patel" in listing and "10000p" in listing
    assert "succeeded" in listing  # Stripe's last word
    for code in ("purchase", "card_top_up"):
        assert f"<td>{code}</td>" in detail
    assert "card_clearing:stripe" in detail and "30000p" in detail
    assert "payment_intent.succeeded" in detail and started.payment.provider_id in detail
    assert "No difference." in detail
    assert started.client_secret not in detail and started.client_secret not in listing
    assert (
        client.get("/cms/payments/top-ups/?state=cancelled").content.decode().count(result.order.number) == 0
    )
    assert client.get("/cms/payments/top-ups/999999/").status_code == 404


def test_staff_without_the_payments_permission_are_refused(world, client):
    client.force_login(staff("access_admin"))

    assert client.get("/cms/payments/top-ups/").status_code in {302, 403}
