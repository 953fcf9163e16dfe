"""A trust's analyst signs in, finds the savings dashboard from the national view, downloads the
PDF savings report and opens the purchase-history lines left to map by hand."""

from __future__ import annotations

import pytest

from organisations.models import Role
from tests.organisations.factories import member

pytestmark = pytest.mark.e2e


@pytest.fixture
def analyst(busiest_trust, password):
    return member(Role.TRUST_ADMIN, busiest_trust, email="analyst@trust.example", password=password)


def test_an_analyst_opens_the_savings_dashboard_and_downloads_the_pdf(analyst, journey, password):
    page = journey.page
    trust = analyst.memberships.get().organisation
    journey.sign_in(analyst.email, password)

    page.get_by_role("link", name="Where trusts could save").click()
    journey.check("national savings")

    page.get_by_role("link", name=f"See {trust.name}'s savings opportunities").click()
    journey.check("trust savings dashboard")
    assert page.get_by_role("heading", name=f"Savings opportunities for {trust.name}").is_visible()
    assert page.get_by_text("Possible savings against the target").is_visible()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="PDF", exact=True).click()
    download = download_info.value
    assert download.suggested_filename.startswith(f"savings-{trust.ods_code}-")
    assert download.suggested_filename.endswith(".pdf")
    saved = journey.folder / download.suggested_filename
    download.save_as(saved)
    body = saved.read_bytes()
    assert body.startswith(b"%PDF-"), body[:40]
    assert b"%%EOF" in body[-1024:]

    # Narrowed to one category: the same page, filtered (full or empty, it is checked the same way).
    category = page.get_by_label("Category")
    chosen = category.locator("option").nth(1).inner_text().strip()
    category.select_option(index=1)
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**category=*")
    journey.check("dashboard for one category")
    assert page.get_by_label("Category").locator("option:checked").inner_text().strip() == chosen

    page.get_by_role("link", name="Map them by hand").click()
    journey.check("lines to map by hand")
    assert page.get_by_role("heading", name="Lines to map by hand").is_visible()
    assert page.locator("table tbody tr").count() >= 1

    journey.assert_no_problems()
