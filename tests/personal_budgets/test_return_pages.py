"""Pat sends a frame back from her order page; the shop answers on its return page; both pages say
what happened, in plain English for Pat."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from ledger.selectors import balance
from organisations.models import Role
from purchasing import services as purchasing
from purchasing.models import OrderReturn, ReturnState
from tests.organisations.factories import PatientProfileFactory, SupplierFactory, member
from tests.personal_budgets.readability import flesch_reading_ease, main_text
from tests.purchasing.factories import acting

pytestmark = pytest.mark.django_db

EASY = 80


@pytest.fixture
def sent(world):
    """Pat's two £60 frames, accepted and sent by the shop."""
    world.give_budget(amount="1000.00", allocate="1000.00")
    order = world.buy(world.walking_frame, 2).order
    shop = acting(world.supplier)
    purchasing.order_acknowledge(
        order=order,
        actor=world.supplier_staff,
        acting=shop,
        expected_delivery=timezone.localdate() + dt.timedelta(days=2),
    )
    purchasing.order_dispatch(order=order, actor=world.supplier_staff, acting=shop, tracking_reference="TRK")
    return order


def send_back(client, order, **data):
    line = order.lines.get()
    form = {"line": line.pk, "packs": 1, "reason": "It is too wide for my door.", "request_key": "tab-1"}
    return client.post(reverse("personal_budgets:send-back", args=[order.pk]), {**form, **data})


def test_pat_sends_a_frame_back_and_the_shop_accepts_it_from_its_inbox(client, world, sent):
    client.force_login(world.patient.user)
    page = client.get(reverse("personal_budgets:order", args=[sent.pk])).content.decode()
    assert "Send something back" in page

    answer = send_back(client, sent)
    again = send_back(client, sent)  # a double press: the same request key
    assert answer.status_code == 302 and again.status_code == 302
    found = OrderReturn.objects.get()
    page = client.get(reverse("personal_budgets:order", args=[sent.pk])).content.decode()
    assert "we are waiting for the shop to take it back" in page

    client.force_login(world.supplier_staff)
    inbox = client.get(reverse("purchasing:supplier-orders")).content.decode()
    assert "Returns waiting for your answer" in inbox and "It is too wide for my door." in inbox
    url = reverse("purchasing:supplier-return", args=[sent.pk, found.pk])
    refused = client.post(url, {"decision": "refuse", "note": ""})
    assert refused.status_code == 400 and "Enter the reason" in refused.content.decode()
    accepted = client.post(url, {"decision": "accept", "note": "Thank you"})
    assert accepted.status_code == 302
    assert client.post(url, {"decision": "accept"}).status_code == 200  # answered already: shown, not redone
    found.refresh_from_db()
    assert found.state == ReturnState.ACCEPTED
    assert balance(world.budget.wallet_id).posted == 100000 - 12000 + 6000
    order_page = client.get(reverse("purchasing:supplier-order", args=[sent.pk])).content.decode()
    assert "Return accepted: money given back" in order_page  # the timeline

    client.force_login(world.patient.user)
    page = client.get(reverse("personal_budgets:order", args=[sent.pk])).content.decode()
    assert "£60.00 is back in your budget" in page
    statement = client.get(reverse("personal_budgets:statement")).content.decode()
    assert f"Money back for order {sent.number}" in statement


def test_too_many_is_refused_on_the_how_many_field(client, world, sent):
    client.force_login(world.patient.user)
    answer = send_back(client, sent, packs=3)
    assert answer.status_code == 400
    assert "at most 2" in answer.content.decode()
    assert not OrderReturn.objects.exists()


def test_the_send_back_pages_read_at_about_age_nine(client, world, sent):
    client.force_login(world.patient.user)
    send_back(client, sent, request_key="first")
    names = [world.walking_frame.product.name, world.supplier.name, "Pat Patel", sent.number]

    def copy(url: str) -> str:
        text = main_text(client.get(url).content.decode())
        for name in names:
            text = text.replace(name, "it")
        return text

    pages = [
        reverse("personal_budgets:send-back", args=[sent.pk]),
        reverse("personal_budgets:order", args=[sent.pk]),
    ]
    scores = {url: round(flesch_reading_ease(copy(url))) for url in pages}
    assert all(score >= EASY for score in scores.values()), scores


def test_another_patient_and_another_shop_get_a_404(client, world, sent):
    client.force_login(world.patient.user)
    send_back(client, sent)
    found = OrderReturn.objects.get()
    client.force_login(PatientProfileFactory().user)
    assert client.get(reverse("personal_budgets:send-back", args=[sent.pk])).status_code == 404
    assert send_back(client, sent, request_key="x").status_code == 404
    other = SupplierFactory()
    client.force_login(member(Role.SUPPLIER_ADMIN, other))
    url = reverse("purchasing:supplier-return", args=[sent.pk, found.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"decision": "accept"}).status_code == 404
    assert OrderReturn.objects.get().state == ReturnState.REQUESTED
