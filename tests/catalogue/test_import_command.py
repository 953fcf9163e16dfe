"""`manage.py import_catalogue --supplier <id> FILE` for operators and suppliers' scripts."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from catalogue.models import Offer
from tests.catalogue.offer_inputs import csv_bytes, file_row, xlsx_bytes
from tests.organisations.factories import SupplierFactory, TrustFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _uploads_in_a_temporary_folder(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_a_good_file_is_imported_and_summarised(tmp_path):
    supplier = SupplierFactory(is_trusted_supplier=True)
    path = tmp_path / "catalogue.csv"
    path.write_bytes(csv_bytes([file_row(1), file_row(2)]))
    out = StringIO()

    call_command("import_catalogue", "--supplier", str(supplier.pk), str(path), stdout=out)

    assert "Imported 2 rows" in out.getvalue()
    assert "created: 2" in out.getvalue()
    assert Offer.objects.filter(supplier=supplier).count() == 2


def test_an_xlsx_file_is_imported(tmp_path):
    supplier = SupplierFactory()
    path = tmp_path / "catalogue.xlsx"
    path.write_bytes(xlsx_bytes([file_row(1)]))

    call_command("import_catalogue", "--supplier", str(supplier.pk), str(path), stdout=StringIO())

    assert Offer.objects.get().status == "pending"


def test_a_bad_file_prints_each_problem_by_row_and_column_and_fails(tmp_path):
    supplier = SupplierFactory()
    path = tmp_path / "catalogue.csv"
    path.write_bytes(csv_bytes([file_row(1), file_row(2, gtin="5012345678901", vat_rate="17")]))
    err = StringIO()

    with pytest.raises(CommandError, match="rejected with 2 problem"):
        call_command(
            "import_catalogue", "--supplier", str(supplier.pk), str(path), stdout=StringIO(), stderr=err
        )

    lines = err.getvalue().splitlines()
    assert lines[0].startswith("row 3, gtin: the check digit is wrong")
    assert lines[1] == "row 3, vat_rate: the VAT rate is 0, 5 or 20, not 17"
    assert not Offer.objects.exists()


def test_the_supplier_must_be_a_supplier(tmp_path):
    path = tmp_path / "catalogue.csv"
    path.write_bytes(csv_bytes([file_row(1)]))

    with pytest.raises(CommandError, match="no supplier with id"):
        call_command("import_catalogue", "--supplier", str(TrustFactory().pk), str(path))


def test_a_missing_file_is_named(tmp_path):
    supplier = SupplierFactory()

    with pytest.raises(CommandError, match="no file at"):
        call_command("import_catalogue", "--supplier", str(supplier.pk), str(tmp_path / "nope.csv"))
