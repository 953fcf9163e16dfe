"""Organisation scoping: nobody opens another organisation's pages; they get 404, never the page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from common import audit
from common.models import AuditEvent
from organisations import permissions
from organisations.models import Role
from tests.organisations.factories import SupplierFactory, TrustFactory, UserFactory, member

pytestmark = pytest.mark.django_db


def detail(organisation) -> str:
    return reverse("organisations:organisation-detail", kwargs={"pk": organisation.pk})


def members(organisation) -> str:
    return reverse("organisations:membership-list", kwargs={"pk": organisation.pk})


@pytest.fixture
def trust_a():
    return TrustFactory(name="Leeds Teaching Hospitals NHS Trust", ods_code="RR8")


@pytest.fixture
def trust_b():
    return TrustFactory(name="Guy's and St Thomas' NHS Foundation Trust", ods_code="RJ1")


def test_a_buyer_opens_their_own_trusts_page(client, trust_a):
    client.force_login(member(Role.BUYER, trust_a))
    response = client.get(detail(trust_a))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Leeds Teaching Hospitals NHS Trust" in page
    assert "Buyer" in page
    assert members(trust_a) not in page  # no link to a page they may not open


def test_a_buyer_of_trust_a_cannot_open_trust_bs_page(client, trust_a, trust_b):
    buyer = member(Role.BUYER, trust_a)
    client.force_login(buyer)
    response = client.get(detail(trust_b))
    assert response.status_code == 404
    assert "St Thomas" not in response.content.decode()
    denied = AuditEvent.objects.get(kind=audit.ACCESS_DENIED)
    assert denied.actor == buyer
    assert denied.subject == f"organisation:{trust_b.pk}"


def test_a_buyer_of_trust_a_cannot_open_trust_bs_members(client, trust_a, trust_b):
    client.force_login(member(Role.BUYER, trust_a))
    assert client.get(members(trust_b)).status_code == 404


def test_a_trust_admin_of_trust_a_cannot_open_trust_bs_members(client, trust_a, trust_b):
    client.force_login(member(Role.TRUST_ADMIN, trust_a))
    assert client.get(members(trust_b)).status_code == 404
    assert client.get(detail(trust_b)).status_code == 404


def test_a_buyer_cannot_see_their_own_trusts_members(client, trust_a):
    buyer = member(Role.BUYER, trust_a)
    client.force_login(buyer)
    assert client.get(members(trust_a)).status_code == 404
    assert AuditEvent.objects.filter(kind=audit.ACCESS_DENIED, subject=f"members:{trust_a.pk}").exists()


def test_a_trust_admin_sees_their_trusts_members(client, trust_a, trust_b):
    admin = member(Role.TRUST_ADMIN, trust_a, email="admin@leeds.example")
    member(Role.BUYER, trust_a, email="buyer@leeds.example")
    member(Role.BUYER, trust_b, email="buyer@gstt.example")
    client.force_login(admin)
    response = client.get(members(trust_a))
    assert response.status_code == 200
    page = response.content.decode()
    assert "buyer@leeds.example" in page and "admin@leeds.example" in page
    assert "buyer@gstt.example" not in page


def test_a_supplier_cannot_open_a_trusts_page(client, trust_a):
    client.force_login(member(Role.SUPPLIER_ADMIN, SupplierFactory()))
    assert client.get(detail(trust_a)).status_code == 404


def test_an_anonymous_visitor_is_sent_to_sign_in(client, trust_a):
    for url in (detail(trust_a), members(trust_a), reverse("start")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('organisations:sign-in')}?next={url}"


def test_a_deactivated_organisation_is_no_longer_acted_for(client, trust_a):
    buyer = member(Role.BUYER, trust_a)
    trust_a.is_active = False
    trust_a.save()
    assert not permissions.organisations_for(buyer).exists()
    client.force_login(buyer)
    assert client.get(detail(trust_a)).status_code == 404


def test_organisations_for_answers_by_role_and_kind(trust_a, trust_b):
    user = member(Role.APPROVER, trust_a)
    assert list(permissions.trusts_for(user)) == [trust_a]
    assert list(permissions.trusts_for(user, roles=[Role.BUYER])) == []
    assert list(permissions.suppliers_for(user)) == []
    assert permissions.can_act_for(user, trust_a)
    assert not permissions.can_act_for(user, trust_b)
    assert permissions.organisations_for(UserFactory(is_active=False)).count() == 0
