"""Bad numbers are 400s: every whole number and decimal the API, the forms and the files accept
fits the column it is stored in, so an oversized value is the user's error, never the database's."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from catalogue.models import Offer, VolumeTier
from catalogue.portal.forms import OfferForm
from common import bounds
from organisations.models import Role
from pricing.imports import check_line
from tests.catalogue.test_api import STOCKINGS, offer_payload
from tests.organisations.factories import SupplierFactory, TrustFactory, member

pytestmark = pytest.mark.django_db

TOO_BIG = 2**40


def test_the_bounds_come_from_the_model_fields():
    assert bounds.integer(VolumeTier, "min_packs", min_value=2) == {"min_value": 2, "max_value": 2147483647}
    assert bounds.integer(Offer, "lead_time_days") == {"min_value": 0, "max_value": 2147483647}
    assert bounds.decimal(Offer, "pack_price") == {
        "max_digits": 14,
        "decimal_places": 2,
        "max_value": Decimal("999999999999.99"),
    }
    with pytest.raises(TypeError):
        bounds.integer(Offer, "pack_price")


@pytest.fixture
def supplier_api():
    api = APIClient()
    api.force_authenticate(member(Role.SUPPLIER_ADMIN, SupplierFactory(is_trusted_supplier=True)))
    return api


def test_a_volume_tier_of_two_to_the_forty_packs_is_a_400_naming_the_field(supplier_api):
    payload = offer_payload(tiers=[{"min_packs": TOO_BIG, "pack_price": "13.50"}])

    response = supplier_api.post(reverse("api-offer-list"), payload, format="json")

    assert response.status_code == 400
    assert "tiers" in response.json()
    assert not VolumeTier.objects.exists()


@pytest.mark.parametrize("field", ["units_per_pack", "lead_time_days", "min_order_packs"])
def test_whole_numbers_beyond_the_column_are_400s(supplier_api, field):
    response = supplier_api.post(reverse("api-offer-list"), offer_payload(**{field: TOO_BIG}), format="json")

    assert response.status_code == 400
    assert field in response.json()


def test_a_pack_price_beyond_the_column_is_a_400(supplier_api):
    response = supplier_api.post(
        reverse("api-offer-list"), offer_payload(pack_price="1" + "0" * 14), format="json"
    )
    assert response.status_code == 400
    assert "pack_price" in response.json()


def test_the_offer_form_refuses_a_tier_beyond_the_column():
    form = OfferForm(
        data={
            "supplier_sku": "AES-1",
            "name": "Anti-embolism stocking, thigh length",
            "category_path": STOCKINGS,
            "unit_of_measure": "pair",
            "units_per_pack": "1",
            "pack_price": "14.40",
            "vat_rate": "20",
            "tiers": f"{TOO_BIG}:13.50",
            "lead_time_days": str(TOO_BIG),
            "min_order_packs": "1",
            "stock_status": "in_stock",
        },
    )
    assert not form.is_valid()
    assert "tiers" in form.errors
    assert "lead_time_days" in form.errors


def test_the_offer_form_says_the_bounds_in_its_inputs():
    form = OfferForm()
    assert form.fields["units_per_pack"].max_value == 2147483647
    assert form.fields["lead_time_days"].max_value == 2147483647


def test_a_purchase_history_line_number_beyond_the_column_is_a_row_problem():
    row = {
        "trust_ods": "RR8",
        "order_reference": "PO-1",
        "line_number": str(TOO_BIG),
        "order_date": "2025-01-01",
        "supplier_sku": "X",
        "quantity_packs": "1",
        "units_per_pack": "1",
        "pack_price": "1.00",
    }
    values, problems = check_line(row, trust=TrustFactory(ods_code="RR8"), today=dt.date(2026, 1, 1))
    assert "line_number" in [field for field, _ in problems]
    assert "line_number" not in values


def test_product_filters_refuse_prices_beyond_any_column():
    api = APIClient()
    api.force_authenticate(member(Role.BUYER))
    response = api.get(reverse("api-product-list"), {"unit_price_max": "1e400"})
    assert response.status_code == 400
    assert response.json()["field"] == "unit_price_max"


@pytest.mark.parametrize("supplier", [str(10**32), "-98489978894999537973557276442624", "x"])
def test_a_supplier_id_no_column_can_hold_is_a_400_not_a_database_error(supplier):
    api = APIClient()
    api.force_authenticate(member(Role.BUYER))
    response = api.get(reverse("api-product-list"), {"supplier": supplier})
    assert response.status_code == 400
    assert response.json()["field"] == "supplier"


def test_an_analytics_category_id_no_column_can_hold_is_a_400():
    api = APIClient()
    api.force_authenticate(member(Role.BUYER))
    response = api.get("/api/v1/pricing/savings/", {"category": str(10**32)})
    assert response.status_code == 400
    assert response.json()["field"] == "category"
