"""Read-only queries about organisations and people."""

from __future__ import annotations

from django.db.models import QuerySet

from organisations.models import Membership, Organisation, User
from organisations.permissions import organisation_for_user_or_404


def organisation_for_member(*, user: User, organisation_id: int) -> Organisation:
    return organisation_for_user_or_404(user, organisation_id=organisation_id)


def members_of(*, organisation: Organisation) -> QuerySet[Membership]:
    return organisation.memberships.select_related("user").order_by("user__email", "role")
