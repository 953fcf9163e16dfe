"""The one place that answers "which organisations may this user act for, and in which roles".

Every queryset in later apps is scoped through these functions, so that a buyer of one trust
never sees another trust's orders and a supplier only their own listings.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from common.errors import NotFound
from organisations.models import (
    CarerLink,
    Membership,
    Organisation,
    OrganisationKind,
    PatientProfile,
    Role,
    User,
)

TRUST_ROLES = (Role.BUYER, Role.APPROVER, Role.TRUST_ADMIN)
SUPPLIER_ROLES = (Role.SUPPLIER_ADMIN, Role.SUPPLIER_STAFF)
COMMISSIONER_ROLES = (Role.BUDGET_MANAGER, Role.CARE_COORDINATOR)


def organisations_for(user: User, *, roles: Iterable[str] | None = None, kind: str | None = None) -> QuerySet:
    """Active organisations the user may act for, optionally only in the given roles or of one kind."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Organisation.objects.none()
    memberships = user.memberships.all()
    if roles is not None:
        memberships = memberships.filter(role__in=list(roles))
    qs = Organisation.objects.filter(is_active=True, id__in=memberships.values("organisation_id"))
    if kind is not None:
        qs = qs.filter(kind=kind)
    return qs


def trusts_for(user: User, *, roles: Iterable[str] | None = None) -> QuerySet:
    return organisations_for(user, roles=roles or TRUST_ROLES, kind=OrganisationKind.TRUST)


def suppliers_for(user: User, *, roles: Iterable[str] | None = None) -> QuerySet:
    return organisations_for(user, roles=roles or SUPPLIER_ROLES, kind=OrganisationKind.SUPPLIER)


def commissioners_for(user: User, *, roles: Iterable[str] | None = None) -> QuerySet:
    return organisations_for(user, roles=roles or COMMISSIONER_ROLES, kind=OrganisationKind.COMMISSIONER)


def roles_for(user: User, organisation: Organisation) -> set[str]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    return set(user.memberships.filter(organisation=organisation).values_list("role", flat=True))


def can_act_for(user: User, organisation: Organisation, *, roles: Iterable[str] | None = None) -> bool:
    return organisations_for(user, roles=roles).filter(pk=organisation.pk).exists()


def organisation_for_user_or_404(
    user: User, *, organisation_id: int, roles: Iterable[str] | None = None, kind: str | None = None
) -> Organisation:
    """The organisation if the user may act for it; otherwise NotFound (never reveal that it exists)."""
    organisation = organisations_for(user, roles=roles, kind=kind).filter(pk=organisation_id).first()
    if organisation is None:
        raise NotFound("No such organisation.")
    return organisation


def patient_profile_for(user: User) -> PatientProfile | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return PatientProfile.objects.filter(user=user).select_related("commissioner").first()


def is_patient(user: User) -> bool:
    return patient_profile_for(user) is not None


def patients_for(user: User) -> QuerySet:
    """The patients the user may act for: themselves (a patient), the patients they coordinate while
    they are a care coordinator at the patient's commissioner, and those they are a carer for."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return PatientProfile.objects.none()
    coordinating_at = Membership.objects.filter(
        user=user, role=Role.CARE_COORDINATOR, organisation__is_active=True
    ).values("organisation_id")
    return PatientProfile.objects.filter(
        Q(user=user)
        | Q(care_coordinator=user, commissioner_id__in=coordinating_at)
        | Q(pk__in=CarerLink.objects.filter(carer=user).values("patient_id"))
    )
