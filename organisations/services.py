"""Commands that change organisations and memberships. Each runs in one transaction and is audited."""

from __future__ import annotations

from django.db import transaction

from common import audit
from common.errors import Conflict, DomainError
from common.models import AuditEvent
from organisations.models import ROLES_BY_KIND, Membership, Organisation, Role, User


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
        kind=AuditEvent.Kind.MEMBERSHIP_CHANGED,
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
        kind=AuditEvent.Kind.MEMBERSHIP_CHANGED,
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
        kind=AuditEvent.Kind.MEMBERSHIP_CHANGED,
        actor=actor,
        organisation_id=membership.organisation_id,
        subject=f"membership:{membership.pk}",
        data={"action": "deleted", "user": membership.user.email, "role": membership.role},
    )
    membership.delete()
