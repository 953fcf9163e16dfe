"""The back office deactivates a supplier that may no longer sell, saying why, and reactivates it
later; each change is checked and audited. (What a deactivated supplier's offers do in search, pages
and prices is told in tests/catalogue/test_buyable.py.)"""

from __future__ import annotations

import pytest

from common.errors import Conflict, DomainError, PermissionDenied
from common.models import AuditEvent
from organisations import services
from organisations.models import Organisation, RegistrationStatus, Role, SupplierRegistration
from tests.organisations.factories import SupplierFactory, TrustFactory, UserFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops():
    return UserFactory(email="ops@marketplace.example", is_staff=True, is_superuser=True)


@pytest.fixture
def supplier():
    return SupplierFactory(name="Pennine Medical Supplies")


def test_the_back_office_deactivates_a_supplier_with_a_reason_and_it_is_audited(ops, supplier):
    services.supplier_deactivate(supplier=supplier, actor=ops, reason="  Lost its ISO 13485 certificate ")
    supplier.refresh_from_db()
    assert not supplier.is_active
    event = AuditEvent.objects.get(kind=services.SUPPLIER_DEACTIVATED)
    assert (event.actor, event.organisation_id, event.subject) == (
        ops,
        supplier.pk,
        f"organisation:{supplier.pk}",
    )
    assert event.data == {"reason": "Lost its ISO 13485 certificate"}
    assert event.kind_label == "Supplier deactivated"

    services.supplier_reactivate(supplier=supplier, actor=ops)
    supplier.refresh_from_db()
    assert supplier.is_active
    assert AuditEvent.objects.get(kind=services.SUPPLIER_REACTIVATED).actor == ops


@pytest.mark.parametrize("reason", ["", "   "])
def test_deactivating_without_a_reason_is_refused_naming_the_reason(ops, supplier, reason):
    with pytest.raises(DomainError) as refused:
        services.supplier_deactivate(supplier=supplier, actor=ops, reason=reason)
    assert refused.value.field == "reason"
    supplier.refresh_from_db()
    assert supplier.is_active
    assert not AuditEvent.objects.filter(kind=services.SUPPLIER_DEACTIVATED).exists()


def test_only_the_back_office_deactivates_not_even_the_suppliers_own_admin(supplier):
    admin = member(Role.SUPPLIER_ADMIN, supplier)
    with pytest.raises(PermissionDenied):
        services.supplier_deactivate(supplier=supplier, actor=admin, reason="We are closing")
    assert Organisation.objects.get(pk=supplier.pk).is_active


def test_a_trust_is_not_deactivated_as_a_supplier(ops):
    trust = TrustFactory()
    with pytest.raises(DomainError) as refused:
        services.supplier_deactivate(supplier=trust, actor=ops, reason="Merged")
    assert refused.value.field == "supplier"


def test_deactivating_twice_or_reactivating_an_active_supplier_is_a_conflict(ops, supplier):
    with pytest.raises(Conflict, match="active already"):
        services.supplier_reactivate(supplier=supplier, actor=ops)
    services.supplier_deactivate(supplier=supplier, actor=ops, reason="Recall")
    with pytest.raises(Conflict, match="deactivated already"):
        services.supplier_deactivate(supplier=supplier, actor=ops, reason="Recall")
    assert AuditEvent.objects.filter(kind=services.SUPPLIER_DEACTIVATED).count() == 1


def test_a_supplier_awaiting_approval_is_approved_not_reactivated(ops):
    registration = services.supplier_register(
        legal_name="Wharfedale Wound Care Ltd",
        companies_house_number="01234567",
        vat_number="GB980780684",
        contact_name="Wendy",
        contact_email="wendy@wharfedale.example",
        categories=["Wound care"],
    )
    with pytest.raises(Conflict, match="awaiting approval") as refused:
        services.supplier_reactivate(supplier=registration.organisation, actor=ops)
    assert refused.value.field == "supplier"
    assert SupplierRegistration.objects.get().status == RegistrationStatus.PENDING
    assert not Organisation.objects.get(pk=registration.organisation_id).is_active


def _edit_form(supplier: Organisation, **changes) -> dict:
    data = {
        "kind": supplier.kind,
        "name": supplier.name,
        "slug": supplier.slug,
        "ods_code": "",
        "region": supplier.region,
        "legal_name": supplier.legal_name,
        "companies_house_number": supplier.companies_house_number,
        "vat_number": supplier.vat_number,
        "is_active": "on",
        "deactivation_reason": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_unticking_active_in_the_back_office_asks_why_and_goes_through_the_service(client, ops, supplier):
    client.force_login(ops)
    url = f"/cms/organisations/edit/{supplier.pk}/"
    assert "Reason for deactivating" in client.get(url).content.decode()

    refused = client.post(url, _edit_form(supplier, is_active=None, name="Pennine Medical"))
    assert refused.status_code == 200
    assert "Say why the supplier is deactivated" in refused.content.decode()
    supplier.refresh_from_db()
    # Nothing of the refused edit was saved, not even the other fields.
    assert (supplier.is_active, supplier.name) == (True, "Pennine Medical Supplies")

    done = client.post(url, _edit_form(supplier, is_active=None, deactivation_reason="Product recall"))
    assert done.status_code == 302
    supplier.refresh_from_db()
    assert not supplier.is_active
    assert AuditEvent.objects.get(kind=services.SUPPLIER_DEACTIVATED).data["reason"] == "Product recall"

    assert client.post(url, _edit_form(supplier)).status_code == 302
    supplier.refresh_from_db()
    assert supplier.is_active
    assert AuditEvent.objects.get(kind=services.SUPPLIER_REACTIVATED).actor == ops


def test_editing_other_fields_of_a_supplier_leaves_its_activation_alone(client, ops, supplier):
    client.force_login(ops)
    response = client.post(
        f"/cms/organisations/edit/{supplier.pk}/", _edit_form(supplier, name="Pennine Medical")
    )
    assert response.status_code == 302
    supplier.refresh_from_db()
    assert (supplier.name, supplier.is_active) == ("Pennine Medical", True)
    assert not AuditEvent.objects.filter(
        kind__in=[services.SUPPLIER_DEACTIVATED, services.SUPPLIER_REACTIVATED]
    ).exists()
