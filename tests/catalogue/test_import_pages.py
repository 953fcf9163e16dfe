"""Suppliers upload catalogue files on a page, watch the progress and read every problem."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalogue.imports.importer import COLUMNS
from catalogue.models import Offer
from common.models import ImportJob
from organisations.models import Role
from tests.catalogue.offer_inputs import csv_bytes, file_row
from tests.organisations.factories import SupplierFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _uploads_in_a_temporary_folder(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def supplier():
    return SupplierFactory(is_trusted_supplier=True)


def upload(client, rows, **extra):
    data = {"file": SimpleUploadedFile("catalogue.csv", csv_bytes(rows), content_type="text/csv"), **extra}
    return client.post(reverse("catalogue:import-upload"), data, follow=True)


def test_a_supplier_uploads_a_file_and_sees_what_was_imported(client, supplier):
    client.force_login(member(Role.SUPPLIER_ADMIN, supplier))

    response = upload(client, [file_row(1), file_row(2)])

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse(
        "catalogue:import-status", args=[ImportJob.objects.get().pk]
    )
    assert "All 2 rows were applied" in response.content.decode()
    assert Offer.objects.filter(supplier=supplier).count() == 2


def test_a_rejected_file_shows_every_problem_in_a_table(client, supplier):
    client.force_login(member(Role.SUPPLIER_STAFF, supplier))

    response = upload(client, [file_row(1, pack_price="-1"), file_row(2, tier_prices="200:3.00;100:3.50")])

    page = response.content.decode()
    assert "Nothing was applied: the file has 2 problems" in page
    assert "<code>pack_price</code>" in page
    assert "tiers are out of order" in page
    assert not Offer.objects.exists()


def test_the_upload_form_names_a_missing_or_wrong_file(client, supplier):
    client.force_login(member(Role.SUPPLIER_ADMIN, supplier))

    missing = client.post(reverse("catalogue:import-upload"), {})
    wrong = client.post(reverse("catalogue:import-upload"), {"file": SimpleUploadedFile("a.pdf", b"%PDF")})

    assert "There is a problem" in missing.content.decode()
    assert "Upload a CSV file (.csv, UTF-8) or an Excel workbook (.xlsx)" in wrong.content.decode()
    assert not ImportJob.objects.exists()


def test_an_unfinished_job_shows_a_progress_bar_that_polls_the_status_endpoint(client, supplier):
    client.force_login(member(Role.SUPPLIER_ADMIN, supplier))
    job = ImportJob.objects.create(
        kind="catalogue", organisation_id=supplier.pk, original_name="big.csv", total_rows=100_000
    )

    page = client.get(reverse("catalogue:import-status", args=[job.pk])).content.decode()

    assert "<progress" in page and "data-import-progress" in page
    assert f'data-import-status-url="/api/v1/catalogue/imports/{job.pk}/"' in page
    assert "marketplace/js/import-progress.js" in page
    assert "Waiting to start" in page or "Checked 0 of 100,000 rows" in page


def test_a_supplier_cannot_open_another_suppliers_upload(client, supplier):
    job = ImportJob.objects.create(kind="catalogue", organisation_id=supplier.pk, original_name="theirs.csv")
    client.force_login(member(Role.SUPPLIER_ADMIN, SupplierFactory()))

    assert client.get(reverse("catalogue:import-status", args=[job.pk])).status_code == 404


def test_people_who_do_not_act_for_a_supplier_have_no_upload_page(client):
    client.force_login(member(Role.BUYER))

    assert client.get(reverse("catalogue:import-upload")).status_code == 404


def test_the_templates_download_as_csv_and_xlsx(client):
    csv_response = client.get(reverse("catalogue:import-template", args=["csv"]))
    xlsx_response = client.get(reverse("catalogue:import-template", args=["xlsx"]))

    assert csv_response["Content-Disposition"] == 'attachment; filename="catalogue-template.csv"'
    assert csv_response.content.decode().splitlines()[0] == ",".join(c.name for c in COLUMNS)
    assert xlsx_response.content.startswith(b"PK")
    assert client.get(reverse("catalogue:import-template", args=["pdf"])).status_code == 404


def test_the_upload_page_links_the_templates_and_lists_recent_uploads(client, supplier):
    client.force_login(member(Role.SUPPLIER_ADMIN, supplier))
    upload(client, [file_row(1)])

    page = client.get(reverse("catalogue:import-upload")).content.decode()

    assert reverse("catalogue:import-template", args=["xlsx"]) in page
    assert "catalogue.csv" in page
    assert "Imported" in page
