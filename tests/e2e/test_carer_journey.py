"""The demo's carer signs in, finds the people they support on the start page, and chooses in the
header's "Acting for patient" switcher the patient they act for; the choice holds from page to page."""

from __future__ import annotations

import pytest

from organisations import demo as organisations_demo

pytestmark = pytest.mark.e2e


def test_a_carer_chooses_the_patient_they_act_for_in_the_header(demo, journey):
    page = journey.page
    carer_email, _, _ = organisations_demo.CARER
    journey.sign_in(carer_email, organisations_demo.DEMO_PASSWORD)
    assert page.get_by_role("heading", name="People you support").is_visible()
    switcher = page.get_by_label("Acting for patient")
    assert switcher.locator("option:checked").inner_text().strip() == "No one in particular"
    assert [o.strip() for o in switcher.locator("option").all_inner_texts()] == [
        "No one in particular",
        "Pat Patel",
    ]

    switcher.select_option(label="Pat Patel")
    page.get_by_role("button", name="Switch patient").click()
    page.wait_for_load_state("load")
    journey.check("acting for Pat Patel")

    page.get_by_role("link", name="Equipment for personal health budgets").click()
    journey.check("equipment for personal health budgets")
    assert (
        page.get_by_label("Acting for patient").locator("option:checked").inner_text().strip() == "Pat Patel"
    )

    journey.assert_no_problems()
