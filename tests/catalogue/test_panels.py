"""Apps above the catalogue add to a product's page through registered panels, never a template tag."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from catalogue import panels
from organisations.models import Role
from tests.catalogue.factories import OfferFactory, ProductFactory
from tests.organisations.factories import TrustFactory, member

pytestmark = pytest.mark.django_db

PRODUCT_PAGE = Path(__file__).resolve().parents[2] / "catalogue/templates/catalogue/product_detail.html"


@pytest.fixture
def a_panel_for_buyers_only():
    def context(request, product):
        if not request.user.memberships.filter(role=Role.BUYER).exists():
            return None
        return {"heading": f"Order {product.name} <now>"}

    panels.register_product_panel(panels.ProductPanel("test-order", "tests/order_panel.html", context))
    yield
    panels.unregister_product_panel("test-order")


@pytest.fixture
def panel_template(settings, tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "order_panel.html").write_text('<div class="order-panel">{{ heading }}</div>')
    engine = dict(settings.TEMPLATES[0])
    engine["DIRS"] = [*engine["DIRS"], tmp_path]
    settings.TEMPLATES = [engine]


def test_a_registered_panel_appears_for_those_it_has_something_for(
    client, panel_template, a_panel_for_buyers_only
):
    product = ProductFactory(name="Transit wheelchair", slug="transit")
    OfferFactory(product=product)
    url = reverse("catalogue:product-detail", kwargs={"slug": "transit"})

    client.force_login(member(Role.BUYER, TrustFactory()))
    page = client.get(url).content.decode()
    assert '<div class="order-panel">Order Transit wheelchair &lt;now&gt;</div>' in page

    client.force_login(member(Role.SUPPLIER_ADMIN))
    assert "order-panel" not in client.get(url).content.decode()


def test_pricing_adds_peer_prices_as_a_registered_panel_not_by_loading_its_tags():
    assert "peer-prices" in [panel.name for panel in panels._PANELS.values()]
    assert "pricing_tags" not in PRODUCT_PAGE.read_text() and "peer_prices" not in PRODUCT_PAGE.read_text()
