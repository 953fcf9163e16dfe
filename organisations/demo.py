"""Demo organisations and people for `make run` (called by `manage.py seed_demo`). Idempotent.

Trusts and integrated care boards are real NHS bodies with their real ODS codes and NHS England
regions. Suppliers are fictional: their names, Companies House and VAT numbers are demo values.
Patients have synthetic NHS numbers in the 999 range, which is never issued to a real person.
"""

from __future__ import annotations

import datetime as dt
from typing import TextIO

from django.utils import timezone
from django.utils.text import slugify

from organisations import services
from organisations.models import (
    CarerLink,
    Invitation,
    Membership,
    Organisation,
    OrganisationKind,
    PatientProfile,
    Region,
    Role,
    User,
)

# The one password every demo user signs in with. Demo data only: never load it in production.
DEMO_PASSWORD = "nhs-marketplace-demo"  # noqa: S105

R = Region
TRUSTS: list[tuple[str, str, str]] = [
    ("RR8", "Leeds Teaching Hospitals NHS Trust", R.NORTH_EAST_AND_YORKSHIRE),
    ("RJ1", "Guy's and St Thomas' NHS Foundation Trust", R.LONDON),
    ("RTH", "Oxford University Hospitals NHS Foundation Trust", R.SOUTH_EAST),
    ("R0A", "Manchester University NHS Foundation Trust", R.NORTH_WEST),
    ("RRK", "University Hospitals Birmingham NHS Foundation Trust", R.MIDLANDS),
    ("RGT", "Cambridge University Hospitals NHS Foundation Trust", R.EAST_OF_ENGLAND),
    ("RJZ", "King's College Hospital NHS Foundation Trust", R.LONDON),
    ("RRV", "University College London Hospitals NHS Foundation Trust", R.LONDON),
    ("RAL", "Royal Free London NHS Foundation Trust", R.LONDON),
    ("RYJ", "Imperial College Healthcare NHS Trust", R.LONDON),
    ("R1H", "Barts Health NHS Trust", R.LONDON),
    ("RJ7", "St George's University Hospitals NHS Foundation Trust", R.LONDON),
    ("RQM", "Chelsea and Westminster Hospital NHS Foundation Trust", R.LONDON),
    ("RHQ", "Sheffield Teaching Hospitals NHS Foundation Trust", R.NORTH_EAST_AND_YORKSHIRE),
    ("RTD", "The Newcastle upon Tyne Hospitals NHS Foundation Trust", R.NORTH_EAST_AND_YORKSHIRE),
    ("RTR", "South Tees Hospitals NHS Foundation Trust", R.NORTH_EAST_AND_YORKSHIRE),
    ("RCB", "York and Scarborough Teaching Hospitals NHS Foundation Trust", R.NORTH_EAST_AND_YORKSHIRE),
    ("RX1", "Nottingham University Hospitals NHS Trust", R.MIDLANDS),
    ("RWE", "University Hospitals of Leicester NHS Trust", R.MIDLANDS),
    ("RK9", "University Hospitals Plymouth NHS Trust", R.SOUTH_WEST),
    ("RH8", "Royal Devon University Healthcare NHS Foundation Trust", R.SOUTH_WEST),
    ("RHM", "University Hospital Southampton NHS Foundation Trust", R.SOUTH_EAST),
    ("RM1", "Norfolk and Norwich University Hospitals NHS Foundation Trust", R.EAST_OF_ENGLAND),
    ("REM", "Liverpool University Hospitals NHS Foundation Trust", R.NORTH_WEST),
    ("RBV", "The Christie NHS Foundation Trust", R.NORTH_WEST),
]

COMMISSIONERS: list[tuple[str, str, str]] = [
    ("QWO", "NHS West Yorkshire Integrated Care Board", R.NORTH_EAST_AND_YORKSHIRE),
    ("QKK", "NHS South East London Integrated Care Board", R.LONDON),
    ("QOP", "NHS Greater Manchester Integrated Care Board", R.NORTH_WEST),
]

# (name, Companies House number, VAT number, trusted): fictional companies, demo numbers.
SUPPLIERS: list[tuple[str, str, str, bool]] = [
    ("Pennine Medical Supplies", "90000001", "GB900000001", True),
    ("Albion Surgical", "90000002", "GB900000002", True),
    ("Thames Wound Care", "90000003", "GB900000003", False),
    ("Severn Mobility and Daily Living", "90000004", "GB900000004", False),
    ("Clearwater Continence Care", "90000005", "GB900000005", False),
    ("Meridian Compression Hosiery", "90000006", "GB900000006", False),
    ("Brightwell Infection Control", "90000007", "GB900000007", True),
    ("Northgate Diagnostics", "90000008", "GB900000008", False),
]

TWO_TRUSTS_EMAIL = "buyer@yorkshire.demo.example"
# (email, full name, role, organisation key: ODS code or supplier slug).
MEMBERS: list[tuple[str, str, str, str]] = [
    ("buyer@leeds.demo.example", "Beth Buyer", Role.BUYER, "RR8"),
    ("approver@leeds.demo.example", "Alan Approver", Role.APPROVER, "RR8"),
    ("trust.admin@leeds.demo.example", "Tara Admin", Role.TRUST_ADMIN, "RR8"),
    ("buyer@gstt.demo.example", "Sam Buyer", Role.BUYER, "RJ1"),
    # A buyer for two Yorkshire trusts (a shared procurement service): chooses which in the header.
    (TWO_TRUSTS_EMAIL, "Yusuf Yorke", Role.BUYER, "RR8"),
    (TWO_TRUSTS_EMAIL, "Yusuf Yorke", Role.BUYER, "RCB"),
    (
        "supplier.admin@pennine.demo.example",
        "Priya Supplier",
        Role.SUPPLIER_ADMIN,
        "pennine-medical-supplies",
    ),
    ("supplier.staff@pennine.demo.example", "Steve Staff", Role.SUPPLIER_STAFF, "pennine-medical-supplies"),
    ("budget.manager@wy-icb.demo.example", "Bina Budget", Role.BUDGET_MANAGER, "QWO"),
    ("care.coordinator@wy-icb.demo.example", "Chris Coordinator", Role.CARE_COORDINATOR, "QWO"),
]
CARE_COORDINATOR_EMAIL = "care.coordinator@wy-icb.demo.example"

# (email, full name, NHS number (synthetic, valid check digit), date of birth, ICB ODS code).
PATIENTS: list[tuple[str, str, str, dt.date, str]] = [
    ("patient1@demo.example", "Pat Patel", "9990000018", dt.date(1958, 3, 14), "QWO"),
    ("patient2@demo.example", "Jo Jones", "9990000026", dt.date(1971, 11, 2), "QWO"),
    ("patient3@demo.example", "Kim Khan", "9990000034", dt.date(1989, 6, 30), "QWO"),
]

# A carer who acts for a patient (Pat Patel's daughter), linked by the patient's care coordinator.
CARER = ("carer@demo.example", "Casey Patel", "patient1@demo.example")

STAFF_EMAIL = "admin@demo.example"

# Work waiting for the demo's admins: a supplier that registered itself (for the back office at
# /cms/supplier-registrations/) and an invitation the Leeds trust admin sent (on the trust's
# invitations page). Fictional company, demo numbers (the VAT number's check digits are valid).
PENDING_REGISTRATION = {
    "legal_name": "Dalesway Continence Supplies Ltd",
    "companies_house_number": "SC654321",
    "vat_number": "GB980780684",
    "contact_name": "Dana Dales",
    "contact_email": "dana@dalesway.demo.example",
    "categories": ["Continence care", "Skin care"],
}
OPEN_INVITATION = ("new.buyer@leeds.demo.example", Role.BUYER, "RR8", "trust.admin@leeds.demo.example")


def _user(email: str, full_name: str, **flags: bool) -> User:
    user, _ = User.objects.update_or_create(
        email=email, defaults={"full_name": full_name, "is_active": True, **flags}
    )
    # Set the password only when it is not the demo one already: a new hash would be a change.
    if not user.check_password(DEMO_PASSWORD):
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user


def _organisation(kind: str, key: dict, **fields: object) -> Organisation:
    organisation, _ = Organisation.objects.update_or_create(**key, defaults={"kind": kind, **fields})
    return organisation


def _seed_work_waiting(by_key: dict[str, Organisation]) -> None:
    """One pending supplier registration and one open invitation, made through the audited services
    and only when missing, so seeding twice changes nothing."""
    company = PENDING_REGISTRATION["companies_house_number"]
    if not Organisation.objects.filter(
        kind=OrganisationKind.SUPPLIER, companies_house_number=company
    ).exists():
        services.supplier_register(**PENDING_REGISTRATION)
    email, role, org_key, inviter_email = OPEN_INVITATION
    organisation = by_key[org_key]
    still_open = Invitation.objects.filter(
        organisation=organisation,
        email=email,
        role=role,
        accepted_at__isnull=True,
        expires_at__gt=timezone.now(),
    )
    if not still_open.exists() and not Membership.objects.filter(user__email=email).exists():
        services._invitation_issue(
            organisation=organisation,
            email=email,
            role=role,
            invited_by=User.objects.get(email=inviter_email),
            site_url="",
            send_email=False,
        )


def seed(stdout: TextIO) -> None:
    """Create or update the demo organisations and users, then print every sign-in."""
    by_key: dict[str, Organisation] = {}
    for ods_code, name, region in TRUSTS:
        by_key[ods_code] = _organisation(
            OrganisationKind.TRUST, {"ods_code": ods_code}, name=name, slug=slugify(name), region=region
        )
    for ods_code, name, region in COMMISSIONERS:
        by_key[ods_code] = _organisation(
            OrganisationKind.COMMISSIONER,
            {"ods_code": ods_code},
            name=name,
            slug=slugify(name),
            region=region,
        )
    for name, company_number, vat_number, trusted in SUPPLIERS:
        slug = slugify(name)
        by_key[slug] = _organisation(
            OrganisationKind.SUPPLIER,
            {"slug": slug},
            name=name,
            legal_name=f"{name} Ltd",
            companies_house_number=company_number,
            vat_number=vat_number,
            is_trusted_supplier=trusted,
        )

    sign_ins: list[tuple[str, str, str]] = []
    for email, full_name, role, org_key in MEMBERS:
        user = _user(email, full_name)
        organisation = by_key[org_key]
        if not Membership.objects.filter(user=user, organisation=organisation, role=role).exists():
            services.membership_create(user=user, organisation=organisation, role=role)
        sign_ins.append((email, Role(role).label, organisation.name))

    coordinator = User.objects.get(email=CARE_COORDINATOR_EMAIL)
    for email, full_name, nhs_number, born, icb in PATIENTS:
        user = _user(email, full_name)
        PatientProfile.objects.update_or_create(
            user=user,
            defaults={
                "nhs_number": nhs_number,
                "date_of_birth": born,
                "commissioner": by_key[icb],
                "care_coordinator": coordinator,
            },
        )
        sign_ins.append((email, "Patient", by_key[icb].name))

    carer_email, carer_name, patient_email = CARER
    carer = _user(carer_email, carer_name)
    patient = PatientProfile.objects.get(user__email=patient_email)
    if not CarerLink.objects.filter(patient=patient, carer=carer).exists():
        services.carer_link_create(patient=patient, carer=carer, actor=coordinator)
    sign_ins.append((carer_email, f"Carer for {patient.user.full_name}", patient.commissioner.name))

    _user(STAFF_EMAIL, "Demo Administrator", is_staff=True, is_superuser=True)
    sign_ins.append((STAFF_EMAIL, "Staff superuser", "back office at /cms/"))
    _seed_work_waiting(by_key)

    stdout.write(
        f"Organisations: {len(TRUSTS)} NHS trusts, {len(COMMISSIONERS)} integrated care boards, "
        f"{len(SUPPLIERS)} suppliers (fictional, demo Companies House numbers)."
    )
    stdout.write(
        "Waiting: 1 supplier registration to approve (back office), 1 open invitation (Leeds trust admin)."
    )
    stdout.write(f"Demo sign-ins (every password is {DEMO_PASSWORD}):")
    width = max(len(email) for email, _, _ in sign_ins)
    for email, role, organisation_name in sign_ins:
        stdout.write(f"  {email.ljust(width)}  {DEMO_PASSWORD}  {role} — {organisation_name}")
