"""The REST API: token sign-in for systems, the caller's organisations, and the OpenAPI schema and docs."""

from __future__ import annotations

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from common.models import AuditEvent
from organisations import services as org_services
from organisations.models import Role
from organisations.services import membership_create
from tests.organisations.factories import (
    CommissionerFactory,
    PatientProfileFactory,
    TrustFactory,
    UserFactory,
    member,
)

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
ME_URL = "/api/v1/organisations/me/"


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def test_a_system_gets_a_token_with_email_and_password(api, password):
    user = UserFactory(email="erp@leeds.example")
    response = api.post(TOKEN_URL, {"email": "ERP@leeds.example", "password": password}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    assert user.auth_token.key == token
    # The same token again, not a new one each time.
    again = api.post(TOKEN_URL, {"email": "erp@leeds.example", "password": password}, format="json")
    assert again.json()["token"] == token
    assert AuditEvent.objects.filter(kind=org_services.SIGNED_IN, actor=user).count() == 2


def test_the_email_may_also_be_sent_as_username(api, password):
    UserFactory(email="erp@leeds.example")
    response = api.post(TOKEN_URL, {"username": "erp@leeds.example", "password": password})
    assert response.status_code == 200
    assert response.json()["token"]


def test_wrong_details_get_one_message_and_no_token(api):
    UserFactory(email="erp@leeds.example")
    response = api.post(TOKEN_URL, {"email": "erp@leeds.example", "password": "guess"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["non_field_errors"] == ["Enter a correct email address and password."]
    assert body["detail"] == "Enter a correct email address and password."
    assert body["code"] == "invalid_login"
    assert "field" not in body  # never which part was wrong
    assert AuditEvent.objects.filter(kind=org_services.SIGN_IN_FAILED).count() == 1


def test_a_request_without_an_email_names_the_field(api):
    response = api.post(TOKEN_URL, {"password": "x"}, format="json")
    assert response.status_code == 400
    assert "email" in response.json()


def test_repeated_failures_lock_the_account_for_the_api_too(api, password):
    UserFactory(email="erp@leeds.example")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api.post(TOKEN_URL, {"email": "erp@leeds.example", "password": "guess"}, format="json")
    response = api.post(TOKEN_URL, {"email": "erp@leeds.example", "password": password}, format="json")
    assert response.status_code == 429
    assert response.json()["detail"].startswith("Too many failed sign-ins")
    assert AuditEvent.objects.filter(kind=org_services.LOCKED_OUT).exists()


def test_the_token_endpoint_is_throttled(api, settings):
    settings.AXES_ENABLED = False  # count requests, not lockouts
    rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["auth-token"]
    allowed = int(rate.split("/")[0])
    statuses = [
        api.post(TOKEN_URL, {"email": f"n{i}@x.example", "password": "x"}, format="json").status_code
        for i in range(allowed + 1)
    ]
    assert statuses[:allowed] == [400] * allowed
    assert statuses[-1] == 429


def test_a_forged_forwarded_header_does_not_reset_the_token_throttle(api, settings):
    """Without NUM_PROXIES, DRF would take each forged X-Forwarded-For as a new client."""
    settings.AXES_ENABLED = False
    rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["auth-token"]
    allowed = int(rate.split("/")[0])
    statuses = [
        api.post(
            TOKEN_URL,
            {"email": f"n{i}@x.example", "password": "x"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{i}",
        ).status_code
        for i in range(allowed + 1)
    ]
    assert statuses[-1] == 429


def test_a_token_opens_my_organisations(api, django_assert_max_num_queries):
    leeds = TrustFactory(name="Leeds Teaching Hospitals NHS Trust", ods_code="RR8")
    buyer = member(Role.BUYER, leeds, email="buyer@leeds.example")
    member(Role.BUYER, TrustFactory(name="Another trust"))  # someone else's: not shown
    membership_create(user=buyer, organisation=leeds, role=Role.APPROVER)
    closed = TrustFactory(name="Closed trust", is_active=False)
    membership_create(user=buyer, organisation=closed, role=Role.BUYER)
    api.credentials(HTTP_AUTHORIZATION=f"Token {_token(buyer)}")
    with django_assert_max_num_queries(5):
        response = api.get(ME_URL)
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == "buyer@leeds.example"
    assert [(m["organisation"]["ods_code"], m["role"]) for m in body["memberships"]] == [
        ("RR8", "approver"),
        ("RR8", "buyer"),
    ]
    assert body["memberships"][0]["organisation"]["kind"] == "trust"
    assert body["patient"] is None


def _token(user) -> str:
    from rest_framework.authtoken.models import Token

    return Token.objects.create(user=user).key


def test_a_patient_sees_their_commissioner(api):
    profile = PatientProfileFactory(commissioner=CommissionerFactory(ods_code="QWO"))
    api.force_authenticate(profile.user)
    body = api.get(ME_URL).json()
    assert body["memberships"] == []
    assert body["patient"]["commissioner"]["ods_code"] == "QWO"


def test_my_organisations_needs_credentials(api):
    assert api.get(ME_URL).status_code == 401


def test_the_schema_documents_the_public_api(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/auth/token/" in schema["paths"]
    assert "/api/v1/organisations/me/" in schema["paths"]
    assert not any(path.startswith("/cms/") for path in schema["paths"])


def test_the_docs_load_swagger_ui_from_our_own_static_files(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn.jsdelivr.net" not in page and "unpkg.com" not in page


def test_the_api_root_lists_the_entry_points(client):
    body = client.get("/api/v1/").json()
    assert body["token"].endswith(TOKEN_URL)
    assert body["my_organisations"].endswith(ME_URL)
