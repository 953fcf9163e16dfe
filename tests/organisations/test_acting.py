"""The organisation a request acts for: chosen in the header by people with several, sent by systems
on the API, and the same answer for every page, API view and service that asks "for whom"."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient

from catalogue.models import Offer
from common import audit
from common.errors import PermissionDenied
from common.models import AuditEvent
from organisations.acting import HEADER, SESSION_KEY, ActingRefused, ActingUnchosen, acting_for
from organisations.models import Membership, OrganisationKind, Role
from organisations.scoping import scoped
from pricing import analytics
from tests.catalogue.factories import OfferFactory, ProductFactory
from tests.organisations.factories import (
    MembershipFactory,
    PatientProfileFactory,
    SupplierFactory,
    TrustFactory,
    member,
)
from tests.pricing.helpers import line

pytestmark = pytest.mark.django_db

SWITCHER = 'id="acting-organisation"'


@pytest.fixture
def world():
    """Beth buys for two trusts, which paid different prices for stockings; a third trust makes the
    peer group large enough to show."""
    airedale = TrustFactory(name="Airedale NHS Foundation Trust", ods_code="RCF")
    leeds = TrustFactory(name="Leeds Teaching Hospitals NHS Trust", ods_code="RR8")
    york = TrustFactory(name="York and Scarborough Teaching Hospitals NHS Foundation Trust", ods_code="RCB")
    stockings = ProductFactory(name="Anti-embolism stockings, thigh, M")
    OfferFactory(product=stockings)
    line(airedale, stockings, packs="100", units_per_pack=10, pack_price="50.00")  # 5.00 a unit
    line(leeds, stockings, packs="100", units_per_pack=10, pack_price="70.00")  # 7.00 a unit
    line(york, stockings, packs="20", units_per_pack=1, pack_price="6.00")
    analytics.summaries_refresh(full=True)
    beth = member(Role.BUYER, airedale, full_name="Beth Buyer")
    MembershipFactory(user=beth, organisation=leeds, role=Role.BUYER)
    return {"airedale": airedale, "leeds": leeds, "york": york, "stockings": stockings, "beth": beth}


def product_page(client, product) -> str:
    return client.get(reverse("catalogue:product-detail", kwargs={"slug": product.slug})).content.decode()


def switch(client, organisation, *, next_url: str = ""):
    return client.post(
        reverse("organisations:acting-switch"), {"organisation": organisation.pk, "next": next_url}
    )


def test_a_buyer_of_two_trusts_chooses_one_in_the_header_and_sees_its_prices_and_savings(client, world):
    client.force_login(world["beth"])

    before = product_page(client, world["stockings"])
    assert SWITCHER in before
    # Until Beth chooses, the first of her trusts by name acts, and the switcher says so.
    assert f'<option value="{world["airedale"].pk}" selected>' in before
    assert "£5.0000" in before and "Airedale NHS Foundation Trust" in before

    url = reverse("catalogue:product-detail", kwargs={"slug": world["stockings"].slug})
    answer = switch(client, world["leeds"], next_url=url)
    assert answer.status_code == 302 and answer["Location"] == url
    assert client.session[SESSION_KEY] == world["leeds"].pk

    after = product_page(client, world["stockings"])
    assert f'<option value="{world["leeds"].pk}" selected>' in after
    assert "£7.0000" in after and "+17% on the median" in after  # Leeds's own price now
    national = client.get(reverse("pricing:national")).content.decode()
    assert reverse("pricing:trust", args=["RR8"]) in national
    assert "See Leeds Teaching Hospitals NHS Trust's savings opportunities" in national

    switch(client, world["airedale"])
    national = client.get(reverse("pricing:national")).content.decode()
    assert reverse("pricing:trust", args=["RCF"]) in national
    assert reverse("pricing:trust", args=["RR8"]) not in national


def test_someone_with_one_organisation_sees_no_switcher(client, world):
    client.force_login(member(Role.BUYER, world["york"]))
    page = product_page(client, world["stockings"])
    assert SWITCHER not in page
    assert "York and Scarborough" in page  # and still acts for their trust


def test_nobody_switches_to_an_organisation_they_do_not_act_for(client, world):
    client.force_login(world["beth"])
    refused = switch(client, world["york"])
    assert refused.status_code == 404
    assert SESSION_KEY not in client.session
    assert AuditEvent.objects.filter(
        kind=audit.ACCESS_DENIED, subject=f"organisation:{world['york'].pk}"
    ).exists()
    assert client.get(reverse("organisations:acting-switch")).status_code == 405


def test_a_page_asked_for_with_a_header_naming_someone_elses_trust_is_refused(client, world):
    client.force_login(world["beth"])
    page = client.get(reverse("pricing:national"), headers={HEADER: "RCB"})
    assert page.status_code == 403
    assert "York" not in page.content.decode()


def test_the_switcher_goes_back_only_to_this_site(client, world):
    client.force_login(world["beth"])
    answer = switch(client, world["leeds"], next_url="https://evil.example/")
    assert answer["Location"] == reverse("start")


def test_a_choice_is_forgotten_when_the_membership_ends(client, world):
    client.force_login(world["beth"])
    switch(client, world["leeds"])
    Membership.objects.filter(user=world["beth"], organisation=world["leeds"]).delete()
    page = product_page(client, world["stockings"])
    assert SWITCHER not in page
    assert "£5.0000" in page  # Airedale's, the one trust left


def test_the_header_switcher_costs_a_bounded_number_of_queries(client, world, django_assert_max_num_queries):
    client.force_login(world["beth"])
    switch(client, world["leeds"])
    for _ in range(3):
        MembershipFactory(user=world["beth"], organisation=TrustFactory(), role=Role.APPROVER)
        OfferFactory(product=world["stockings"])
        with django_assert_max_num_queries(14):
            assert SWITCHER in product_page(client, world["stockings"])


# The API -----------------------------------------------------------------------------------------


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def viewer_label(response) -> str:
    return next(point["label"] for point in response.json()["trusts"] if point["is_viewer"])


def test_a_system_names_the_trust_it_acts_for_in_the_header(world):
    api = api_for(world["beth"])
    url = reverse("pricing-api-variance", args=[world["stockings"].pk])

    as_leeds = api.get(url, HTTP_X_ACTING_ORGANISATION="rr8")
    as_airedale = api.get(url, HTTP_X_ACTING_ORGANISATION=str(world["airedale"].pk))

    assert as_leeds.status_code == 200
    assert viewer_label(as_leeds) == "Leeds Teaching Hospitals NHS Trust"
    assert viewer_label(as_airedale) == "Airedale NHS Foundation Trust"


def test_a_header_naming_a_trust_the_caller_does_not_act_for_is_refused(world):
    api = api_for(world["beth"])
    for url in (
        reverse("pricing-api-variance", args=[world["stockings"].pk]),
        reverse("api-product-detail", kwargs={"pk": world["stockings"].pk}),
        reverse("api-product-list"),
    ):
        refused = api.get(url, HTTP_X_ACTING_ORGANISATION="RCB")
        assert refused.status_code == 403, url
        assert refused.json()["field"] == HEADER
        assert HEADER in refused.json()["detail"]
        assert "York" not in refused.content.decode()


def test_an_api_write_for_one_of_several_suppliers_must_say_which(world):
    first, second = SupplierFactory(name="A Medical"), SupplierFactory(name="B Medical")
    person = member(Role.SUPPLIER_ADMIN, first)
    MembershipFactory(user=person, organisation=second, role=Role.SUPPLIER_STAFF)
    OfferFactory(supplier=first, supplier_sku="A-1")
    OfferFactory(supplier=second, supplier_sku="B-1")
    api = api_for(person)
    offers_before = Offer.objects.count()

    listed = api.get(reverse("api-offer-list"), HTTP_X_ACTING_ORGANISATION=second.slug)
    unsaid = api.post(reverse("api-offer-list"), {}, format="json")

    assert [offer["supplier_sku"] for offer in listed.json()["results"]] == ["B-1"]
    assert unsaid.status_code == 400
    assert unsaid.json()["field"] == HEADER
    assert Offer.objects.count() == offers_before


def test_the_schema_documents_the_header():
    schema = APIClient().get("/api/schema/?format=json").json()
    for path in ("/api/v1/products/", "/api/v1/offers/", "/api/v1/catalogue/imports/"):
        for operation in schema["paths"][path].values():
            names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
            assert HEADER in names, path


# The helper itself -------------------------------------------------------------------------------


def request_as(user, **headers):
    request = RequestFactory().get("/", headers=headers)
    request.user = user
    request.session = {}
    return request


def test_acting_carries_the_roles_at_the_organisation_and_a_patient_acts_for_themselves(world):
    MembershipFactory(user=world["beth"], organisation=world["leeds"], role=Role.APPROVER)
    acting = acting_for(request_as(world["beth"], **{HEADER: "RR8"}))
    assert acting.organisation == world["leeds"]
    assert acting.roles == {Role.BUYER, Role.APPROVER}
    assert acting.explicit and acting.require() == world["leeds"]

    patient = PatientProfileFactory()
    assert acting_for(request_as(patient.user)).buyer == patient


def test_acting_for_one_kind_keeps_to_it_and_never_guesses_a_write(world):
    supplier = SupplierFactory()
    MembershipFactory(user=world["beth"], organisation=supplier, role=Role.SUPPLIER_STAFF)
    request = request_as(world["beth"])

    assert acting_for(request, kind=OrganisationKind.SUPPLIER).require() == supplier  # her only one
    trusts = acting_for(request, kind=OrganisationKind.TRUST)
    assert trusts.organisation == world["airedale"]  # a default, shown in the switcher ...
    with pytest.raises(ActingUnchosen):
        trusts.require()  # ... but never used to write
    as_trust = request_as(world["beth"], **{HEADER: "RR8"})
    as_trust_for_suppliers = acting_for(as_trust, kind=OrganisationKind.SUPPLIER)
    assert as_trust_for_suppliers.supplier is None
    with pytest.raises(PermissionDenied, match="You do not act for a supplier"):
        as_trust_for_suppliers.require()
    with pytest.raises(ActingRefused):
        acting_for(request_as(world["beth"], **{HEADER: "RCB"}))


def test_scoped_narrows_a_queryset_to_the_acting_organisation_and_to_nothing_without_one(world):
    mine, theirs = SupplierFactory(), SupplierFactory()
    person = member(Role.SUPPLIER_STAFF, mine)
    OfferFactory(supplier=mine, supplier_sku="MINE")
    OfferFactory(supplier=theirs, supplier_sku="THEIRS")

    acting = acting_for(request_as(person), kind=OrganisationKind.SUPPLIER)
    nobody = acting_for(request_as(member(Role.BUYER, world["york"])), kind=OrganisationKind.SUPPLIER)

    assert [o.supplier_sku for o in scoped(Offer.objects.all(), acting, field="supplier")] == ["MINE"]
    assert not scoped(Offer.objects.all(), nobody, field="supplier").exists()
