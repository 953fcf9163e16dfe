"""Every refusal lands in the audit log, whichever app refused it, and says how the user signed in."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from common import audit
from common.models import AuditEvent, ImportJob
from organisations import services as org_services
from organisations.models import Role
from tests.organisations.factories import SupplierFactory, TrustFactory, UserFactory, member

pytestmark = pytest.mark.django_db


def denials():
    return AuditEvent.objects.filter(kind=audit.ACCESS_DENIED)


def token_client(user) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return api


def test_a_buyer_opening_another_trusts_dashboard_is_recorded_as_a_session_denial(client):
    TrustFactory(ods_code="RJ1")
    buyer = member(Role.BUYER, TrustFactory(ods_code="RR8"), email="beth@leeds.example")
    client.force_login(buyer)

    assert client.get(reverse("pricing:trust", args=["RJ1"])).status_code == 404

    event = denials().get()
    assert event.actor == buyer
    assert event.subject == "GET /pricing/trusts/RJ1/"
    assert event.data == {"status": 404, "via": "session", "route": "pricing:trust"}


def test_a_system_reading_another_suppliers_upload_by_token_is_recorded_as_a_token_denial():
    theirs = ImportJob.objects.create(
        kind="catalogue", organisation_id=SupplierFactory().pk, original_name="theirs.csv"
    )
    robot = member(Role.SUPPLIER_ADMIN, SupplierFactory(), email="erp@medline.example")

    response = token_client(robot).get(f"/api/v1/catalogue/imports/{theirs.pk}/")

    assert response.status_code == 404
    event = denials().get()
    assert (event.actor, event.data["via"], event.data["status"]) == (robot, "token", 404)


def test_an_anonymous_api_call_is_recorded(client):
    assert APIClient().get("/api/v1/organisations/me/").status_code == 401
    event = denials().get()
    assert event.actor is None and event.data["via"] == "anonymous"


def test_someone_without_back_office_access_turned_away_from_the_cms_is_recorded(client):
    client.force_login(member(Role.BUYER, TrustFactory()))
    client.get("/cms/")
    event = denials().get()
    assert event.subject == "GET /cms/"


def test_a_refusal_the_view_records_itself_is_recorded_once(client):
    other = TrustFactory()
    client.force_login(member(Role.BUYER, TrustFactory()))
    assert client.get(reverse("organisations:organisation-detail", args=[other.pk])).status_code == 404
    assert denials().count() == 1
    assert denials().get().subject == f"organisation:{other.pk}"


def test_pages_that_are_simply_missing_for_anonymous_visitors_are_not_noise(client):
    client.get("/no/such/page/")
    assert not denials().exists()


def test_sign_ins_say_whether_they_opened_a_session_or_issued_a_token(client, password):
    UserFactory(email="beth@leeds.example")
    client.post(reverse("organisations:sign-in"), {"username": "beth@leeds.example", "password": password})
    APIClient().post(
        "/api/v1/auth/token/", {"email": "beth@leeds.example", "password": password}, format="json"
    )
    subjects = set(AuditEvent.objects.filter(kind=org_services.SIGNED_IN).values_list("subject", flat=True))
    assert subjects == {"session", "api-token"}
