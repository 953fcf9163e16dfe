"""Pricing pages say what is true: the chart's caption matches its marks, an empty dashboard or
unmatched list says there is nothing yet (once, and nothing contrary), and amounts carry thousands
separators."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from organisations.models import Role
from pricing import analytics
from tests.catalogue.factories import ProductFactory
from tests.organisations.factories import TrustFactory, member
from tests.pricing.helpers import line, row, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Three trusts buy stockings in bulk; a fourth trust has bought nothing."""
    trusts = [TrustFactory(ods_code=f"B{i}") for i in range(3)]
    stockings = ProductFactory(name="Anti-embolism stockings, thigh, M")
    for trust, price in zip(trusts, ["1250.00", "1300.00", "1999.99"], strict=True):
        line(trust, stockings, packs="1000", units_per_pack=1, pack_price=price)
    analytics.summaries_refresh(full=True)
    return {"buyers": trusts, "idle": TrustFactory(ods_code="IDL"), "stockings": stockings}


def page(client, user, url, **params) -> str:
    client.force_login(user)
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def test_the_caption_names_the_diamond_only_when_the_viewers_trust_is_drawn(client, world):
    url = reverse("pricing:product", args=[world["stockings"].pk])
    bought = page(client, member(Role.BUYER, world["buyers"][2]), url)
    assert "the labelled diamond is your trust" in bought
    assert "Your trust £1,999.9900" in bought  # the diamond's label in the chart
    idle = page(client, member(Role.BUYER, world["idle"]), url)
    assert "diamond" not in idle
    assert "Your trust £" not in idle  # no diamond drawn
    assert "bought none of this product in this period, so it is not marked" in idle


def test_a_dashboard_with_no_data_says_so_once_and_does_not_call_the_prices_near_the_best(client, world):
    text = page(client, member(Role.BUYER, world["idle"]), reverse("pricing:trust", args=["IDL"]))
    assert text.count("no figures to show yet") == 1
    assert "near the best" not in text
    assert "Top savings opportunities" not in text
    assert "Download the report" not in text


def test_a_dashboard_with_figures_but_nothing_to_save_says_its_prices_are_near_the_best(client, world):
    cheapest = world["buyers"][0]
    text = page(client, member(Role.BUYER, cheapest), reverse("pricing:trust", args=["B0"]))
    assert "your prices are at or near the best" in text
    assert "no figures to show yet" not in text


def test_an_empty_unmatched_list_says_there_is_nothing_yet(client, world):
    text = page(client, member(Role.BUYER, world["idle"]), reverse("pricing:unmatched", args=["IDL"]))
    assert "There is nothing to map yet" in text
    assert "Every line is matched" not in text
    assert "<table" not in text
    matched = page(client, member(Role.BUYER, world["buyers"][0]), reverse("pricing:unmatched", args=["B0"]))
    assert "is matched to a catalogue product: there is nothing to map" in matched


def test_an_unmatched_list_with_lines_lists_them(client, world):
    buyer = member(Role.BUYER, world["idle"])
    upload(buyer, [row(trust_ods="IDL", supplier_sku="NOWHERE-1")])
    text = page(client, buyer, reverse("pricing:unmatched", args=["IDL"]))
    assert "1 unmatched line" in text and "nothing to map" not in text


def test_amounts_and_prices_per_unit_have_thousands_separators(client, world):
    dear = member(Role.BUYER, world["buyers"][2])
    national = page(client, dear, reverse("pricing:national"))
    # Target £1,260.0000 a pair: 1,250 + 0.2 x (1,300 - 1,250).
    assert "£1,260.0000" in national and "£1,300.0000" in national
    product = page(client, dear, reverse("pricing:product", args=[world["stockings"].pk]))
    assert "£1,250.0000, £1,260.0000, £1,300.0000" in re.sub(r"<[^>]+>", "", product)
    assert not re.search(r"£\d{4}", product)
    dashboard = page(client, dear, reverse("pricing:trust", args=["B2"]))
    assert "£1,999.9900" in dashboard and "£739,990.00" in dashboard  # 1,000 x (1,999.99 - 1,260)
    assert not re.search(r"£\d{4}", dashboard)
