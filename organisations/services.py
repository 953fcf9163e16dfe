"""Commands that change organisations and memberships. Each runs in one transaction and is audited."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from common import audit
from common.errors import Conflict, DomainError, NotFound, PermissionDenied
from organisations.models import (
    ROLES_BY_KIND,
    CarerLink,
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
from organisations.permissions import patients_for, roles_for
from organisations.validators import normalise_companies_house_number, normalise_uk_vat_number

# The kinds of audit event organisations records; each replaces a kind stored before the registry.
SIGNED_IN = audit.register_kind("organisations.signed_in", "Signed in", formerly="sign_in")
SIGN_IN_FAILED = audit.register_kind(
    "organisations.sign_in_failed", "Failed sign-in", formerly="sign_in_failed"
)
SIGNED_OUT = audit.register_kind("organisations.signed_out", "Signed out", formerly="sign_out")
LOCKED_OUT = audit.register_kind("organisations.locked_out", "Locked out", formerly="locked_out")
PASSWORD_RESET = audit.register_kind(
    "organisations.password_reset",
    "Password reset",
    formerly="password_reset",
)
MEMBERSHIP_CHANGED = audit.register_kind(
    "organisations.membership_changed", "Membership changed", formerly="membership_changed"
)


def _check_role_fits(*, organisation: Organisation, role: str) -> None:
    if role not in Role.values:
        raise DomainError(f"{role!r} is not a role.", field="role")
    if role not in ROLES_BY_KIND[organisation.kind]:
        raise DomainError(
            f"A {organisation.get_kind_display()} has no {Role(role).label} role.", field="role"
        )


@transaction.atomic
def membership_create(
    *, user: User, organisation: Organisation, role: str, actor: User | None = None
) -> Membership:
    """Let `user` act for `organisation` in `role`; the role must fit the kind of organisation."""
    _check_role_fits(organisation=organisation, role=role)
    if Membership.objects.filter(user=user, organisation=organisation, role=role).exists():
        raise Conflict(f"{user.email} is already {Role(role).label} at {organisation.name}.", field="role")
    membership = Membership.objects.create(user=user, organisation=organisation, role=role)
    audit.record(
        kind=MEMBERSHIP_CHANGED,
        actor=actor,
        organisation_id=organisation.pk,
        subject=f"membership:{membership.pk}",
        data={"action": "created", "user": user.email, "role": role},
    )
    return membership


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str, actor: User | None = None) -> Membership:
    """Give an existing membership another role that fits its organisation."""
    _check_role_fits(organisation=membership.organisation, role=role)
    previous = membership.role
    if previous == role:
        return membership
    duplicate = Membership.objects.filter(
        user_id=membership.user_id, organisation_id=membership.organisation_id, role=role
    ).exists()
    if duplicate:
        raise Conflict(f"{membership.user.email} already has that role here.", field="role")
    membership.role = role
    membership.save(update_fields=["role"])
    audit.record(
        kind=MEMBERSHIP_CHANGED,
        actor=actor,
        organisation_id=membership.organisation_id,
        subject=f"membership:{membership.pk}",
        data={"action": "role_changed", "user": membership.user.email, "from": previous, "to": role},
    )
    return membership


@transaction.atomic
def membership_delete(*, membership: Membership, actor: User | None = None) -> None:
    """Stop a user acting for an organisation in one role."""
    audit.record(
        kind=MEMBERSHIP_CHANGED,
        actor=actor,
        organisation_id=membership.organisation_id,
        subject=f"membership:{membership.pk}",
        data={"action": "deleted", "user": membership.user.email, "role": membership.role},
    )
    membership.delete()


# --- Organisations joining without a developer: supplier registration and invitations -------------

SUPPLIER_REGISTERED = audit.register_kind("organisations.supplier_registered", "Supplier registered")
SUPPLIER_APPROVED = audit.register_kind("organisations.supplier_approved", "Supplier approved")
SUPPLIER_REJECTED = audit.register_kind("organisations.supplier_rejected", "Supplier rejected")
INVITATION_SENT = audit.register_kind("organisations.invitation_sent", "Invitation sent")
INVITATION_ACCEPTED = audit.register_kind("organisations.invitation_accepted", "Invitation accepted")
INVITATION_EXPIRED = audit.register_kind("organisations.invitation_expired", "Expired invitation refused")
INVITATION_REUSED = audit.register_kind("organisations.invitation_reuse_refused", "Used invitation refused")
SUPPLIER_DEACTIVATED = audit.register_kind("organisations.supplier_deactivated", "Supplier deactivated")
SUPPLIER_REACTIVATED = audit.register_kind("organisations.supplier_reactivated", "Supplier reactivated")

# Who may invite whom: a supplier admin its staff, a trust admin its buyers and approvers.
INVITABLE_ROLES: dict[str, tuple[str, ...]] = {
    Role.SUPPLIER_ADMIN: (Role.SUPPLIER_STAFF,),
    Role.TRUST_ADMIN: (Role.BUYER, Role.APPROVER),
}


def invitation_expiry() -> dt.timedelta:
    """How long an invitation link works: settings.INVITATION_EXPIRY_DAYS, 7 days unless set."""
    return dt.timedelta(days=settings.INVITATION_EXPIRY_DAYS)


def invitable_roles(*, user: User, organisation: Organisation) -> list[str]:
    """The roles `user` may invite people to at `organisation` (none unless they are its admin)."""
    held = roles_for(user, organisation)
    return [role for admin, roles in INVITABLE_ROLES.items() if admin in held for role in roles]


def _field_error(error: ValidationError, field: str) -> DomainError:
    return DomainError(" ".join(error.messages), field=field)


def _unique_slug(name: str) -> str:
    base = slugify(name)[:180] or "supplier"
    slug, n = base, 1
    while Organisation.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def supplier_register(
    *,
    legal_name: str,
    companies_house_number: str,
    vat_number: str,
    contact_name: str,
    contact_email: str,
    categories: list[str],
    request: HttpRequest | None = None,
) -> SupplierRegistration:
    """A supplier registers itself: an inactive supplier organisation awaiting the back office."""
    legal_name = legal_name.strip()
    if not legal_name:
        raise DomainError("Enter the company's legal name.", field="legal_name")
    try:
        company = normalise_companies_house_number(companies_house_number)
    except ValidationError as error:
        raise _field_error(error, "companies_house_number") from None
    try:
        vat = normalise_uk_vat_number(vat_number)
    except ValidationError as error:
        raise _field_error(error, "vat_number") from None
    categories = [c.strip() for c in categories if c.strip()]
    if not categories:
        raise DomainError("Enter at least one category of products you sell.", field="categories")
    if not contact_name.strip():
        raise DomainError("Enter the name of the person we should contact.", field="contact_name")
    if Organisation.objects.filter(kind=OrganisationKind.SUPPLIER, companies_house_number=company).exists():
        raise Conflict(
            "A supplier with this Companies House number is already registered.",
            field="companies_house_number",
        )
    organisation = Organisation.objects.create(
        kind=OrganisationKind.SUPPLIER,
        name=legal_name,
        legal_name=legal_name,
        slug=_unique_slug(legal_name),
        companies_house_number=company,
        vat_number=vat,
        is_active=False,
    )
    registration = SupplierRegistration.objects.create(
        organisation=organisation,
        contact_name=contact_name.strip(),
        contact_email=contact_email.strip().lower(),
        categories="\n".join(categories),
    )
    audit.record(
        kind=SUPPLIER_REGISTERED,
        actor_identifier=registration.contact_email,
        organisation_id=organisation.pk,
        subject=f"supplier_registration:{registration.pk}",
        request=request,
        data={"companies_house_number": company, "vat_number": vat},
    )
    return registration


def _decide(*, registration: SupplierRegistration, actor: User, status: str, note: str) -> None:
    if not actor.is_staff:
        raise PermissionDenied("Only the back office decides on supplier registrations.")
    if registration.status != RegistrationStatus.PENDING:
        raise Conflict(
            f"This registration was {registration.get_status_display().lower()} already.", field="status"
        )
    registration.status = status
    registration.decided_at = timezone.now()
    registration.decided_by = actor
    registration.decision_note = note
    registration.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])


@transaction.atomic
def supplier_registration_approve(
    *, registration: SupplierRegistration, actor: User, site_url: str, note: str = ""
) -> Invitation:
    """The back office approves a registered supplier: it becomes active and its contact is invited,
    by email, to be its supplier admin. Returns that invitation."""
    registration = SupplierRegistration.objects.select_for_update().get(pk=registration.pk)
    _decide(registration=registration, actor=actor, status=RegistrationStatus.APPROVED, note=note)
    organisation = registration.organisation
    organisation.is_active = True
    organisation.save(update_fields=["is_active"])
    audit.record(
        kind=SUPPLIER_APPROVED,
        actor=actor,
        organisation_id=organisation.pk,
        subject=f"supplier_registration:{registration.pk}",
    )
    return _invitation_issue(
        organisation=organisation,
        email=registration.contact_email,
        role=Role.SUPPLIER_ADMIN,
        invited_by=actor,
        site_url=site_url,
    )


@transaction.atomic
def supplier_registration_reject(*, registration: SupplierRegistration, actor: User, note: str) -> None:
    """The back office turns a registration down; the supplier stays inactive and is told why."""
    if not note.strip():
        raise DomainError("Say why, so the supplier knows what to do.", field="decision_note")
    registration = SupplierRegistration.objects.select_for_update().get(pk=registration.pk)
    _decide(registration=registration, actor=actor, status=RegistrationStatus.REJECTED, note=note.strip())
    audit.record(
        kind=SUPPLIER_REJECTED,
        actor=actor,
        organisation_id=registration.organisation_id,
        subject=f"supplier_registration:{registration.pk}",
        data={"note": registration.decision_note},
    )
    context = {"registration": registration, "organisation": registration.organisation}
    send_mail(
        subject=f"Your registration of {registration.organisation.legal_name}",
        message=render_to_string("organisations/email/registration_rejected.txt", context),
        from_email=None,
        recipient_list=[registration.contact_email],
    )


def _check_back_office(actor: User) -> None:
    if not getattr(actor, "is_staff", False) or not actor.is_active:
        raise PermissionDenied("Only the back office deactivates or reactivates suppliers.", field="actor")


def _supplier_locked(supplier: Organisation) -> Organisation:
    supplier = Organisation.objects.select_for_update().get(pk=supplier.pk)
    if supplier.kind != OrganisationKind.SUPPLIER:
        raise DomainError(f"{supplier.name} is not a supplier.", field="supplier")
    return supplier


@transaction.atomic
def supplier_deactivate(*, supplier: Organisation, actor: User, reason: str) -> Organisation:
    """The back office stops a supplier selling: its offers stop being buyable at once (search, category
    pages, product pages, prices: `catalogue.selectors.buyable_offer_q` reads `is_active`), and the
    search index drops them when this commits. Its people, offers and history are kept."""
    _check_back_office(actor)
    reason = reason.strip()
    if not reason:
        raise DomainError("Say why the supplier is deactivated; the audit log keeps it.", field="reason")
    supplier = _supplier_locked(supplier)
    if not supplier.is_active:
        raise Conflict(f"{supplier.name} is deactivated already.", field="supplier")
    supplier.is_active = False
    # Saved (not updated) so the catalogue's index hook reindexes the supplier's products on commit.
    supplier.save(update_fields=["is_active"])
    audit.record(
        kind=SUPPLIER_DEACTIVATED,
        actor=actor,
        organisation_id=supplier.pk,
        subject=f"organisation:{supplier.pk}",
        data={"reason": reason},
    )
    return supplier


@transaction.atomic
def supplier_reactivate(*, supplier: Organisation, actor: User) -> Organisation:
    """The back office lets a deactivated supplier sell again; its live offers are buyable again. A
    supplier whose registration was never approved is approved there instead, not here."""
    _check_back_office(actor)
    supplier = _supplier_locked(supplier)
    if supplier.is_active:
        raise Conflict(f"{supplier.name} is active already.", field="supplier")
    undecided = (
        SupplierRegistration.objects.filter(organisation=supplier)
        .exclude(status=RegistrationStatus.APPROVED)
        .first()
    )
    if undecided is not None:
        raise Conflict(
            f"{supplier.name}'s registration is {undecided.get_status_display().lower()}: "
            "decide it under Supplier registrations.",
            field="supplier",
        )
    supplier.is_active = True
    supplier.save(update_fields=["is_active"])
    audit.record(
        kind=SUPPLIER_REACTIVATED,
        actor=actor,
        organisation_id=supplier.pk,
        subject=f"organisation:{supplier.pk}",
    )
    return supplier


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _invitation_issue(
    *,
    organisation: Organisation,
    email: str,
    role: str,
    invited_by: User | None,
    site_url: str,
    send_email: bool = True,
) -> Invitation:
    """Create an invitation and email its link; the caller has checked who may invite. Only the demo
    data leaves the email out (`seed_demo` would print it)."""
    _check_role_fits(organisation=organisation, role=role)
    email = email.strip().lower()
    if Membership.objects.filter(user__email__iexact=email, organisation=organisation, role=role).exists():
        raise Conflict(f"{email} is already {Role(role).label} at {organisation.name}.", field="email")
    open_one = Invitation.objects.filter(
        organisation=organisation,
        email__iexact=email,
        role=role,
        accepted_at__isnull=True,
        expires_at__gt=timezone.now(),
    )
    if open_one.exists():
        raise Conflict(f"{email} has an invitation to that role already.", field="email")
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organisation=organisation,
        email=email,
        role=role,
        token_hash=_token_hash(token),
        invited_by=invited_by,
        expires_at=timezone.now() + invitation_expiry(),
    )
    audit.record(
        kind=INVITATION_SENT,
        actor=invited_by,
        organisation_id=organisation.pk,
        subject=f"invitation:{invitation.pk}",
        data={"email": email, "role": role},
    )
    if not send_email:
        return invitation
    link = site_url.rstrip("/") + reverse("organisations:invitation-accept", kwargs={"token": token})
    context = {"invitation": invitation, "link": link, "invited_by": invited_by}
    # Inside the transaction: if the email cannot be sent, no invitation is left that nobody received.
    send_mail(
        subject=f"You are invited to {organisation.name} on the NHS Marketplace",
        message=render_to_string("organisations/email/invitation.txt", context),
        from_email=None,
        recipient_list=[email],
    )
    return invitation


@transaction.atomic
def invitation_send(
    *, organisation: Organisation, email: str, role: str, invited_by: User, site_url: str
) -> Invitation:
    """An organisation's admin invites someone by email: a supplier admin its staff, a trust admin
    its buyers and approvers. The emailed link is single-use and expires."""
    if role not in invitable_roles(user=invited_by, organisation=organisation):
        label = Role(role).label if role in Role.values else role
        raise PermissionDenied(f"You cannot invite a {label} to {organisation.name}.", field="role")
    return _invitation_issue(
        organisation=organisation, email=email, role=role, invited_by=invited_by, site_url=site_url
    )


def invitation_for_token(token: str) -> Invitation | None:
    return Invitation.objects.select_related("organisation").filter(token_hash=_token_hash(token)).first()


def invitation_accept(
    *,
    token: str,
    user: User | None = None,
    full_name: str = "",
    password: str = "",
    request: HttpRequest | None = None,
) -> Membership:
    """Accept an invitation from its emailed link, once, before it expires: as the signed-in person
    it was sent to, or as a new user with a name and password. Refusals are audited too."""
    refused: tuple[str, Invitation, DomainError] | None = None
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .select_related("organisation")
            .filter(token_hash=_token_hash(token))
            .first()
        )
        if invitation is None:
            raise NotFound("This invitation link is not valid.")
        if invitation.is_accepted:
            refused = (INVITATION_REUSED, invitation, Conflict("This invitation has been used already."))
        elif invitation.is_expired:
            refused = (
                INVITATION_EXPIRED,
                invitation,
                DomainError("This invitation has expired. Ask for a new one.", code="expired"),
            )
        else:
            return _accept(
                invitation=invitation, user=user, full_name=full_name, password=password, request=request
            )
    kind, invitation, error = refused
    actor = user if user is not None and user.is_authenticated else None
    audit.record(
        kind=kind,
        actor=actor,
        actor_identifier="" if actor else invitation.email,
        organisation_id=invitation.organisation_id,
        subject=f"invitation:{invitation.pk}",
        request=request,
    )
    raise error


def _accept(
    *, invitation: Invitation, user: User | None, full_name: str, password: str, request: HttpRequest | None
) -> Membership:
    if user is not None and user.is_authenticated:
        if user.email.lower() != invitation.email.lower():
            raise PermissionDenied(
                f"This invitation is for {invitation.email}. Sign out, then follow the link again."
            )
    else:
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise DomainError(f"Sign in as {invitation.email} to accept this invitation.", code="sign_in")
        if not full_name.strip():
            raise DomainError("Enter your full name.", field="full_name")
        user = User(email=invitation.email, full_name=full_name.strip())
        try:
            password_validation.validate_password(password, user)
        except ValidationError as error:
            raise _field_error(error, "password") from None
        user = User.objects.create_user(
            email=invitation.email, password=password, full_name=full_name.strip()
        )
    membership = Membership.objects.filter(
        user=user, organisation=invitation.organisation, role=invitation.role
    ).first() or membership_create(
        user=user, organisation=invitation.organisation, role=invitation.role, actor=invitation.invited_by
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit.record(
        kind=INVITATION_ACCEPTED,
        actor=user,
        organisation_id=invitation.organisation_id,
        subject=f"invitation:{invitation.pk}",
        request=request,
        data={"role": invitation.role},
    )
    return membership


# --- Carers who act for a patient ----------------------------------------------------------------

CARER_LINKED = audit.register_kind("organisations.carer_linked", "Carer linked to a patient")
CARER_UNLINKED = audit.register_kind("organisations.carer_unlinked", "Carer unlinked from a patient")


def _check_may_link_carers(*, patient: PatientProfile, actor: User) -> None:
    """The back office, the patient themselves, or the patient's care coordinator (while they
    coordinate for its ICB)."""
    if getattr(actor, "is_staff", False) and actor.is_active:
        return
    if actor.pk == patient.user_id and actor.is_active:
        return
    coordinates = (
        patient.care_coordinator_id == actor.pk and patients_for(actor).filter(pk=patient.pk).exists()
    )
    if not coordinates:
        raise PermissionDenied(
            "Only the patient, their care coordinator or the back office links carers.", field="actor"
        )


@transaction.atomic
def carer_link_create(*, patient: PatientProfile, carer: User, actor: User) -> CarerLink:
    """Let `carer` act for `patient` (choose and buy for them); audited."""
    _check_may_link_carers(patient=patient, actor=actor)
    if carer.pk == patient.user_id:
        raise DomainError("A patient acts for themselves already; choose someone else.", field="carer")
    if not carer.is_active:
        raise DomainError(f"{carer.email} cannot sign in.", field="carer")
    link, created = CarerLink.objects.get_or_create(patient=patient, carer=carer)
    if not created:
        raise Conflict(f"{carer.email} is a carer for this patient already.", field="carer")
    audit.record(
        kind=CARER_LINKED,
        actor=actor,
        organisation_id=patient.commissioner_id,
        subject=f"carer_link:{link.pk}",
        data={"carer": carer.email, "patient": patient.pk},
    )
    return link


@transaction.atomic
def carer_link_delete(*, link: CarerLink, actor: User) -> None:
    """The carer no longer acts for the patient."""
    _check_may_link_carers(patient=link.patient, actor=actor)
    audit.record(
        kind=CARER_UNLINKED,
        actor=actor,
        organisation_id=link.patient.commissioner_id,
        subject=f"carer_link:{link.pk}",
        data={"carer": link.carer.email, "patient": link.patient_id},
    )
    link.delete()
