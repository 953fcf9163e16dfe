"""The pricing API: the same figures as the pages, decimals as strings, scoped to the caller's trusts."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from organisations.models import Role
from pricing import analytics
from tests.catalogue.factories import OfferFactory, ProductFactory
from tests.organisations.factories import TrustFactory, member
from tests.pricing.helpers import csv_bytes, line, row

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    cheap = TrustFactory(name="Cheap Hospitals NHS Trust", ods_code="CHP")
    dear = TrustFactory(name="Dear Hospitals NHS Trust", ods_code="DER")
    middling = TrustFactory(name="Middling Hospitals NHS Trust", ods_code="MID")
    stockings = ProductFactory(name="Anti-embolism stockings, thigh, M")
    line(cheap, stockings, packs="100", units_per_pack=10, pack_price="50.00")
    line(middling, stockings, packs="100", units_per_pack=10, pack_price="60.00")
    line(dear, stockings, packs="100", units_per_pack=10, pack_price="70.00")
    analytics.summaries_refresh(full=True)
    return {"cheap": cheap, "dear": dear, "stockings": stockings}


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_product_variance_lists_every_trusts_price_with_others_anonymised(world):
    client = api_as(member(Role.BUYER, world["dear"]))
    body = client.get(f"/api/v1/pricing/products/{world['stockings'].pk}/variance/").json()
    assert body["stats"]["ppu_p10"] == "5.2000"
    assert body["stats"]["ppu_median"] == "6.0000"
    assert body["stats"]["savings_target"] == "2600.00"  # 1,000 x (£7 - £5.20) + 1,000 x (£6 - £5.20)
    assert [(t["label"], t["ppu"], t["is_viewer"]) for t in body["trusts"]] == [
        ("Trust 1", "5.0000", False),
        ("Trust 2", "6.0000", False),
        ("Dear Hospitals NHS Trust", "7.0000", True),
    ]


def test_a_trusts_savings_are_only_for_people_who_act_for_it(world):
    client = api_as(member(Role.BUYER, world["dear"]))
    mine = client.get("/api/v1/pricing/trusts/DER/savings/")
    assert mine.status_code == 200
    assert mine.json()["totals"]["savings_target"] == "1800.00"
    assert mine.json()["opportunities"][0]["ppu"] == "7.0000"
    assert client.get("/api/v1/pricing/trusts/CHP/savings/").status_code == 404


def test_national_savings_give_totals_regions_and_products(world):
    body = api_as(member(Role.BUYER, world["cheap"])).get("/api/v1/pricing/savings/").json()
    assert body["totals"]["savings_target"] == "2600.00"
    assert body["totals"]["suppressed"] is False
    assert body["min_group_trusts"] == 3
    assert body["regions"][0]["label"] == "London"
    assert body["products"][0]["product_name"] == "Anti-embolism stockings, thigh, M"
    in_region = (
        api_as(member(Role.BUYER, world["cheap"])).get("/api/v1/pricing/savings/?region=london").json()
    )
    assert in_region["products"][0]["savings_target"] == "2600.00"
    assert in_region["region_suppressed"] is False


def test_a_region_of_fewer_than_three_trusts_is_suppressed_with_a_clear_indication(world):
    """A region of one would be that trust's own spend and savings."""
    from organisations.models import Region

    alone = TrustFactory(name="Only Hospitals NHS Trust", region=Region.SOUTH_WEST)
    line(alone, world["stockings"], packs="100", units_per_pack=10, pack_price="80.00")
    analytics.summaries_refresh(full=True)
    client = api_as(member(Role.BUYER, world["cheap"]))
    body = client.get("/api/v1/pricing/savings/").json()
    south_west = next(r for r in body["regions"] if r["region"] == "south_west")
    assert south_west == {
        "region": "south_west",
        "label": "South West",
        "suppressed": True,
        "trusts": None,
        "spend": None,
        "savings_target": None,
        "savings_median": None,
    }
    in_region = client.get("/api/v1/pricing/savings/?region=south_west").json()
    assert in_region["region_suppressed"] is True
    assert in_region["products"] == []
    assert "'8000.00'" not in str(in_region)  # the trust's own spend


def test_national_figures_of_fewer_than_three_trusts_are_suppressed(world, settings):
    settings.PRICING_MIN_GROUP_TRUSTS = 4
    body = api_as(member(Role.BUYER, world["cheap"])).get("/api/v1/pricing/savings/").json()
    assert body["totals"]["suppressed"] is True
    assert body["totals"]["savings_target"] is None
    assert body["products"] == []  # the stockings were bought by three trusts
    assert [r["suppressed"] for r in body["regions"]] == [True]


def test_a_supplier_gets_nothing_from_the_analytics_api(world):
    client = api_as(member(Role.SUPPLIER_ADMIN))
    assert client.get("/api/v1/pricing/savings/").status_code == 404
    assert client.get(f"/api/v1/pricing/products/{world['stockings'].pk}/variance/").status_code == 404


def test_an_upload_answers_202_with_a_status_url_that_reports_the_outcome(django_capture_on_commit_callbacks):
    trust = TrustFactory(ods_code="T0001")
    OfferFactory(supplier_sku="SKU-1")
    client = api_as(member(Role.BUYER, trust))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/pricing/imports/",
            {"file": SimpleUploadedFile("h.csv", csv_bytes([row(), row(line_number=2, pack_price="-1")]))},
            format="multipart",
        )
    assert response.status_code == 202
    status = client.get(response.json()["url"]).json()
    assert status["status"] == "rejected"
    assert status["errors"] == [{"row": 3, "column": "pack_price", "message": "must be 0 or more"}]
    other = api_as(member(Role.BUYER, TrustFactory()))
    assert other.get(response.json()["url"]).status_code == 404


def test_the_pricing_endpoints_are_in_the_openapi_schema(client):
    schema = client.get("/api/schema/").content.decode()
    for path in (
        "/api/v1/pricing/products/{product_id}/variance/",
        "/api/v1/pricing/trusts/{ods_code}/savings/",
        "/api/v1/pricing/savings/",
        "/api/v1/pricing/imports/",
        "/api/v1/pricing/imports/{job_id}/",
    ):
        assert path in schema
