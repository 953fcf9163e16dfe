"""Returns through the API: Pat's app asks for a return of her order, the shop's system accepts it
under the orders API, and a retry never gives the money back twice."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from ledger.selectors import balance
from organisations.models import Role
from personal_budgets.models import Refund
from purchasing import services as purchasing
from purchasing.models import OrderReturn
from tests.organisations.factories import PatientProfileFactory, SupplierFactory, member
from tests.purchasing.factories import acting

pytestmark = pytest.mark.django_db


def api(user, organisation=None) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    if organisation is not None:
        client.credentials(HTTP_X_ACTING_ORGANISATION=str(organisation.pk))
    return client


@pytest.fixture
def sent(world):
    world.give_budget(amount="1000.00", allocate="1000.00")
    order = world.buy(world.walking_frame, 2).order
    shop = acting(world.supplier)
    purchasing.order_acknowledge(
        order=order,
        actor=world.supplier_staff,
        acting=shop,
        expected_delivery=timezone.localdate() + dt.timedelta(days=2),
    )
    purchasing.order_dispatch(order=order, actor=world.supplier_staff, acting=shop, tracking_reference="T")
    return order


def ask(client, order, key="app-1", **body):
    data = {"line": order.lines.get().pk, "packs": 1, "reason": "Too big", **body}
    return client.post(
        f"/api/v1/patient-orders/{order.pk}/returns/", data, format="json", HTTP_IDEMPOTENCY_KEY=key
    )


def test_pat_asks_and_the_shop_accepts_twice_and_60_pounds_come_back_once(world, sent):
    pat = api(world.patient.user)
    first = ask(pat, sent)
    again = ask(pat, sent)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"] and first.json()["state"] == "requested"
    listed = pat.get(f"/api/v1/patient-orders/{sent.pk}/returns/").json()
    assert [r["id"] for r in listed] == [first.json()["id"]]

    shop = api(world.supplier_staff, world.supplier)
    assert [r["packs"] for r in shop.get(f"/api/v1/orders/{sent.pk}/returns/").json()] == [1]
    url = f"/api/v1/orders/{sent.pk}/returns/{first.json()['id']}/accept/"
    answers = [shop.post(url, {}, format="json") for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].json()["state"] == "accepted" and answers[0].json()["refund_amount"] == "60.00"
    assert Refund.objects.count() == 1
    assert balance(world.budget.wallet_id).posted == 100000 - 12000 + 6000
    refused = shop.post(
        f"/api/v1/orders/{sent.pk}/returns/{first.json()['id']}/refuse/", {"reason": "No"}, format="json"
    )
    assert refused.status_code == 409 and refused.json()["field"] == "state"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"packs": 3}, "packs"),
        ({"packs": 0}, "packs"),
        ({"reason": ""}, "reason"),
        ({"line": 999999}, "line"),
    ],
)
def test_bad_input_answers_400_naming_the_field(world, sent, body, field):
    answer = ask(api(world.patient.user), sent, **body)
    assert answer.status_code == 400, answer.content
    assert field in str(answer.json())
    assert not OrderReturn.objects.exists()


def test_a_missing_key_names_the_header(world, sent):
    answer = api(world.patient.user).post(
        f"/api/v1/patient-orders/{sent.pk}/returns/",
        {"line": sent.lines.get().pk, "packs": 1, "reason": "x"},
        format="json",
    )
    assert answer.status_code == 400 and answer.json()["field"] == "Idempotency-Key"


def test_another_patient_and_another_shop_get_404(world, sent):
    created = ask(api(world.patient.user), sent).json()
    stranger = api(PatientProfileFactory().user)
    assert stranger.get(f"/api/v1/patient-orders/{sent.pk}/returns/").status_code == 404
    assert ask(stranger, sent, key="x").status_code == 404
    other = SupplierFactory()
    shop = api(member(Role.SUPPLIER_ADMIN, other), other)
    assert shop.get(f"/api/v1/orders/{sent.pk}/returns/").status_code == 404
    url = f"/api/v1/orders/{sent.pk}/returns/{created['id']}/accept/"
    assert shop.post(url, {}, format="json").status_code == 404
    assert OrderReturn.objects.get().state == "requested" and not Refund.objects.exists()
