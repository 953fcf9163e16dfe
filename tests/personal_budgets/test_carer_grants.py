"""The patient lets a carer act for them and takes it back; both are in the audit log."""

from __future__ import annotations

import pytest

from common.errors import PermissionDenied
from common.models import AuditEvent
from organisations import services as org_services
from organisations.models import CarerLink
from organisations.permissions import patients_for
from tests.organisations.factories import PatientProfileFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_patient_grants_and_revokes_a_carer_with_an_audit_trail(world):
    daughter = UserFactory(full_name="Casey Patel")
    link = org_services.carer_link_create(patient=world.patient, carer=daughter, actor=world.patient.user)
    subject = f"carer_link:{link.pk}"
    assert list(patients_for(daughter)) == [world.patient]
    org_services.carer_link_delete(link=link, actor=world.patient.user)
    assert not patients_for(daughter).exists()
    kinds = list(AuditEvent.objects.filter(subject=subject).order_by("id").values_list("kind", "actor"))
    assert kinds == [
        (org_services.CARER_LINKED, world.patient.user.pk),
        (org_services.CARER_UNLINKED, world.patient.user.pk),
    ]


def test_a_patient_grants_no_carer_for_someone_else(world):
    other = PatientProfileFactory(commissioner=world.icb)
    with pytest.raises(PermissionDenied):
        org_services.carer_link_create(patient=other, carer=UserFactory(), actor=world.patient.user)
    assert not CarerLink.objects.exists()
