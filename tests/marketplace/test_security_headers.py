"""Every page tells the browser what it may run and do, and signed-in answers are never cached."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from organisations.models import Role
from pricing import analytics
from tests.catalogue.factories import ProductFactory
from tests.organisations.factories import TrustFactory, member
from tests.pricing.helpers import line

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = [
    path
    for path in ROOT.glob("*/templates/**/*.html")
    if ".venv" not in path.parts and "node_modules" not in path.parts
]
# WeasyPrint renders these to PDF on the server; no browser ever runs them under the policy.
PDF_TEMPLATES = {"report_pdf.html", "order_pdf.html", "statement_pdf.html"}


def test_pages_carry_a_policy_that_allows_only_this_sites_scripts(client):
    response = client.get(reverse("organisations:sign-in"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_holds_an_inline_script_handler_or_style(template):
    """Under the policy an inline script would not run: each is a file in static/ instead."""
    if template.name in PDF_TEMPLATES:
        return
    text = template.read_text()
    inline_scripts = [tag for tag in re.findall(r"<script\b[^>]*>", text) if "src=" not in tag]
    assert inline_scripts == []
    assert re.findall(r"\son[a-z]+\s*=\s*[\"']", text) == []
    assert "<style" not in text
    assert re.findall(r"\sstyle\s*=\s*[\"']", text) == []


def test_the_api_documentation_loads_its_script_from_a_file(client):
    page = client.get(reverse("api-docs")).content.decode()
    tags = re.findall(r"<script\b[^>]*>", page)
    assert tags and all("src=" in tag for tag in tags)


def test_a_trusts_dashboard_and_report_are_not_kept_by_the_browser_or_a_proxy(client):
    leeds = TrustFactory(name="Leeds Teaching Hospitals NHS Trust", ods_code="RR8")
    line(leeds, ProductFactory(name="Anti-embolism stockings"), packs="10", pack_price="9.00")
    analytics.summaries_refresh(full=True)
    client.force_login(member(Role.BUYER, leeds))
    for url in [
        reverse("pricing:trust", args=["RR8"]),
        reverse("pricing:trust-report", args=["RR8", "csv"]),
        reverse("start"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        cache_control = response["Cache-Control"]
        assert "private" in cache_control and "no-store" in cache_control, url


def test_an_api_answer_to_a_token_is_not_kept_either():
    buyer = member(Role.BUYER, TrustFactory())
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=buyer).key}")
    response = api.get("/api/v1/organisations/me/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
