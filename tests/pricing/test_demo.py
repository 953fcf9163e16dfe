"""The demo seed: plausible history, the 40% stockings example, and idempotent when run again; with the
whole demo, the trusts that have users have full dashboards, the products are the catalogue's, and the
seed prints no warnings."""

from __future__ import annotations

import io
import logging
import re
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.test import TestCase

from catalogue.models import OfferStatus, Product
from organisations import demo as organisations_demo
from organisations.models import Membership, Organisation
from pricing import demo, reports, selectors
from pricing.models import ProductStats, PurchaseHistoryLine, TrustSavings

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_trusts():
    """The trusts are the organisations seed's, which `seed_demo` loads first."""
    organisations_demo.seed(io.StringIO())


def test_without_the_organisations_seed_it_says_what_to_run_and_writes_nothing():
    with pytest.raises(CommandError, match="seed_demo"):
        demo.seed(io.StringIO())
    assert not PurchaseHistoryLine.objects.exists()
    assert not Product.objects.exists()


@pytest.mark.usefixtures("demo_trusts")
def test_the_demo_seed_shows_one_trust_paying_about_40_percent_more_for_stockings():
    demo.seed(io.StringIO())
    lines = PurchaseHistoryLine.objects.count()
    demo.seed(io.StringIO())
    assert PurchaseHistoryLine.objects.count() == lines
    assert PurchaseHistoryLine.objects.filter(product__isnull=True).exists()
    period = selectors.default_period()
    stockings = ProductStats.objects.get(period=period, product__slug=demo.STOCKINGS_SLUG)
    variance = selectors.product_variance(product=stockings.product, period=period, viewer=None)
    cheapest, dearest = variance.points[0].ppu, variance.points[-1].ppu
    assert 1.3 < dearest / cheapest < 1.5


@pytest.mark.usefixtures("demo_trusts")
def test_without_the_catalogue_seed_its_products_sit_in_the_catalogues_categories():
    demo.seed(io.StringIO())
    paths = {p.name: p.category.path for p in Product.objects.select_related("category")}
    assert paths["IV cannula, 20 G, pink"] == "Clinical consumables > Vascular access > IV cannulas"
    assert paths["Examination gloves, nitrile, powder free, medium"].startswith(
        "Clinical consumables > Gloves"
    )
    assert paths["Silicone foam dressing, bordered, 10 cm x 10 cm"].startswith("Wound care > Dressings")


@pytest.mark.usefixtures("demo_trusts")
def test_the_products_an_earlier_seed_made_for_itself_give_way_to_the_catalogues():
    """Earlier seeds made their own products in Hosiery (a cannula among stockings); on an existing
    database their lines move to the catalogue's products and they are removed."""
    from catalogue.services import category_tree_ensure
    from tests.pricing.helpers import line

    hosiery = category_tree_ensure(paths=["Clinical consumables > Hosiery"])["Clinical consumables > Hosiery"]
    old = Product.objects.create(slug="iv-cannula-20g", name="IV cannula, 20 G, pink", category=hosiery)
    leeds = Organisation.objects.get(ods_code="RR8")
    line(leeds, old, packs="3", units_per_pack=50, pack_price="31.00", reference="DEMO-RR8-OLD")
    demo.seed(io.StringIO())
    assert not Product.objects.filter(slug="iv-cannula-20g").exists()
    moved = PurchaseHistoryLine.objects.get(order_reference="DEMO-RR8-OLD")
    assert (moved.product.slug, moved.pack_price) == ("iv-cannula-20-g-pink", 31)
    assert not PurchaseHistoryLine.objects.filter(product__isnull=True, order_reference="DEMO-RR8-OLD")
    [cannula] = Product.objects.filter(name="IV cannula, 20 G, pink")
    assert cannula.category.path == "Clinical consumables > Vascular access > IV cannulas"
    assert cannula.purchase_lines.exists()


@pytest.fixture
def whole_demo(settings, caplog):
    settings.DEBUG = True
    out = io.StringIO()
    with caplog.at_level(logging.INFO), TestCase.captureOnCommitCallbacks(execute=True):
        call_command("seed_demo", stdout=out, stderr=out)
    # Kept here: caplog.records holds only the test's own phase, and the seed ran while setting up.
    warnings = [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.WARNING]
    return out.getvalue(), warnings


def test_the_whole_demo_prints_no_warnings(whole_demo):
    output, warnings = whole_demo
    assert "Demo data is ready." in output
    assert warnings == []
    assert "drift" not in output.lower() and "warning" not in output.lower()


def test_the_demo_users_trusts_have_full_dashboards_and_peer_prices_on_the_catalogues_products(
    client, whole_demo
):
    from django.urls import reverse

    from organisations.models import User

    period = selectors.default_period()
    with_users = Organisation.objects.filter(memberships__isnull=False, kind="trust").distinct()
    assert {t.ods_code for t in with_users} == {"RR8", "RJ1", "RCB"}
    for trust in with_users:
        totals = TrustSavings.objects.get(trust=trust, period=period)
        assert totals.savings_target > 100
        opportunities = selectors.trust_opportunities(trust=trust, period=period)
        assert len(opportunities) >= 5
        assert reports.savings_report(trust=trust, period=period).opportunities
        for opportunity in opportunities[:5]:
            peer = selectors.peer_prices(product=opportunity.product, trust=trust, period=period)
            assert peer is not None and peer.own_ppu is not None and peer.saving_vs_target > 0

    # Pricing's products are the catalogue's, with live offers, in their own categories.
    for name, path, _, _ in demo.DEMO_PRODUCTS:
        product = Product.objects.select_related("category").get(name=name)
        assert product.category.path == path
        assert product.offers.filter(status=OfferStatus.LIVE).exists(), name
        assert ProductStats.objects.filter(period=period, product=product).exists(), name
    bought = Product.objects.filter(purchase_lines__isnull=False).distinct()
    assert not bought.filter(offers__isnull=True).exists()

    # The catalogue page of the demo's cannula shows Leeds's buyer what other trusts pay.
    client.force_login(User.objects.get(email="buyer@leeds.demo.example"))
    cannula = Product.objects.get(name="IV cannula, 20 G, pink")
    page = client.get(reverse("catalogue:product-detail", kwargs={"slug": cannula.slug})).content.decode()
    assert "What other trusts pay" in page
    assert "Leeds Teaching Hospitals NHS Trust" in page
    assert Membership.objects.filter(organisation__ods_code="RR8").exists()


def test_the_demo_buyer_for_two_trusts_finds_full_work_for_each_and_switches_between_them(client, whole_demo):
    from django.urls import reverse

    from organisations import demo as organisations_demo
    from organisations.models import User

    client.force_login(User.objects.get(email=organisations_demo.TWO_TRUSTS_EMAIL))
    start = client.get(reverse("start")).content.decode()
    stockings = reverse("catalogue:product-detail", kwargs={"slug": demo.STOCKINGS_SLUG})
    own_prices = {}
    for ods in ("RR8", "RCB"):
        trust = Organisation.objects.get(ods_code=ods)
        dashboard = reverse("pricing:trust", kwargs={"ods_code": ods})
        assert dashboard in start
        page = client.get(dashboard).content.decode()
        assert f"Savings opportunities for {trust.name}" in page.replace("&#x27;", "'")
        assert "Possible savings against the target" in page
        client.post(reverse("organisations:acting-switch"), {"organisation": trust.pk})
        product_page = client.get(stockings).content.decode().replace("&#x27;", "'")
        own = re.search(
            rf'{re.escape(trust.name)}</dt><dd[^>]*><span class="mp-price">£([0-9.]+)<', product_page
        )
        assert own, ods  # the peer-prices panel gives the acting trust's own price
        own_prices[ods] = Decimal(own.group(1))
    # Leeds pays about 40% over the cheapest trust, York about 10%: the panel follows the switch.
    assert own_prices["RR8"] > own_prices["RCB"] > 0


def test_the_in_process_broker_names_a_host_so_kombu_does_not_warn(caplog):
    """Without Redis, Celery runs eagerly on an in-memory broker; kombu warned "No hostname was supplied"."""
    from marketplace.celery import app

    with caplog.at_level(logging.WARNING), app.connection_for_write() as connection:
        connection.info()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
