"""Suppliers' systems upload catalogue files through the API and follow the job; each supplier
sees only its own jobs."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from catalogue.models import Offer
from common.models import ImportJob
from organisations.models import Role
from tests.catalogue.offer_inputs import csv_bytes, file_row, xlsx_bytes
from tests.organisations.factories import SupplierFactory, member

pytestmark = pytest.mark.django_db

URL = "/api/v1/catalogue/imports/"


@pytest.fixture(autouse=True)
def _uploads_in_a_temporary_folder(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def supplier():
    return SupplierFactory(is_trusted_supplier=True)


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def csv_upload(rows, name="catalogue.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, csv_bytes(rows), content_type="text/csv")


def test_a_supplier_uploads_a_file_and_gets_202_with_the_status_url(supplier):
    client = client_for(member(Role.SUPPLIER_ADMIN, supplier))

    response = client.post(URL, {"file": csv_upload([file_row(1), file_row(2)])}, format="multipart")

    assert response.status_code == 202
    job = ImportJob.objects.get()
    assert response["Location"] == f"http://testserver/api/v1/catalogue/imports/{job.pk}/"
    assert response.json()["status"] == "succeeded"
    assert Offer.objects.filter(supplier=supplier).count() == 2


def test_the_status_endpoint_gives_processed_total_and_summary(supplier):
    client = client_for(member(Role.SUPPLIER_STAFF, supplier))
    location = client.post(URL, {"file": csv_upload([file_row(1)])}, format="multipart")["Location"]

    body = client.get(location).json()

    assert body["status"] == "succeeded"
    assert body["processed"] == body["total"] == 1
    assert body["percent"] == 100
    assert body["errors"] == []
    assert body["summary"]["created"] == 1


def test_a_rejected_file_lists_its_problems_by_row_and_column(supplier):
    client = client_for(member(Role.SUPPLIER_ADMIN, supplier))
    bad = [file_row(1, gtin="5012345678901"), file_row(2, category="Nowhere")]

    location = client.post(URL, {"file": csv_upload(bad)}, format="multipart")["Location"]
    body = client.get(location).json()

    assert body["status"] == "rejected"
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(2, "gtin"), (3, "category")]
    assert not Offer.objects.exists()


def test_an_xlsx_file_is_accepted(supplier):
    client = client_for(member(Role.SUPPLIER_ADMIN, supplier))
    upload = SimpleUploadedFile("catalogue.xlsx", xlsx_bytes([file_row(1)]))

    response = client.post(URL, {"file": upload}, format="multipart")

    assert response.json()["status"] == "succeeded"


def test_a_supplier_cannot_see_another_suppliers_import_job(supplier):
    owner = client_for(member(Role.SUPPLIER_ADMIN, supplier))
    location = owner.post(URL, {"file": csv_upload([file_row(1)])}, format="multipart")["Location"]
    outsider = client_for(member(Role.SUPPLIER_ADMIN, SupplierFactory()))

    response = outsider.get(location)

    assert response.status_code == 404


def test_a_buyer_cannot_upload_a_catalogue(supplier):
    buyer = client_for(member(Role.BUYER))

    response = buyer.post(URL, {"file": csv_upload([file_row(1)])}, format="multipart")

    assert response.status_code == 403
    assert not ImportJob.objects.exists()


def test_someone_acting_for_two_suppliers_names_one_in_the_acting_header(supplier):
    user = member(Role.SUPPLIER_ADMIN, supplier)
    second = SupplierFactory()
    member(Role.SUPPLIER_ADMIN, second, email=user.email)
    client = client_for(user)

    unsaid = client.post(URL, {"file": csv_upload([file_row(1)])}, format="multipart")
    said = client.post(
        URL, {"file": csv_upload([file_row(1)])}, format="multipart", HTTP_X_ACTING_ORGANISATION=second.slug
    )
    not_theirs = client.post(
        URL,
        {"file": csv_upload([file_row(1)])},
        format="multipart",
        HTTP_X_ACTING_ORGANISATION=str(SupplierFactory().pk),
    )

    assert unsaid.status_code == 400
    assert unsaid.json()["field"] == "X-Acting-Organisation"
    assert said.status_code == 202
    assert Offer.objects.get().supplier == second
    assert not_theirs.status_code == 403
    assert "X-Acting-Organisation" in not_theirs.json()["detail"]
    assert ImportJob.objects.count() == 1


def test_the_file_must_be_csv_or_xlsx(supplier):
    client = client_for(member(Role.SUPPLIER_ADMIN, supplier))

    missing = client.post(URL, {}, format="multipart")
    wrong = client.post(URL, {"file": SimpleUploadedFile("prices.pdf", b"%PDF-1.4")}, format="multipart")

    assert missing.status_code == 400
    assert "file" in missing.json()
    assert wrong.status_code == 400
    assert "csv" in str(wrong.json()["file"])


def test_signing_in_is_required():
    assert APIClient().get(f"{URL}1/").status_code in (401, 403)


def test_the_endpoints_are_in_the_openapi_schema(supplier, client):
    client.force_login(member(Role.SUPPLIER_ADMIN, supplier))

    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()

    assert "/api/v1/catalogue/imports/" in schema
    assert "/api/v1/catalogue/imports/{id}/" in schema
