"""`seed_demo`: real NHS bodies, fictional suppliers, a user per role; running it twice changes nothing."""

from __future__ import annotations

import io

import nhs_number
import pytest
from django.core.management import CommandError, call_command
from django.forms.models import model_to_dict

from common.models import AuditEvent
from organisations import demo, services
from organisations import services as org_services
from organisations.models import (
    Invitation,
    Membership,
    Organisation,
    OrganisationKind,
    PatientProfile,
    RegistrationStatus,
    Role,
    SupplierRegistration,
    User,
)

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = io.StringIO()
    # pytest-django runs with DEBUG off, as production does.
    call_command("seed_demo", "--even-without-debug", stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    """Every field of every demo row, keyed by id: any change would show."""
    return {
        model.__name__: {obj.pk: model_to_dict(obj) for obj in model.objects.all()}
        for model in (Organisation, User, Membership, PatientProfile, SupplierRegistration, Invitation)
    } | {
        "users_password": dict(User.objects.values_list("email", "password")),
        "created_at": list(Organisation.objects.order_by("pk").values_list("created_at", flat=True)),
        "audit_events": AuditEvent.objects.count(),
    }


def test_seed_demo_refuses_to_run_on_a_production_site(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="runs only with DEBUG on"):
        call_command("seed_demo", stdout=io.StringIO())
    assert not User.objects.exists()


def test_seeding_twice_changes_nothing():
    seed()
    first = snapshot()
    seed()
    assert snapshot() == first


def test_the_demo_has_real_nhs_bodies_and_fictional_suppliers():
    seed()
    trusts = Organisation.objects.filter(kind=OrganisationKind.TRUST)
    assert trusts.count() >= 20
    assert trusts.get(ods_code="RR8").name == "Leeds Teaching Hospitals NHS Trust"
    assert trusts.get(ods_code="RJ1").get_region_display() == "London"
    assert all(t.region for t in trusts)
    icbs = Organisation.objects.filter(kind=OrganisationKind.COMMISSIONER)
    assert set(icbs.values_list("ods_code", flat=True)) == {"QWO", "QKK", "QOP"}
    suppliers = Organisation.objects.filter(kind=OrganisationKind.SUPPLIER, is_active=True)
    assert suppliers.count() == 8
    assert all(len(s.companies_house_number) == 8 and s.vat_number.startswith("GB") for s in suppliers)


def test_patients_have_valid_synthetic_nhs_numbers_and_an_icb():
    seed()
    profiles = PatientProfile.objects.select_related("commissioner")
    assert profiles.count() == 3
    for profile in profiles:
        assert profile.nhs_number.startswith("999")
        assert nhs_number.is_valid(profile.nhs_number)
        assert profile.commissioner.kind == OrganisationKind.COMMISSIONER
        assert profile.care_coordinator.memberships.filter(role=Role.CARE_COORDINATOR).exists()


def test_every_role_has_a_demo_user_and_every_sign_in_is_printed():
    output = seed()
    assert set(Membership.objects.values_list("role", flat=True)) == set(Role.values)
    buying_trusts = Membership.objects.filter(role=Role.BUYER).values("organisation").distinct().count()
    assert buying_trusts == 3
    # One buyer acts for two trusts, and chooses between them in the header.
    two_trusts = Membership.objects.filter(user__email=demo.TWO_TRUSTS_EMAIL)
    assert sorted(two_trusts.values_list("organisation__ods_code", flat=True)) == ["RCB", "RR8"]
    assert User.objects.get(email=demo.STAFF_EMAIL).is_superuser
    for user in User.objects.all():
        assert user.check_password(demo.DEMO_PASSWORD)
        line = next(line for line in output.splitlines() if user.email in line)
        assert demo.DEMO_PASSWORD in line
    assert "Buyer — Leeds Teaching Hospitals NHS Trust" in output
    assert "Patient — NHS West Yorkshire Integrated Care Board" in output


def test_memberships_are_created_through_the_audited_service():
    seed()
    assert AuditEvent.objects.filter(kind=org_services.MEMBERSHIP_CHANGED).count() == len(demo.MEMBERS)


def test_the_demo_admins_find_work_waiting_a_registration_and_an_invitation(client):
    seed()
    registration = SupplierRegistration.objects.select_related("organisation").get()
    assert registration.status == RegistrationStatus.PENDING and not registration.organisation.is_active
    invitation = Invitation.objects.get()
    assert invitation.is_open and invitation.role == Role.BUYER
    assert invitation.organisation.ods_code == "RR8"
    assert AuditEvent.objects.filter(kind=services.SUPPLIER_REGISTERED).count() == 1
    assert AuditEvent.objects.filter(kind=services.INVITATION_SENT).count() == 1
    client.force_login(User.objects.get(email=demo.STAFF_EMAIL))
    assert "Dalesway Continence Supplies Ltd" in client.get("/cms/supplier-registrations/").content.decode()
    client.force_login(User.objects.get(email="trust.admin@leeds.demo.example"))
    page = client.get(f"/accounts/organisations/{invitation.organisation_id}/invitations/").content.decode()
    assert "new.buyer@leeds.demo.example" in page and "Open until" in page
