"""The back office at /cms/: organisations, memberships and patients, with filters and search."""

from __future__ import annotations

import pytest

from common.models import AuditEvent
from organisations import services as org_services
from organisations.models import Membership, Region, Role, User
from tests.organisations.factories import (
    PatientProfileFactory,
    SupplierFactory,
    TrustFactory,
    UserFactory,
    member,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = UserFactory(email="admin@marketplace.example", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


def test_organisations_are_listed_filtered_by_kind_and_region_and_searched(client, staff):
    TrustFactory(
        name="Leeds Teaching Hospitals NHS Trust", ods_code="RR8", region=Region.NORTH_EAST_AND_YORKSHIRE
    )
    TrustFactory(name="Barts Health NHS Trust", ods_code="R1H", region=Region.LONDON)
    SupplierFactory(name="Pennine Medical Supplies")
    page = client.get("/cms/organisations/").content.decode()
    assert "Leeds Teaching" in page and "Barts Health" in page and "Pennine Medical" in page
    page = client.get("/cms/organisations/?kind=trust&region=london").content.decode()
    assert "Barts Health" in page and "Leeds Teaching" not in page and "Pennine Medical" not in page
    page = client.get("/cms/organisations/?q=RR8").content.decode()
    assert "Leeds Teaching" in page and "Barts Health" not in page


def test_memberships_and_patients_are_listed(client, staff):
    member(Role.BUYER, TrustFactory(), email="buyer@leeds.example", full_name="Beth Buyer")
    member(Role.BUYER, TrustFactory(), email="buyer@gstt.example", full_name="Sam Buyer")
    PatientProfileFactory(user=UserFactory(full_name="Pat Patel"))
    page = client.get("/cms/memberships/?q=leeds").content.decode()
    assert "Beth Buyer" in page and "Sam Buyer" not in page
    assert "Pat Patel" in client.get("/cms/patients/").content.decode()


def test_adding_a_membership_in_the_back_office_is_checked_and_audited(client, staff):
    trust, supplier, person = TrustFactory(), SupplierFactory(), UserFactory(email="new@leeds.example")
    refused = client.post(
        "/cms/memberships/new/", {"user": person.pk, "organisation": supplier.pk, "role": Role.BUYER}
    )
    assert refused.status_code == 200
    assert "has no Buyer role" in refused.content.decode()
    assert not Membership.objects.exists()

    added = client.post(
        "/cms/memberships/new/", {"user": person.pk, "organisation": trust.pk, "role": Role.BUYER}
    )
    assert added.status_code == 302
    membership = Membership.objects.get()
    event = AuditEvent.objects.get(kind=org_services.MEMBERSHIP_CHANGED)
    assert event.actor == staff and event.data["action"] == "created"

    client.post(
        f"/cms/memberships/edit/{membership.pk}/",
        {"user": person.pk, "organisation": trust.pk, "role": Role.APPROVER},
    )
    assert Membership.objects.get().role == Role.APPROVER
    client.post(f"/cms/memberships/delete/{membership.pk}/")
    assert not Membership.objects.exists()
    changes = AuditEvent.objects.filter(kind=org_services.MEMBERSHIP_CHANGED).order_by("id")
    actions = list(changes.values_list("data__action", flat=True))
    assert actions == ["created", "role_changed", "deleted"]


def test_people_without_staff_rights_cannot_open_the_back_office(client):
    client.force_login(member(Role.TRUST_ADMIN, TrustFactory()))
    response = client.get("/cms/organisations/")
    assert response.status_code == 302
    assert "/cms/login/" in response["Location"]


def test_staff_create_and_rename_a_user_with_one_full_name(client, staff):
    created = client.post(
        "/cms/users/new/",
        {
            "email": "new.person@leeds.example",
            "first_name": "Nia",
            "last_name": "Okafor Smith",
            "password1": "a-long-passphrase-1",
            "password2": "a-long-passphrase-1",
            "is_active": "on",
        },
    )
    assert created.status_code == 302
    person = User.objects.get(email="new.person@leeds.example")
    assert person.full_name == "Nia Okafor Smith"
    edit = client.get(f"/cms/users/edit/{person.pk}/")
    assert 'value="Okafor Smith"' in edit.content.decode()
    client.post(
        f"/cms/users/edit/{person.pk}/",
        {"email": "new.person@leeds.example", "first_name": "Nia", "last_name": "Okafor", "is_active": "on"},
    )
    person.refresh_from_db()
    assert person.full_name == "Nia Okafor"
