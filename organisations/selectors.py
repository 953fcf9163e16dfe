"""Read-only queries about organisations and people."""

from __future__ import annotations

from django.db.models import QuerySet

from organisations.models import Invitation, Membership, Organisation, PatientProfile, User
from organisations.permissions import organisation_for_user_or_404, organisations_for, patient_profile_for


def organisation_for_member(*, user: User, organisation_id: int) -> Organisation:
    return organisation_for_user_or_404(user, organisation_id=organisation_id)


def members_of(*, organisation: Organisation) -> QuerySet[Membership]:
    return organisation.memberships.select_related("user").order_by("user__email", "role")


def memberships_for(*, user: User) -> QuerySet[Membership]:
    """The user's memberships of organisations they may act for (active ones), with the organisation."""
    return (
        Membership.objects.filter(user=user, organisation__in=organisations_for(user))
        .select_related("organisation")
        .order_by("organisation__name", "role")
    )


def patient_profile_of(*, user: User) -> PatientProfile | None:
    return patient_profile_for(user)


def invitations_of(*, organisation: Organisation) -> QuerySet[Invitation]:
    """The invitations an organisation sent, newest first, with who sent and who accepted them."""
    return organisation.invitations.select_related("invited_by", "accepted_by").order_by("-created_at", "-id")
