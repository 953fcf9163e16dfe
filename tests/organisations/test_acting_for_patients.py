"""A care coordinator or a carer acts for a patient they support: chosen in the header's switcher, or
named by a system in the X-Acting-Patient header; never for a patient they have no link to."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient

from common import audit
from common.errors import Conflict, DomainError, PermissionDenied
from common.models import AuditEvent
from organisations import services
from organisations.acting import PATIENT_HEADER, PATIENT_SESSION_KEY, ActingRefused, acting_for
from organisations.models import CarerLink, Role
from tests.catalogue.factories import OfferFactory, ProductFactory
from tests.organisations.factories import CommissionerFactory, PatientProfileFactory, UserFactory, member

pytestmark = pytest.mark.django_db

NOT_FOR_BUDGETS = "This item cannot be bought from a personal health budget."
PATIENT_SWITCHER = 'id="acting-patient"'


@pytest.fixture
def world():
    """West Yorkshire ICB: Chris coordinates Pat's and Jo's care; Casey is Pat's carer. A wheelchair
    may be bought with a personal health budget, a hoist sling only by the NHS."""
    icb = CommissionerFactory(name="NHS West Yorkshire ICB", ods_code="QWO")
    chris = member(Role.CARE_COORDINATOR, icb, email="chris@wy-icb.example", full_name="Chris Coordinator")
    pat = PatientProfileFactory(
        user=UserFactory(full_name="Pat Patel"), commissioner=icb, care_coordinator=chris
    )
    jo = PatientProfileFactory(
        user=UserFactory(full_name="Jo Jones"), commissioner=icb, care_coordinator=chris
    )
    stranger = PatientProfileFactory(user=UserFactory(full_name="Kim Khan"), commissioner=icb)
    casey = UserFactory(email="casey@example.org", full_name="Casey Patel")
    services.carer_link_create(patient=pat, carer=casey, actor=chris)
    sling = ProductFactory(name="Hoist sling", slug="hoist-sling")
    OfferFactory(product=sling, patient_eligible=False)
    return {
        "icb": icb,
        "chris": chris,
        "pat": pat,
        "jo": jo,
        "stranger": stranger,
        "casey": casey,
        "sling": sling,
    }


def sling_page(client) -> str:
    return client.get(reverse("catalogue:product-detail", kwargs={"slug": "hoist-sling"})).content.decode()


def switch_patient(client, patient_id):
    return client.post(reverse("organisations:acting-switch"), {"patient": patient_id, "next": "/"})


def test_a_carer_chooses_the_patient_in_the_header_and_sees_what_their_budget_may_buy(client, world):
    client.force_login(world["casey"])
    before = sling_page(client)
    assert PATIENT_SWITCHER in before
    assert '<option value="" selected>No one in particular</option>' in before
    assert NOT_FOR_BUDGETS not in before  # list prices until they choose

    assert switch_patient(client, world["pat"].pk).status_code == 302
    assert client.session[PATIENT_SESSION_KEY] == world["pat"].pk
    after = sling_page(client)
    assert f'<option value="{world["pat"].pk}" selected>Pat Patel</option>' in after
    assert NOT_FOR_BUDGETS in after

    switch_patient(client, "")  # back to no one in particular
    assert NOT_FOR_BUDGETS not in sling_page(client)


def test_a_carer_is_offered_only_the_patients_they_care_for(client, world):
    client.force_login(world["casey"])
    page = sling_page(client)
    assert "Pat Patel" in page and "Jo Jones" not in page and "Kim Khan" not in page


def test_a_care_coordinator_chooses_among_the_patients_they_coordinate(client, world):
    client.force_login(world["chris"])
    page = sling_page(client)
    assert "Pat Patel" in page and "Jo Jones" in page and "Kim Khan" not in page
    switch_patient(client, world["jo"].pk)
    assert NOT_FOR_BUDGETS in sling_page(client)


def test_nobody_chooses_a_patient_they_have_no_link_to_and_the_attempt_is_audited(client, world):
    client.force_login(world["casey"])
    for other in (world["jo"], world["stranger"]):
        assert switch_patient(client, other.pk).status_code == 404
    assert PATIENT_SESSION_KEY not in client.session
    assert AuditEvent.objects.filter(kind=audit.ACCESS_DENIED, subject=f"patient:{world['jo'].pk}").exists()


def test_a_coordinator_who_leaves_the_icb_no_longer_acts_for_its_patients(client, world):
    client.force_login(world["chris"])
    switch_patient(client, world["pat"].pk)
    world["chris"].memberships.all().delete()
    assert NOT_FOR_BUDGETS not in sling_page(client)  # the remembered choice no longer holds
    assert PATIENT_SWITCHER not in sling_page(client)


def test_a_patient_acts_for_themselves_and_sees_no_patient_switcher(client, world):
    client.force_login(world["pat"].user)
    page = sling_page(client)
    assert NOT_FOR_BUDGETS in page
    assert PATIENT_SWITCHER not in page


def api_product(api, product, **headers):
    return api.get(reverse("api-product-detail", kwargs={"pk": product.pk}), headers=headers)


def test_a_system_names_the_patient_in_the_x_acting_patient_header(world):
    api = APIClient()
    api.force_authenticate(world["chris"])
    offer = api_product(api, world["sling"], **{PATIENT_HEADER: world["pat"].formatted_nhs_number}).json()[
        "offers"
    ][0]
    assert NOT_FOR_BUDGETS in offer["price"]["problems"]
    listed = api_product(api, world["sling"]).json()["offers"][0]
    assert NOT_FOR_BUDGETS not in listed["price"]["problems"]


def test_the_api_refuses_a_patient_the_caller_may_not_act_for_naming_the_header(world):
    api = APIClient()
    api.force_authenticate(world["casey"])
    for number in (world["jo"].nhs_number, "not a number"):
        refused = api_product(api, world["sling"], **{PATIENT_HEADER: number})
        assert refused.status_code == 403
        body = refused.json()
        assert PATIENT_HEADER in str(body)
        assert world["jo"].nhs_number not in str(body)  # the number is not repeated back


def test_acting_for_resolves_the_header_for_services(world):
    request = RequestFactory().get("/", headers={PATIENT_HEADER: world["jo"].nhs_number})
    request.user = world["chris"]
    request.session = {}
    assert acting_for(request).patient == world["jo"]
    assert acting_for(request).buyer == world["jo"]
    request = RequestFactory().get("/", headers={PATIENT_HEADER: world["stranger"].nhs_number})
    request.user = world["chris"]
    request.session = {}
    with pytest.raises(ActingRefused):
        acting_for(request)


def test_a_carer_link_is_made_by_the_coordinator_or_the_back_office_and_audited(world):
    link = CarerLink.objects.get()
    event = AuditEvent.objects.get(kind=services.CARER_LINKED)
    assert (event.actor, event.subject) == (world["chris"], f"carer_link:{link.pk}")
    assert event.data == {"carer": "casey@example.org", "patient": world["pat"].pk}

    with pytest.raises(Conflict):
        services.carer_link_create(patient=world["pat"], carer=world["casey"], actor=world["chris"])
    with pytest.raises(DomainError) as refused:
        services.carer_link_create(patient=world["pat"], carer=world["pat"].user, actor=world["chris"])
    assert refused.value.field == "carer"
    # Not the coordinator of this patient, nor a carer linking themselves elsewhere.
    for actor in (world["casey"], member(Role.CARE_COORDINATOR, world["icb"])):
        with pytest.raises(PermissionDenied):
            services.carer_link_create(patient=world["stranger"], carer=world["casey"], actor=actor)

    staff = UserFactory(is_staff=True)
    services.carer_link_delete(link=link, actor=staff)
    assert not CarerLink.objects.exists()
    assert AuditEvent.objects.get(kind=services.CARER_UNLINKED).actor == staff


def test_the_back_office_links_and_unlinks_a_carer_through_the_service(client, world):
    staff = UserFactory(email="ops@marketplace.example", is_staff=True, is_superuser=True)
    client.force_login(staff)
    sam = UserFactory(email="sam@example.org", full_name="Sam Friend")
    refused = client.post("/cms/carers/new/", {"patient": world["pat"].pk, "carer": world["pat"].user.pk})
    assert refused.status_code == 200
    assert "A patient acts for themselves already" in refused.content.decode()
    assert client.post("/cms/carers/new/", {"patient": world["jo"].pk, "carer": sam.pk}).status_code == 302
    link = CarerLink.objects.get(carer=sam)
    assert AuditEvent.objects.filter(kind=services.CARER_LINKED, actor=staff).exists()
    assert "Sam Friend" in client.get("/cms/carers/").content.decode()
    assert client.get(f"/cms/carers/edit/{link.pk}/").status_code in (302, 403)
    client.post(f"/cms/carers/delete/{link.pk}/")
    assert not CarerLink.objects.filter(carer=sam).exists()
    assert AuditEvent.objects.get(kind=services.CARER_UNLINKED).actor == staff
