"""The API says what it does: unknown choices are 400s naming the parameter (never the default's
figures), every error body carries `detail` and `code`, and every status is in the schema."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from organisations.models import Role
from pricing import analytics
from tests.catalogue.factories import ProductFactory
from tests.organisations.factories import TrustFactory, member
from tests.pricing.helpers import line

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyer_api():
    trust = TrustFactory(ods_code="RR8")
    line(trust, ProductFactory(), packs="10", pack_price="5.00")
    analytics.summaries_refresh(full=True)
    client = APIClient()
    client.force_authenticate(member(Role.BUYER, trust))
    return client


@pytest.mark.parametrize(
    ("path", "parameter", "value"),
    [
        ("/api/v1/pricing/savings/", "region", "AAA"),
        ("/api/v1/pricing/savings/", "period", "fy1899"),
        ("/api/v1/pricing/savings/", "category", "999999"),
        ("/api/v1/pricing/savings/", "category", "gloves"),
        ("/api/v1/pricing/trusts/RR8/savings/", "period", "fy1899"),
        ("/api/v1/pricing/trusts/RR8/savings/", "category", "999999"),
        ("/api/v1/products/", "stock", "AAA"),
        ("/api/v1/products/", "sort", "AAA"),
        ("/api/v1/products/", "category", "no-such-category"),
        ("/api/v1/products/", "patient_eligible", "perhaps"),
        ("/api/v1/search/", "sort", "AAA"),
        ("/api/v1/search/", "stock", "AAA"),
        ("/api/v1/search/", "patient_eligible", "perhaps"),
        ("/api/v1/offers/", "status", "AAA"),
    ],
)
def test_an_unknown_choice_is_a_400_naming_the_parameter(buyer_api, path, parameter, value):
    if path == "/api/v1/offers/":
        buyer_api.force_authenticate(member(Role.SUPPLIER_ADMIN))
    response = buyer_api.get(path, {parameter: value})

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert body["field"] == parameter
    assert body["detail"]


def test_a_variance_for_an_unknown_period_is_a_400(buyer_api):
    product = ProductFactory()
    response = buyer_api.get(f"/api/v1/pricing/products/{product.pk}/variance/", {"period": "fy1899"})
    assert response.status_code == 400
    assert response.json()["field"] == "period"


@pytest.mark.parametrize(
    ("make_request", "status", "code"),
    [
        (lambda api: APIClient().get("/api/v1/organisations/me/"), 401, "not_authenticated"),
        (lambda api: api.get("/api/v1/products/999999/"), 404, "not_found"),
        (lambda api: api.delete("/api/v1/organisations/me/"), 405, "method_not_allowed"),
        (lambda api: api.get("/api/v1/search/", {"page": "0"}), 400, "invalid"),
        (lambda api: api.get("/api/v1/products/", {"page": "0"}), 400, "invalid"),
        (lambda api: api.get("/api/v1/products/", {"page": "99"}), 400, "invalid"),
        (
            lambda api: api.post("/api/v1/auth/token/", {"email": "x@example.com", "password": "x"}),
            400,
            "invalid_login",
        ),
        (
            lambda api: api.post("/api/v1/offers/", "{", content_type="application/json"),
            403,
            "permission_denied",
        ),
    ],
)
def test_every_error_body_carries_detail_and_code(buyer_api, make_request, status, code):
    response = make_request(buyer_api)
    assert response.status_code == status
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]


def test_validation_errors_still_name_each_field(buyer_api):
    body = buyer_api.get("/api/v1/search/", {"page": "0", "page_size": "1000"}).json()
    assert body["field"] == "page"
    assert set(body["errors"]) == {"page", "page_size"}
    assert body["page"] == body["errors"]["page"]  # the field's messages stay at the top level too


def test_every_status_an_endpoint_answers_is_in_the_schema(client):
    schema = client.get(reverse("api-schema"), {"format": "json"}).json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            documented = set(operation["responses"])
            where = f"{method.upper()} {path}"
            if {} not in operation.get("security", [{}]):
                assert {"401", "403"} <= documented, where
            if operation.get("requestBody") or any(
                p["in"] == "query" for p in operation.get("parameters", [])
            ):
                assert "400" in documented, where
            if "{" in path:
                assert "404" in documented, where
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    content = response.get("content", {}).get("application/json", {})
                    assert content.get("schema"), f"{where} {status} has no error body"


@pytest.mark.parametrize("path", ["/api/v1/products/not-a-number/", "/api/v1/no-such-thing/"])
def test_an_address_under_the_api_that_matches_nothing_is_a_json_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"


def test_options_on_any_operation_answers_without_a_server_error():
    api = APIClient()
    api.force_authenticate(member(Role.SUPPLIER_ADMIN))
    response = api.options("/api/v1/offers/", {"status": "draft"})
    assert response.status_code == 200
    assert response.json()["name"] == "Offer List Api"
