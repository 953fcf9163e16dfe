"""Uploaded files are kept under generated names and no URL serves them, not even with DEBUG on."""

from __future__ import annotations

import importlib
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import clear_url_caches, reverse

from common.models import ImportJob
from organisations.models import Role
from tests.catalogue.offer_inputs import csv_bytes, file_row
from tests.organisations.factories import SupplierFactory, TrustFactory, member
from tests.pricing import helpers as history

pytestmark = pytest.mark.django_db


@pytest.fixture
def debug_urls(settings, tmp_path):
    """The project's URLs as a developer's DEBUG run builds them, with uploads in tmp_path."""
    import marketplace.urls

    settings.MEDIA_ROOT = tmp_path
    settings.DEBUG = True
    importlib.reload(marketplace.urls)
    clear_url_caches()
    yield tmp_path
    settings.DEBUG = False
    importlib.reload(marketplace.urls)
    clear_url_caches()


GENERATED = re.compile(r"^imports/\d{4}/\d{2}/[0-9a-f]{32}\.(csv|xlsx)$")


def test_a_catalogue_file_is_stored_under_a_generated_name_no_url_serves(client, debug_urls):
    client.force_login(member(Role.SUPPLIER_ADMIN, SupplierFactory(is_trusted_supplier=True)))
    upload = SimpleUploadedFile("Pennine prices <March>.csv", csv_bytes([file_row(1)]))
    client.post(reverse("catalogue:import-upload"), {"file": upload})

    job = ImportJob.objects.get()
    assert job.original_name == "Pennine prices <March>.csv"
    assert GENERATED.match(job.file.name), job.file.name
    assert (debug_urls / job.file.name).is_file()
    assert client.get(f"/media/{job.file.name}").status_code == 404


def test_a_purchase_history_file_is_stored_under_a_generated_name_no_url_serves(client, debug_urls):
    client.force_login(member(Role.BUYER, TrustFactory(ods_code="T0001")))
    upload = SimpleUploadedFile("../../history.xlsx.csv", history.csv_bytes([history.row()]))
    client.post(reverse("pricing:upload"), {"file": upload})

    job = ImportJob.objects.get()
    assert "history" not in job.file.name
    assert GENERATED.match(job.file.name), job.file.name
    assert client.get(f"/media/{job.file.name}").status_code == 404
    assert client.get("/media/imports/").status_code == 404


def test_with_debug_on_only_the_cms_image_renditions_are_served(client, debug_urls):
    (debug_urls / "images").mkdir()
    (debug_urls / "images" / "logo.png").write_bytes(b"\x89PNG\r\n")
    (debug_urls / "documents").mkdir()
    (debug_urls / "documents" / "contract.pdf").write_bytes(b"%PDF-1.4")

    assert client.get("/media/images/logo.png").status_code == 200
    assert client.get("/media/documents/contract.pdf").status_code == 404
