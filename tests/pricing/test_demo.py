"""The demo seed: plausible history, the 40% stockings example, and idempotent when run again."""

from __future__ import annotations

import io

import pytest

from pricing import demo, selectors
from pricing.models import ProductStats, PurchaseHistoryLine

pytestmark = pytest.mark.django_db


def test_the_demo_seed_shows_one_trust_paying_about_40_percent_more_for_stockings():
    demo.seed(io.StringIO())
    lines = PurchaseHistoryLine.objects.count()
    demo.seed(io.StringIO())
    assert PurchaseHistoryLine.objects.count() == lines
    assert PurchaseHistoryLine.objects.filter(product__isnull=True).exists()
    period = selectors.default_period()
    stockings = ProductStats.objects.get(period=period, product__slug="anti-embolism-stockings-thigh-m")
    variance = selectors.product_variance(product=stockings.product, period=period, viewer=None)
    cheapest, dearest = variance.points[0].ppu, variance.points[-1].ppu
    assert 1.3 < dearest / cheapest < 1.5
