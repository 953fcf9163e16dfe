"""Memberships: the role must fit the kind of organisation, and every change is audited."""

from __future__ import annotations

import pytest

from common.errors import Conflict, DomainError
from common.models import AuditEvent
from organisations import services
from organisations.models import Membership, Role
from tests.organisations.factories import CommissionerFactory, SupplierFactory, TrustFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_trust_admin_adds_a_buyer_and_the_audit_log_says_who():
    trust, admin, newcomer = TrustFactory(), UserFactory(), UserFactory(email="new@leeds.example")
    membership = services.membership_create(user=newcomer, organisation=trust, role=Role.BUYER, actor=admin)
    assert membership.role == Role.BUYER
    event = AuditEvent.objects.get(kind=services.MEMBERSHIP_CHANGED)
    assert (event.actor, event.organisation_id) == (admin, trust.pk)
    assert event.data == {"action": "created", "user": "new@leeds.example", "role": "buyer"}


@pytest.mark.parametrize(
    ("factory", "role"),
    [
        (SupplierFactory, Role.BUYER),
        (TrustFactory, Role.SUPPLIER_ADMIN),
        (CommissionerFactory, Role.APPROVER),
        (TrustFactory, Role.CARE_COORDINATOR),
    ],
)
def test_a_role_that_does_not_fit_the_organisation_is_refused(factory, role):
    with pytest.raises(DomainError) as refused:
        services.membership_create(user=UserFactory(), organisation=factory(), role=role)
    assert refused.value.field == "role"
    assert not Membership.objects.exists()
    assert not AuditEvent.objects.exists()


def test_an_unknown_role_is_refused():
    with pytest.raises(DomainError, match="not a role"):
        services.membership_create(user=UserFactory(), organisation=TrustFactory(), role="owner")


def test_the_same_role_twice_is_a_conflict():
    user, trust = UserFactory(), TrustFactory()
    services.membership_create(user=user, organisation=trust, role=Role.BUYER)
    with pytest.raises(Conflict):
        services.membership_create(user=user, organisation=trust, role=Role.BUYER)


def test_changing_a_role_is_audited_with_before_and_after():
    membership = services.membership_create(user=UserFactory(), organisation=TrustFactory(), role=Role.BUYER)
    services.membership_change_role(membership=membership, role=Role.APPROVER)
    membership.refresh_from_db()
    assert membership.role == Role.APPROVER
    change = AuditEvent.objects.filter(kind=services.MEMBERSHIP_CHANGED).order_by("id").last()
    assert change.data["from"] == "buyer" and change.data["to"] == "approver"
    with pytest.raises(DomainError):
        services.membership_change_role(membership=membership, role=Role.SUPPLIER_STAFF)


def test_removing_a_membership_is_audited():
    membership = services.membership_create(user=UserFactory(), organisation=TrustFactory(), role=Role.BUYER)
    services.membership_delete(membership=membership)
    assert not Membership.objects.exists()
    assert AuditEvent.objects.filter(data__action="deleted").count() == 1


def test_the_model_refuses_a_misfit_role_in_forms_too():
    membership = Membership(user=UserFactory(), organisation=SupplierFactory(), role=Role.BUYER)
    with pytest.raises(Exception, match="has no Buyer role"):
        membership.full_clean()
