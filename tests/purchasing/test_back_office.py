"""The back office lists and inspects purchase orders and trusts' purchasing settings, read-only."""

from __future__ import annotations

import pytest

from purchasing.states import OrderState
from tests.organisations.factories import UserFactory
from tests.purchasing.factories import negotiated_price, order_in


@pytest.fixture
def staff(client, db):
    client.force_login(UserFactory(email="admin@marketplace.example", is_staff=True, is_superuser=True))


def test_orders_are_listed_searched_and_inspected_but_never_added_or_changed(client, staff, market):
    order = order_in(OrderState.SENT, trust=market.trust, supplier=market.suppliers[0])
    page = client.get("/cms/purchasing/orders/?q=" + order.number).content.decode()
    assert order.number in page
    inspect = client.get(f"/cms/purchasing/orders/inspect/{order.pk}/")
    assert inspect.status_code == 200 and market.site.address.splitlines()[0] in inspect.content.decode()
    assert client.get("/cms/purchasing/orders/new/").status_code in {302, 403}
    assert client.get(f"/cms/purchasing/orders/edit/{order.pk}/").status_code in {302, 403}


@pytest.mark.parametrize("prefix", ["settings", "delivery-sites", "cost-centres"])
def test_purchasing_settings_are_listed(client, staff, market, prefix):
    response = client.get(f"/cms/purchasing/{prefix}/")
    assert response.status_code == 200
    assert client.get(f"/cms/purchasing/{prefix}/new/").status_code in {302, 403}


def test_negotiated_prices_are_listed_searched_and_inspected_but_never_added_or_changed(
    client, staff, market
):
    price = negotiated_price(offer=market.offers[0], trusts=[market.trust], reference="NHSSC-DEMO-2026-014")
    assert "NHSSC-DEMO-2026-014" in client.get("/cms/purchasing/negotiated-prices/?q=NHSSC").content.decode()
    inspect = client.get(f"/cms/purchasing/negotiated-prices/inspect/{price.pk}/")
    assert inspect.status_code == 200 and market.trust.name in inspect.content.decode()
    assert client.get("/cms/purchasing/negotiated-prices/new/").status_code in {302, 403}
    assert client.get(f"/cms/purchasing/negotiated-prices/edit/{price.pk}/").status_code in {302, 403}
    assert client.get(f"/cms/purchasing/negotiated-prices/delete/{price.pk}/").status_code in {302, 403}
