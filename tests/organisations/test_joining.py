"""Organisations join without a developer: a supplier registers itself, the back office approves it,
its contact becomes its admin by an emailed invitation, and admins invite their own people.
Invitations are single-use, expire and are audited at every step."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.utils import timezone

from common import audit
from common.errors import Conflict, DomainError, PermissionDenied
from common.models import AuditEvent
from organisations import services
from organisations.models import (
    Invitation,
    Membership,
    Organisation,
    RegistrationStatus,
    Role,
    SupplierRegistration,
    User,
)
from tests.organisations.factories import SupplierFactory, TrustFactory, UserFactory, member

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-new-password-77"
REGISTRATION = {
    "legal_name": "Wharfedale Wound Care Ltd",
    "companies_house_number": "sc 123456",
    "vat_number": "GB 980 7806 84",
    "contact_name": "Wendy Wharf",
    "contact_email": "Wendy@wharfedale.example",
    "categories": "Wound care\nDressings\n",
}


def events(kind: str):
    return AuditEvent.objects.filter(kind=kind)


def emailed_link(message) -> str:
    """The path of the invitation link in an email."""
    return re.search(r"https?://[^/\s]+(/accounts/invitations/\S+/)", message.body).group(1)


@pytest.fixture
def staff(client):
    return UserFactory(email="admin@marketplace.example", is_staff=True, is_superuser=True)


def register(client, **changes) -> object:
    return client.post("/accounts/suppliers/register/", {**REGISTRATION, **changes})


def test_a_supplier_registers_itself_and_waits_inactive_for_the_back_office(client):
    page = client.get("/accounts/suppliers/register/")
    assert page.status_code == 200 and "Companies House number" in page.content.decode()

    response = register(client)
    assert response.status_code == 302
    assert "Registration sent" in client.get(response["Location"]).content.decode()

    registration = SupplierRegistration.objects.select_related("organisation").get()
    supplier = registration.organisation
    assert supplier.is_supplier and not supplier.is_active
    assert (supplier.legal_name, supplier.companies_house_number, supplier.vat_number) == (
        "Wharfedale Wound Care Ltd",
        "SC123456",
        "GB980780684",
    )
    assert registration.status == RegistrationStatus.PENDING
    assert registration.contact_email == "wendy@wharfedale.example"
    assert registration.category_list == ["Wound care", "Dressings"]
    event = events(services.SUPPLIER_REGISTERED).get()
    assert event.organisation_id == supplier.pk and event.kind_label == "Supplier registered"
    # Nobody is invited before the back office approves.
    assert mail.outbox == [] and not Invitation.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("vat_number", "GB 123 4567 89", "check digits do not match"),
        ("vat_number", "123", "Enter a UK VAT number"),
        ("companies_house_number", "ABC", "Enter a Companies House number"),
        ("categories", "  \n ", "Enter at least one category"),
    ],
)
def test_a_registration_with_a_wrong_number_is_refused_on_the_page(client, field, value, message):
    response = register(client, **{field: value})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Organisation.objects.exists()


def test_a_company_registers_once(client):
    SupplierFactory(companies_house_number="SC123456")
    response = register(client)
    assert "already registered" in response.content.decode()
    assert not SupplierRegistration.objects.exists()


def test_the_back_office_lists_approves_and_the_contact_becomes_the_supplier_admin(client, staff):
    register(client)
    registration = SupplierRegistration.objects.get()
    client.force_login(staff)
    listing = client.get("/cms/supplier-registrations/?status=pending").content.decode()
    assert "Wharfedale Wound Care Ltd" in listing and "Awaiting approval" in listing

    response = client.post(
        f"/cms/supplier-registrations/edit/{registration.pk}/", {"status": "approved", "decision_note": ""}
    )
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.APPROVED and registration.decided_by == staff
    assert registration.organisation.is_active
    assert events(services.SUPPLIER_APPROVED).get().actor == staff

    # The contact is emailed a link, and sets a password to become the supplier's admin.
    (message,) = mail.outbox
    assert message.to == ["wendy@wharfedale.example"]
    assert "Supplier admin" in message.body
    client.logout()
    link = emailed_link(message)
    page = client.get(link).content.decode()
    assert "Join Wharfedale Wound Care Ltd" in page and "Full name" in page
    accepted = client.post(link, {"full_name": "Wendy Wharf", "password": NEW_PASSWORD})
    assert accepted.status_code == 302
    wendy = User.objects.get(email="wendy@wharfedale.example")
    assert wendy.check_password(NEW_PASSWORD) and wendy.full_name == "Wendy Wharf"
    assert Membership.objects.filter(user=wendy, organisation=registration.organisation).get().role == (
        Role.SUPPLIER_ADMIN
    )
    assert events(services.INVITATION_SENT).get().data == {
        "email": "wendy@wharfedale.example",
        "role": Role.SUPPLIER_ADMIN,
    }
    assert events(services.INVITATION_ACCEPTED).get().actor == wendy
    # Signed in straight away, on the organisation's page, from where she invites her staff.
    assert "Invite people" in client.get(accepted["Location"]).content.decode()


def test_the_back_office_rejects_with_a_reason_and_the_supplier_stays_inactive(client, staff):
    register(client)
    registration = SupplierRegistration.objects.get()
    client.force_login(staff)
    url = f"/cms/supplier-registrations/edit/{registration.pk}/"
    without_reason = client.post(url, {"status": "rejected", "decision_note": ""})
    assert without_reason.status_code == 200 and "Say why" in without_reason.content.decode()
    client.post(url, {"status": "rejected", "decision_note": "The VAT number belongs to another company."})
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.REJECTED
    assert not registration.organisation.is_active
    (message,) = mail.outbox
    assert "belongs to another company" in message.body and message.to == ["wendy@wharfedale.example"]
    assert events(services.SUPPLIER_REJECTED).count() == 1
    # Decided is decided.
    again = client.post(url, {"status": "approved", "decision_note": ""})
    assert "rejected already" in again.content.decode()
    assert not Invitation.objects.exists()


def test_only_the_back_office_decides(client):
    register(client)
    with pytest.raises(PermissionDenied):
        services.supplier_registration_approve(
            registration=SupplierRegistration.objects.get(), actor=UserFactory(), site_url="http://testserver"
        )


def test_a_supplier_admin_invites_staff_who_sign_up_from_the_email(client):
    supplier = SupplierFactory(name="Pennine Medical Supplies")
    admin = member(Role.SUPPLIER_ADMIN, supplier, email="priya@pennine.example")
    client.force_login(admin)
    url = f"/accounts/organisations/{supplier.pk}/invitations/"
    page = client.get(url).content.decode()
    assert "Supplier staff" in page and "Supplier admin</option>" not in page
    response = client.post(url, {"email": "Steve@Pennine.example", "role": Role.SUPPLIER_STAFF})
    assert response.status_code == 302
    assert "steve@pennine.example" in client.get(url).content.decode()
    (message,) = mail.outbox
    assert message.to == ["steve@pennine.example"] and "Pennine Medical Supplies" in message.subject
    event = events(services.INVITATION_SENT).get()
    assert event.actor == admin and event.organisation_id == supplier.pk

    client.logout()
    link = emailed_link(message)
    weak = client.post(link, {"full_name": "Steve Staff", "password": "password"})
    assert weak.status_code == 200 and "too common" in weak.content.decode()
    client.post(link, {"full_name": "Steve Staff", "password": NEW_PASSWORD})
    steve = User.objects.get(email="steve@pennine.example")
    assert Membership.objects.get(user=steve).role == Role.SUPPLIER_STAFF
    # The change of membership is audited as ever, as done by the admin who invited.
    assert events(services.MEMBERSHIP_CHANGED).get().actor == admin


def test_a_trust_admin_invites_buyers_and_approvers_but_nobody_else(client):
    trust = TrustFactory(name="Leeds Teaching Hospitals NHS Trust")
    admin = member(Role.TRUST_ADMIN, trust)
    client.force_login(admin)
    url = f"/accounts/organisations/{trust.pk}/invitations/"
    for role in (Role.BUYER, Role.APPROVER):
        assert client.post(url, {"email": f"{role}@leeds.example", "role": role}).status_code == 302
    refused = client.post(url, {"email": "boss@leeds.example", "role": Role.TRUST_ADMIN})
    assert refused.status_code == 200
    assert set(Invitation.objects.values_list("role", flat=True)) == {Role.BUYER, Role.APPROVER}
    with pytest.raises(PermissionDenied):
        services.invitation_send(
            organisation=trust,
            email="boss@leeds.example",
            role=Role.TRUST_ADMIN,
            invited_by=admin,
            site_url="http://testserver",
        )
    # Inviting the same person to the same role twice while the first is open is a conflict.
    again = client.post(url, {"email": "buyer@leeds.example", "role": Role.BUYER})
    assert "has an invitation to that role already" in again.content.decode()


def test_people_who_are_not_its_admin_cannot_invite_to_an_organisation(client):
    trust = TrustFactory()
    buyer = member(Role.BUYER, trust)
    other_admin = member(Role.TRUST_ADMIN, TrustFactory())
    for user in (buyer, other_admin):
        client.force_login(user)
        assert client.get(f"/accounts/organisations/{trust.pk}/invitations/").status_code == 404
        assert (
            client.post(
                f"/accounts/organisations/{trust.pk}/invitations/",
                {"email": "x@e.example", "role": Role.BUYER},
            ).status_code
            == 404
        )
    assert not Invitation.objects.exists()
    assert events(audit.ACCESS_DENIED).count() >= 2


def _invite(client, trust=None, email="bea@leeds.example") -> tuple[str, Invitation]:
    trust = trust or TrustFactory()
    admin = member(Role.TRUST_ADMIN, trust)
    invitation = services.invitation_send(
        organisation=trust, email=email, role=Role.BUYER, invited_by=admin, site_url="http://testserver"
    )
    return emailed_link(mail.outbox[-1]), invitation


def test_an_invitation_works_once_and_reuse_is_refused_and_audited(client):
    link, invitation = _invite(client)
    client.post(link, {"full_name": "Bea Buyer", "password": NEW_PASSWORD})
    client.logout()
    page = client.post(link, {"full_name": "Someone Else", "password": NEW_PASSWORD})
    assert "used already" in page.content.decode()
    assert Membership.objects.filter(organisation=invitation.organisation).count() == 2  # admin + Bea
    refused = events(services.INVITATION_REUSED).get()
    assert refused.subject == f"invitation:{invitation.pk}"
    token = link.rstrip("/").rsplit("/", 1)[1]
    with pytest.raises(Conflict):
        services.invitation_accept(token=token, full_name="Again", password=NEW_PASSWORD)
    assert events(services.INVITATION_REUSED).count() == 2


def test_an_invitation_expires_after_the_configured_days_and_is_refused_and_audited(client, settings):
    settings.INVITATION_EXPIRY_DAYS = 2
    link, invitation = _invite(client)
    assert invitation.expires_at - invitation.created_at == pytest.approx(
        dt.timedelta(days=2), abs=dt.timedelta(seconds=5)
    )
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert "has expired" in client.get(link).content.decode()
    response = client.post(link, {"full_name": "Late Larry", "password": NEW_PASSWORD})
    assert "has expired" in response.content.decode()
    assert not User.objects.filter(email="bea@leeds.example").exists()
    assert events(services.INVITATION_EXPIRED).get().organisation_id == invitation.organisation_id


def test_the_default_expiry_is_seven_days():
    assert services.invitation_expiry() == dt.timedelta(days=7)


def test_someone_with_an_account_signs_in_to_accept_and_only_as_the_invited_person(client):
    bea = UserFactory(email="bea@leeds.example")
    link, invitation = _invite(client)
    page = client.get(link).content.decode()
    assert "Sign in as bea@leeds.example" in page and "Full name" not in page
    # Posting without signing in creates no second account.
    assert "Sign in as" in client.post(link, {}).content.decode()
    assert not Membership.objects.filter(user=bea).exists()

    client.force_login(UserFactory(email="someone.else@leeds.example"))
    assert "This invitation is for bea@leeds.example" in client.get(link).content.decode()
    assert client.post(link).status_code == 400
    assert not Membership.objects.filter(user__email="someone.else@leeds.example").exists()

    client.force_login(bea)
    assert client.post(link).status_code == 302
    assert Membership.objects.get(user=bea).organisation == invitation.organisation
    invitation.refresh_from_db()
    assert invitation.accepted_by == bea


def test_a_made_up_link_leads_nowhere(client):
    assert client.get("/accounts/invitations/not-a-real-token/").status_code == 404
    with pytest.raises(DomainError):
        services.invitation_accept(token="not-a-real-token", full_name="X", password=NEW_PASSWORD)


def test_only_a_hash_of_the_token_is_stored(client):
    link, invitation = _invite(client)
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert token not in invitation.token_hash and len(invitation.token_hash) == 64
    assert services.invitation_for_token(token) == invitation


def test_the_back_office_sees_invitations_but_cannot_forge_them(client, staff):
    _invite(client)
    client.force_login(staff)
    assert "bea@leeds.example" in client.get("/cms/invitations/").content.decode()
    client.post("/cms/invitations/new/", {"email": "forged@example.org"})
    assert Invitation.objects.count() == 1
