"""Every way a file comes in (pages, API, management commands; catalogue and purchase history)
meets the same limits: a .csv or .xlsx whose content is what its name says, of a bounded size.
Each refusal names the field and says what is allowed, and nothing is stored."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from common.errors import DomainError
from common.models import ImportJob
from common.uploads import validate_upload
from organisations.models import Role
from tests.catalogue import offer_inputs
from tests.organisations.factories import SupplierFactory, TrustFactory, member
from tests.pricing import helpers as history

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
OLD_EXCEL = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500


@pytest.fixture(autouse=True)
def _uploads_in_a_temporary_folder(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def refusal(content: bytes, name: str) -> str:
    with pytest.raises(DomainError) as raised:
        validate_upload(io.BytesIO(content), name=name)
    assert raised.value.field == "file"
    return raised.value.message


def a_zip(**members: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_a_csv_and_an_xlsx_pass_and_say_which_they_are():
    rows = [offer_inputs.file_row(1)]
    assert validate_upload(io.BytesIO(offer_inputs.csv_bytes(rows)), name="a.CSV") == "csv"
    assert validate_upload(io.BytesIO(offer_inputs.xlsx_bytes(rows)), name="a.xlsx") == "xlsx"


def test_another_kind_of_file_is_refused_saying_what_is_allowed():
    message = refusal(b"trust_ods\nRJ1\n", "history.txt")
    assert ".csv" in message and ".xlsx" in message


def test_the_content_is_sniffed_not_just_the_name():
    assert "is a PDF document" in refusal(PDF, "prices.csv")
    assert "old Excel .xls workbook" in refusal(OLD_EXCEL, "prices.csv")
    assert "not an Excel workbook" in refusal(b"supplier_sku,name\nA,B\n", "prices.xlsx")
    assert "not an Excel workbook" in refusal(a_zip(**{"word/document.xml": b"<w/>"}), "prices.xlsx")
    workbook = offer_inputs.xlsx_bytes([offer_inputs.file_row(1)])
    assert "is an Excel workbook. Name it .xlsx" in refusal(workbook, "prices.csv")
    assert "not UTF-8 text" in refusal("supplier_sku,name\nA,Caf\xe9\n".encode("latin-1"), "prices.csv")


def test_an_empty_file_and_a_file_over_the_size_limit_are_refused(settings):
    settings.UPLOAD_MAX_BYTES = 1024
    assert "empty" in refusal(b"", "a.csv")
    message = refusal(b"a,b\n" * 300, "a.csv")
    assert message.startswith("The file is 1 KB; files of up to 1 KB are accepted")


def test_a_character_cut_in_two_at_the_end_of_the_sample_is_still_text():
    content = b"name\n" + b"x" * 8186 + "é\n".encode()
    assert validate_upload(io.BytesIO(content), name="a.csv") == "csv"


# --- The same limits on every path ---------------------------------------------------------------


def _catalogue_page(client, name, content):
    supplier = SupplierFactory(is_trusted_supplier=True)
    client.force_login(member(Role.SUPPLIER_ADMIN, supplier))
    response = client.post(reverse("catalogue:import-upload"), {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 200
    return response.context["form"].errors["file"][0]


def _catalogue_api(client, name, content):
    api = APIClient()
    api.force_authenticate(member(Role.SUPPLIER_ADMIN, SupplierFactory()))
    response = api.post("/api/v1/catalogue/imports/", {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 400
    return response.json()["file"][0]


def _catalogue_command(client, name, content, tmp_path):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CommandError) as raised:
        call_command("import_catalogue", str(path), supplier=SupplierFactory().pk)
    return str(raised.value)


def _history_page(client, name, content):
    client.force_login(member(Role.BUYER, TrustFactory(ods_code="T0001")))
    response = client.post(reverse("pricing:upload"), {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 200
    return response.context["form"].errors["file"][0]


def _history_api(client, name, content):
    api = APIClient()
    api.force_authenticate(member(Role.BUYER, TrustFactory(ods_code="T0001")))
    response = api.post("/api/v1/pricing/imports/", {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 400
    return response.json()["file"][0]


def _history_command(client, name, content, tmp_path):
    path = tmp_path / name
    path.write_bytes(content)
    buyer = member(Role.BUYER, TrustFactory(ods_code="T0001"))
    with pytest.raises(CommandError) as raised:
        call_command("import_purchase_history", str(path), user=buyer.email)
    return str(raised.value)


PATHS = {
    "catalogue page": _catalogue_page,
    "catalogue API": _catalogue_api,
    "catalogue command": _catalogue_command,
    "purchase-history page": _history_page,
    "purchase-history API": _history_api,
    "purchase-history command": _history_command,
}


def _refused(path: str, client, tmp_path, name: str, content: bytes) -> str:
    attempt = PATHS[path]
    if "command" in path:
        return attempt(client, name, content, tmp_path)
    return attempt(client, name, content)


@pytest.mark.parametrize("path", PATHS)
def test_every_path_refuses_a_file_of_another_kind(path, client, tmp_path):
    message = _refused(path, client, tmp_path, "history.exe", b"MZ\x90\x00")
    assert "Upload a CSV file (.csv, UTF-8) or an Excel workbook (.xlsx)" in message
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize("path", PATHS)
def test_every_path_refuses_a_file_whose_content_is_not_its_name(path, client, tmp_path):
    message = _refused(path, client, tmp_path, "history.csv", PDF)
    assert "named .csv but is a PDF document" in message
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize("path", PATHS)
def test_every_path_refuses_a_file_over_the_size_limit(path, client, tmp_path, settings):
    settings.UPLOAD_MAX_BYTES = 2048
    content = history.csv_bytes([history.row(line_number=n) for n in range(1, 40)])
    assert len(content) > 2048
    message = _refused(path, client, tmp_path, "history.csv", content)
    assert "files of up to 2 KB are accepted" in message
    assert not ImportJob.objects.exists()


def test_the_limits_are_stated_on_both_upload_forms(client):
    stated = "up to 50 MB, 500,000 rows and 100 columns"
    client.force_login(member(Role.SUPPLIER_ADMIN, SupplierFactory()))
    assert stated in client.get(reverse("catalogue:import-upload")).content.decode()
    client.force_login(member(Role.BUYER, TrustFactory()))
    assert stated in client.get(reverse("pricing:upload")).content.decode()


def test_a_workbook_cut_short_is_named_damaged():
    whole = offer_inputs.xlsx_bytes([offer_inputs.file_row(1)])
    assert "damaged or incomplete" in refusal(whole[: len(whole) // 2], "prices.xlsx")


def test_a_huge_upload_stops_growing_on_disk_at_the_limit_and_is_refused_with_its_size(settings):
    from common.uploads import CappedTemporaryFileUploadHandler

    settings.UPLOAD_MAX_BYTES = 10_000
    handler = CappedTemporaryFileUploadHandler()
    handler.new_file("file", "big.csv", "text/csv", None)
    chunk = b"a,b,c\n" * 1000
    for start in range(0, 100 * len(chunk), len(chunk)):
        handler.receive_data_chunk(chunk, start)
    stored = handler.file_complete(100 * len(chunk))

    assert stored.size == 600_000
    with open(stored.temporary_file_path(), "rb") as on_disk:
        assert len(on_disk.read()) == 10_001
    with pytest.raises(DomainError) as raised:
        validate_upload(stored)
    assert "The file is 585 KB; files of up to 9 KB are accepted" in raised.value.message


def test_a_huge_upload_through_a_page_is_refused_naming_its_size(client, settings):
    settings.UPLOAD_MAX_BYTES = 10_000
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1_000  # to the temporary-file handler
    content = history.csv_bytes([history.row(line_number=n) for n in range(1, 300)])
    message = _history_page(client, "history.csv", content)
    assert f"The file is {len(content) // 1024} KB; files of up to 9 KB are accepted" in message


# --- The row, column and problem limits hold on every path too (common.imports runs them all) ----


def _send(path: str, client, tmp_path, name: str, content: bytes) -> None:
    """Upload through one path, however it answers (the job records the outcome)."""
    supplier = SupplierFactory(is_trusted_supplier=True)
    buyer = member(Role.BUYER, TrustFactory(ods_code="T0001"))
    user = member(Role.SUPPLIER_ADMIN, supplier) if path.startswith("catalogue") else buyer
    file = tmp_path / name
    file.write_bytes(content)
    if path.endswith("page"):
        client.force_login(user)
        url = reverse("catalogue:import-upload" if path.startswith("catalogue") else "pricing:upload")
        assert client.post(url, {"file": SimpleUploadedFile(name, content)}).status_code == 302
    elif path.endswith("API"):
        api = APIClient()
        api.force_authenticate(user)
        url = "/api/v1/catalogue/imports/" if path.startswith("catalogue") else "/api/v1/pricing/imports/"
        assert api.post(url, {"file": SimpleUploadedFile(name, content)}).status_code == 202
    else:
        with pytest.raises(CommandError, match=r"nothing was (applied|imported)"):
            if path.startswith("catalogue"):
                call_command("import_catalogue", str(file), supplier=supplier.pk, stderr=io.StringIO())
            else:
                call_command("import_purchase_history", str(file), user=buyer.email, stderr=io.StringIO())


def _rows(path: str, count: int, **values) -> bytes:
    if path.startswith("catalogue"):
        return offer_inputs.csv_bytes([offer_inputs.file_row(n, **values) for n in range(1, count + 1)])
    return history.csv_bytes([history.row(line_number=n, **values) for n in range(1, count + 1)])


@pytest.mark.parametrize("path", PATHS)
def test_every_path_rejects_a_file_over_the_row_limit_and_applies_nothing(path, client, tmp_path, settings):
    settings.UPLOAD_MAX_ROWS = 2
    _send(path, client, tmp_path, "file.csv", _rows(path, 3))
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.REJECTED
    assert "more than 2 rows after the header" in job.errors[0]["message"]
    assert not job.summary.get("created")


@pytest.mark.parametrize("path", PATHS)
def test_every_path_rejects_a_file_over_the_column_limit(path, client, tmp_path, settings):
    settings.UPLOAD_MAX_COLUMNS = 4
    _send(path, client, tmp_path, "file.csv", _rows(path, 1))
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.REJECTED
    assert "beyond column 4; files have at most 4 columns" in job.errors[0]["message"]


@pytest.mark.parametrize("path", PATHS)
def test_every_path_lists_the_first_thousand_problems_and_counts_the_rest(path, client, tmp_path):
    bad = {"pack_price": "?", "units_per_pack": "?"}
    _send(path, client, tmp_path, "file.csv", _rows(path, 600, **bad))
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.REJECTED
    assert len(job.errors) == 1001 and job.problem_count > 1000
    assert job.errors[-1]["message"].startswith(f"... and {job.problem_count - 1000:,} more problems")
