"""Only small files are imported while the user waits: anything larger than
UPLOAD_INLINE_MAX_BYTES is queued as a Celery task once the job is committed, and the page and the
API follow its progress. Either way the whole file applies or nothing does."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from catalogue.models import Offer
from common.imports import PROGRESS_KEY, runs_inline
from common.models import ImportJob
from organisations.models import Role
from pricing.models import PurchaseHistoryLine
from tests.catalogue import offer_inputs
from tests.catalogue.factories import OfferFactory
from tests.organisations.factories import SupplierFactory, TrustFactory, member
from tests.pricing.helpers import HEADER, csv_bytes, row

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _uploads_in_a_temporary_folder(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def buyer():
    OfferFactory(supplier_sku="SKU-1")
    return member(Role.BUYER, TrustFactory(ods_code="T0001"))


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def history_file(lines: int) -> SimpleUploadedFile:
    return SimpleUploadedFile("h.csv", csv_bytes([row(line_number=n) for n in range(1, lines + 1)]))


def test_a_small_purchase_history_file_is_imported_before_the_answer(
    buyer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = api_for(buyer).post("/api/v1/pricing/imports/", {"file": history_file(3)})

    assert response.status_code == 202
    assert response.json()["status"] == "succeeded"
    assert PurchaseHistoryLine.objects.count() == 3
    # Only the summaries' refresh waits for the commit (and the kept figures' version moving again,
    # `common.caching.shared_changed`, which queues no work).
    assert len([callback for callback in queued if not hasattr(callback, "shared_namespace")]) == 1


def test_a_large_purchase_history_file_is_queued_and_the_api_follows_it(
    buyer, settings, django_capture_on_commit_callbacks
):
    settings.UPLOAD_INLINE_MAX_BYTES = 500
    client = api_for(buyer)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post("/api/v1/pricing/imports/", {"file": history_file(20)})

    assert response.status_code == 202
    body = response.json()
    assert (body["status"], body["finished"], body["percent"]) == ("queued", False, 0)
    assert not PurchaseHistoryLine.objects.exists()  # nothing ran in the request
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.VALIDATING, total_rows=20)
    cache.set(PROGRESS_KEY.format(id=job.pk), 10)
    midway = client.get(body["url"]).json()
    assert (midway["processed"], midway["total"], midway["percent"]) == (10, 20, 50)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED)

    with django_capture_on_commit_callbacks(execute=True):
        for callback in queued:
            callback()  # what the worker does once the job is committed

    finished = client.get(body["url"]).json()
    assert finished["status"] == "succeeded"
    assert PurchaseHistoryLine.objects.count() == 20


def test_the_upload_page_shows_a_queued_import_with_a_progress_bar(
    client, buyer, settings, django_capture_on_commit_callbacks
):
    settings.UPLOAD_INLINE_MAX_BYTES = 500
    client.force_login(buyer)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("pricing:upload"), {"file": history_file(20)})

    page = client.get(response["Location"]).content.decode()
    assert "Queued" in page
    assert "<progress" in page
    assert reverse("pricing:import-status", args=[ImportJob.objects.get().pk]) in page


def test_a_large_catalogue_file_is_queued_and_its_page_shows_progress(
    client, settings, django_capture_on_commit_callbacks
):
    settings.UPLOAD_INLINE_MAX_BYTES = 500
    supplier = SupplierFactory(is_trusted_supplier=True)
    client.force_login(member(Role.SUPPLIER_ADMIN, supplier))
    rows = [offer_inputs.file_row(n) for n in range(1, 6)]
    upload = SimpleUploadedFile("catalogue.csv", offer_inputs.csv_bytes(rows))
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(reverse("catalogue:import-upload"), {"file": upload})

    page = client.get(response["Location"]).content.decode()
    assert "Waiting to start" in page
    assert "<progress" in page and "data-import-progress" in page
    assert not Offer.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        for callback in queued:
            callback()
    assert Offer.objects.count() == 5


def test_a_failing_queued_import_is_recorded_not_raised_into_the_request(
    buyer, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from pricing.imports import PurchaseHistoryImporter

    def broken(self, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(PurchaseHistoryImporter, "apply", broken)
    settings.UPLOAD_INLINE_MAX_BYTES = 500
    client = api_for(buyer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/pricing/imports/", {"file": history_file(20)})

    assert response.status_code == 202
    assert client.get(response.json()["url"]).json()["status"] == "failed"
    assert not PurchaseHistoryLine.objects.exists()


def test_a_workbook_is_judged_by_the_xml_it_holds(settings):
    from openpyxl import Workbook

    settings.UPLOAD_INLINE_MAX_BYTES = 150_000
    book = Workbook()
    book.active.append(HEADER)
    for n in range(1, 3_000):
        book.active.append([row(line_number=n)[name] for name in HEADER])
    out = io.BytesIO()
    book.save(out)
    assert len(out.getvalue()) <= 150_000  # small as a file...

    assert not runs_inline(out)  # ...but its XML is a large file's work
    assert runs_inline(io.BytesIO(b"a,b\n" * 100))
