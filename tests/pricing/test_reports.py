"""A trust downloads its savings report as PDF, CSV and Excel; the rows are the stored figures."""

from __future__ import annotations

import csv
import io
import re
import zlib
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from common.pdf import render_pdf
from organisations.models import Role
from pricing import analytics, selectors
from tests.catalogue.factories import ProductFactory
from tests.organisations.factories import TrustFactory, member
from tests.pricing.helpers import line

pytestmark = pytest.mark.django_db


@pytest.fixture
def dear_trust():
    cheap = TrustFactory(name="Cheap Hospitals NHS Trust", ods_code="CHP")
    dear = TrustFactory(name="Dear Hospitals NHS Trust", ods_code="DER")
    for index, price in enumerate(["5.00", "7.00", "9.00"]):
        product = ProductFactory(name=f"Stocking {index}")
        line(cheap, product, packs="100", pack_price=price)
        line(dear, product, packs="100", pack_price=str(Decimal(price) * Decimal("1.4")))
    analytics.summaries_refresh(full=True)
    return dear


def expected_rows(trust) -> list[list[str]]:
    period = selectors.default_period()
    return [
        [str(o.product.pk), o.product.name, str(o.saving_vs_target)]
        for o in selectors.trust_opportunities(trust=trust, period=period, limit=None)
    ]


def pdf_title(pdf: bytes) -> str:
    """The document title from the PDF's metadata (WeasyPrint writes the HTML <title> there, UTF-16)."""
    for match in re.finditer(rb"stream\r?\n", pdf):
        try:
            data = zlib.decompressobj().decompress(pdf[match.end() :])
        except zlib.error:
            continue
        found = re.search(rb"/Title\s*(?:<([0-9A-Fa-f]+)>|\(([^)]*)\))", data)
        if found and found.group(1):
            return bytes.fromhex(found.group(1).decode()).decode("utf-16")
        if found:
            return found.group(2).decode("latin-1")
    raise AssertionError("the PDF has no title")


def test_the_pdf_report_names_the_trust(client, dear_trust):
    client.force_login(member(Role.BUYER, dear_trust))
    response = client.get(reverse("pricing:trust-report", args=["DER", "pdf"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "Dear Hospitals NHS Trust" in pdf_title(response.content)


def test_render_pdf_makes_a_pdf_from_any_template(settings, tmp_path):
    engine = dict(settings.TEMPLATES[0])
    engine["DIRS"] = [*engine["DIRS"], tmp_path]
    settings.TEMPLATES = [engine]
    (tmp_path / "hello.html").write_text(
        "<html><head><title>{{ name }}</title></head><body>{{ name }}</body></html>"
    )
    pdf = render_pdf("hello.html", {"name": "Hello report"})
    assert pdf.startswith(b"%PDF") and pdf_title(pdf) == "Hello report"


def test_the_csv_rows_are_the_stored_savings(client, dear_trust):
    client.force_login(member(Role.BUYER, dear_trust))
    response = client.get(reverse("pricing:trust-report", args=["DER", "csv"]))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][0] == "product_id"
    got = [[r[0], r[1], r[7]] for r in rows[1:]]
    assert got == expected_rows(dear_trust)
    assert len(got) == 3
    totals = selectors.trust_totals(trust=dear_trust, period=selectors.default_period())
    assert sum(Decimal(r[7]) for r in rows[1:]) == totals.savings_target


def test_the_xlsx_rows_are_the_stored_savings(client, dear_trust):
    client.force_login(member(Role.BUYER, dear_trust))
    response = client.get(reverse("pricing:trust-report", args=["DER", "xlsx"]))
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    got = [[str(r[0]), r[1], f"{Decimal(str(r[7])):.2f}"] for r in rows]
    assert got == expected_rows(dear_trust)
