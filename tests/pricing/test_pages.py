"""Trust users read the analytics pages; each sees its own lines and others' prices only as aggregates."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from openpyxl import load_workbook

from organisations.models import Role
from pricing import analytics
from pricing.models import ProductMapping, PurchaseHistoryLine
from tests.catalogue.factories import OfferFactory, ProductFactory
from tests.organisations.factories import TrustFactory, member
from tests.pricing.helpers import csv_bytes, line, row, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Two trusts paying different prices for stockings; the dear one 40% more than the cheap one."""
    cheap = TrustFactory(name="Cheap Hospitals NHS Trust", ods_code="CHP")
    dear = TrustFactory(name="Dear Hospitals NHS Trust", ods_code="DER")
    named = TrustFactory(name="Open Hospitals NHS Trust", ods_code="OPN", share_prices_by_name=True)
    stockings = ProductFactory(name="Anti-embolism stockings, thigh, M")
    line(cheap, stockings, packs="100", units_per_pack=10, pack_price="50.00")
    line(dear, stockings, packs="100", units_per_pack=10, pack_price="70.00")
    line(named, stockings, packs="20", units_per_pack=1, pack_price="6.00")
    analytics.summaries_refresh(full=True)
    return {"cheap": cheap, "dear": dear, "named": named, "stockings": stockings}


def signed_in(client, user):
    client.force_login(user)
    return client


def test_a_buyer_sees_the_products_with_the_largest_savings(client, world):
    client = signed_in(client, member(Role.BUYER, world["dear"]))
    response = client.get(reverse("pricing:national"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Anti-embolism stockings, thigh, M" in page
    # (7.00 - target) x 1000 units for the dear trust plus the named trust's saving.
    assert "Possible savings against the target" in page


def test_every_analytics_table_scrolls_in_a_labelled_region_of_its_own(client, world):
    """On a phone a wide table scrolls inside its region rather than widening the page
    (tests/e2e measures it at 390 px); the region is named by the caption and takes focus."""
    client = signed_in(client, member(Role.TRUST_ADMIN, world["dear"]))
    pages = [
        reverse("pricing:national"),
        reverse("pricing:trust", args=["DER"]),
        reverse("pricing:product", args=[world["stockings"].pk]),
    ]
    for url in pages:
        page = client.get(url).content.decode()
        tables = page.count("<table")
        assert tables >= 1, url
        regions = re.findall(
            r'<div class="mp-table-scroll" role="region" aria-labelledby="([\w-]+)" tabindex="0">'
            r'\s*<table[^>]*>\s*<caption class="[^"]*" id="([\w-]+)">',
            page,
        )
        assert len(regions) == tables, url
        assert all(label == caption for label, caption in regions), url


def test_the_product_page_highlights_the_viewer_and_anonymises_other_trusts(client, world):
    client = signed_in(client, member(Role.BUYER, world["dear"]))
    response = client.get(reverse("pricing:product", args=[world["stockings"].pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Dear Hospitals NHS Trust (your trust)" in page
    assert "Your trust £7.0000" in page  # the chart labels the viewer's diamond in text, not colour alone
    assert "<svg" in page and "Target (10th centile)" in page
    assert "Cheap Hospitals" not in page
    assert "Open Hospitals NHS Trust" in page  # it allows its name to be shown


def test_a_trust_dashboard_lists_its_opportunities(client, world):
    client = signed_in(client, member(Role.APPROVER, world["dear"]))
    response = client.get(reverse("pricing:trust", args=["DER"]))
    assert response.status_code == 200
    assert "Anti-embolism stockings, thigh, M" in response.content.decode()


def test_another_trusts_dashboard_unmatched_lines_and_reports_are_not_found(client, world):
    client = signed_in(client, member(Role.BUYER, world["dear"]))
    for url in (
        reverse("pricing:trust", args=["CHP"]),
        reverse("pricing:unmatched", args=["CHP"]),
        reverse("pricing:trust-report", args=["CHP", "pdf"]),
        reverse("pricing:trust-report", args=["CHP", "csv"]),
    ):
        assert client.get(url).status_code == 404, url


def test_people_who_do_not_act_for_a_trust_cannot_see_price_analytics(client, world):
    client = signed_in(client, member(Role.SUPPLIER_ADMIN))
    assert client.get(reverse("pricing:national")).status_code == 404
    assert client.get(reverse("pricing:product", args=[world["stockings"].pk])).status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, world):
    response = client.get(reverse("pricing:national"))
    assert response.status_code == 302


def test_a_buyer_maps_an_unmatched_line_and_the_mapping_is_remembered(client):
    trust = TrustFactory(ods_code="T0001")
    buyer = member(Role.BUYER, trust)
    upload(buyer, [row(line_number=1, supplier_sku="LOCAL-77"), row(line_number=2, supplier_sku="LOCAL-77")])
    product = ProductFactory(gtin="05012345678900")
    client = signed_in(client, buyer)
    page = client.get(reverse("pricing:unmatched", args=["T0001"]))
    assert "LOCAL-77" in page.content.decode()
    first = PurchaseHistoryLine.objects.filter(trust=trust).first()
    response = client.post(
        reverse("pricing:unmatched", args=["T0001"]),
        {"line": first.pk, "kind": "supplier_sku", "product": "5012345678900"},
    )
    assert response.status_code == 302
    assert set(PurchaseHistoryLine.objects.values_list("product_id", flat=True)) == {product.pk}
    assert ProductMapping.objects.get(trust=trust).value == "LOCAL-77"
    # A later import with the same code matches by the remembered mapping.
    job = upload(buyer, [row(order_reference="PO-9", supplier_sku="local-77")])
    assert job.summary["matched"] == 1


def test_mapping_asks_for_a_real_product(client):
    trust = TrustFactory(ods_code="T0001")
    buyer = member(Role.BUYER, trust)
    upload(buyer, [row(supplier_sku="LOCAL-1")])
    line_ = PurchaseHistoryLine.objects.get()
    response = signed_in(client, buyer).post(
        reverse("pricing:unmatched", args=["T0001"]),
        {"line": line_.pk, "kind": "supplier_sku", "product": "nope"},
    )
    assert response.status_code == 200
    assert "No catalogue product has that GTIN" in response.content.decode()


def test_another_trusts_unmatched_line_cannot_be_mapped(client):
    mine, theirs = TrustFactory(ods_code="T0001"), TrustFactory(ods_code="T0002")
    upload(member(Role.BUYER, theirs), [row(trust_ods="T0002", supplier_sku="THEIRS")])
    their_line = PurchaseHistoryLine.objects.get()
    ProductFactory(gtin="05012345678900")
    response = signed_in(client, member(Role.BUYER, mine)).post(
        reverse("pricing:unmatched", args=["T0001"]),
        {"line": their_line.pk, "kind": "supplier_sku", "product": "5012345678900"},
    )
    assert response.status_code == 404
    assert PurchaseHistoryLine.objects.get().product_id is None


def test_the_upload_page_imports_and_shows_progress_as_json(client, django_capture_on_commit_callbacks):
    trust = TrustFactory(ods_code="T0001")
    buyer = member(Role.BUYER, trust)
    OfferFactory(supplier_sku="SKU-1")
    client = signed_in(client, buyer)
    assert client.get(reverse("pricing:upload")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("pricing:upload"),
            {"file": SimpleUploadedFile("h.csv", csv_bytes([row(), row(line_number=2)]), "text/csv")},
        )
    assert response.status_code == 302
    detail = client.get(response["Location"])
    assert "Imported 2 lines" in detail.content.decode()
    job_id = int(response["Location"].rstrip("/").split("/")[-1])
    status = client.get(reverse("pricing:import-status", args=[job_id])).json()
    assert status["status"] == "succeeded" and status["percent"] == 100
    assert status["summary"]["matched"] == 2
    # Someone of another trust cannot see the job.
    other = signed_in(client, member(Role.BUYER, TrustFactory()))
    assert other.get(reverse("pricing:import-status", args=[job_id])).status_code == 404


def test_the_templates_download(client):
    client = signed_in(client, member(Role.BUYER))
    csv_template = client.get(reverse("pricing:template", args=["csv"]))
    assert csv_template.content.decode().startswith("trust_ods,order_reference,line_number")
    xlsx = client.get(reverse("pricing:template", args=["xlsx"]))
    assert load_workbook(io.BytesIO(xlsx.content)).active["A1"].value == "trust_ods"


def test_the_peer_prices_tag_shows_the_median_target_and_the_viewers_own_price(world):
    request = RequestFactory().get("/")
    request.user = member(Role.BUYER, world["dear"])
    html = Template("{% load pricing_tags %}{% peer_prices product %}").render(
        Context({"request": request, "product": world["stockings"]})
    )
    assert "What other trusts pay" in html
    assert "£6.0000" in html  # the median of 5.00, 6.00 and 7.00 per unit
    assert "£7.0000" in html and "+17% on the median" in html


def test_the_peer_prices_tag_shows_nothing_to_people_outside_trusts(world):
    request = RequestFactory().get("/")
    request.user = member(Role.SUPPLIER_ADMIN)
    html = Template("{% load pricing_tags %}{% peer_prices product %}").render(
        Context({"request": request, "product": world["stockings"]})
    )
    assert html.strip() == ""


def test_peer_prices_for_a_trust_that_never_bought_the_product(world):
    from pricing.selectors import peer_prices

    peer = peer_prices(product=world["stockings"], trust=TrustFactory())
    assert (peer.median, peer.target, peer.own_ppu) == (Decimal("6.0000"), Decimal("5.2000"), None)


def test_peer_prices_are_kept_for_each_trust_until_its_lines_or_the_figures_change(
    world, django_assert_num_queries
):
    """A product page asks on every view: the figures are kept, each trust's under its own key, and
    a new line of the trust's or a refresh shows at once."""
    from pricing.selectors import peer_prices

    stockings, dear, cheap = world["stockings"], world["dear"], world["cheap"]
    assert peer_prices(product=stockings, trust=dear).own_ppu == Decimal("7.0000")
    with django_assert_num_queries(0):
        kept = peer_prices(product=stockings, trust=dear)
    assert kept.own_ppu == Decimal("7.0000")
    # Another trust never reads the first one's figure.
    assert peer_prices(product=stockings, trust=cheap).own_ppu == Decimal("5.0000")

    # The dear trust buys 1,000 more units at £3.00: its own price is the rollup's at once.
    line(dear, stockings, packs="100", units_per_pack=10, pack_price="30.00")
    assert peer_prices(product=stockings, trust=dear).own_ppu == Decimal("5.0000")
    assert peer_prices(product=stockings, trust=dear).median == Decimal("6.0000")
    # The refresh moves the median (5.00, 5.00 and 6.00 per unit).
    analytics.summaries_refresh()
    assert peer_prices(product=stockings, trust=dear).median == Decimal("5.0000")


def test_the_catalogue_product_page_shows_what_other_trusts_pay(client, world):
    """The buyer comparing offers sees, beside them, the median and target and their own price."""
    OfferFactory(product=world["stockings"])
    client = signed_in(client, member(Role.BUYER, world["dear"]))
    response = client.get(reverse("catalogue:product-detail", kwargs={"slug": world["stockings"].slug}))
    page = response.content.decode()
    assert response.status_code == 200
    assert "What other trusts pay" in page
    assert "£7.0000" in page and "+17% on the median" in page
