"""Personal health budgets in the browser: a patient on a phone buys a walking aid within their
budget and downloads their statement; the care coordinator approves an item over the plan's cap; the
ICB's budget manager allocates money to a budget. Every page is checked by axe (conftest)."""

from __future__ import annotations

import re

import pytest

from organisations import demo as organisations_demo
from personal_budgets import demo as budgets_demo
from personal_budgets.models import Budget
from purchasing.models import PurchaseOrder

pytestmark = pytest.mark.e2e
PASSWORD = organisations_demo.DEMO_PASSWORD


def test_a_patient_on_a_phone_buys_a_walking_aid_and_downloads_a_statement(demo, journey):
    if not journey.viewport.mobile:
        pytest.skip("the patient's journey is on a phone-sized screen")
    page = journey.page
    journey.sign_in("patient3@demo.example", PASSWORD)  # Kim Khan: mobility aids, no cap per item
    page.get_by_role("link", name="Shop").click()
    journey.check("the shop")
    assert page.get_by_text("left to spend").first.is_visible()
    page.get_by_role("link", name=re.compile(r"^Buy Walking stick")).first.click()
    journey.check("buy a walking stick")
    page.get_by_label("Address").fill("3 Demo Street\nLeeds")
    page.get_by_label("Postcode").fill("LS2 9JT")
    page.get_by_role("button", name="Buy now").click()
    page.wait_for_url(re.compile(r"/budgets/orders/\d+/$"), timeout=60_000)  # the order PDF is emailed
    journey.check("the order")
    assert page.get_by_text("Sent to the shop").is_visible()
    assert PurchaseOrder.objects.filter(patient__user__email="patient3@demo.example").count() == 2

    journey.goto("/budgets/statement/", "the statement")
    with page.expect_download() as download:
        page.get_by_role("link", name="Save as PDF").click()
    assert download.value.suggested_filename == "budget-statement.pdf"
    journey.assert_no_problems()


def test_the_care_coordinator_approves_an_item_over_the_cap(demo, journey):
    page = journey.page
    journey.sign_in(budgets_demo.COORDINATOR, PASSWORD)
    page.get_by_role("link", name="Orders waiting for you (1)").click()
    journey.check("the queue")
    page.get_by_role("link", name=re.compile(r"^Decide")).click()
    journey.check("the decision")
    page.get_by_label("Your decision").select_option(label="Yes, buy it")
    page.get_by_label("Tell the person why").fill("Agreed at your review.")
    page.get_by_role("button", name="Save the decision").click()
    page.wait_for_url(re.compile(r"/budgets/coordinator/$"), timeout=60_000)
    journey.check("the queue, emptied")
    assert page.get_by_text("Nothing is waiting for you.").is_visible()
    journey.assert_no_problems()


def test_the_budget_manager_allocates_to_a_budget(demo, journey):
    page = journey.page
    budget = Budget.objects.get(patient__user__email="patient1@demo.example")
    journey.sign_in(budgets_demo.MANAGER, PASSWORD)
    page.get_by_role("link", name="Personal health budgets", exact=True).click()
    journey.check("the budgets")
    page.get_by_role("link", name="Allocate to Pat Patel").click()
    journey.check("allocate")
    page.get_by_label("Amount in pounds").fill("250.00")
    page.get_by_label("When").select_option(label="One-off")
    page.get_by_role("button", name="Allocate").click()
    page.wait_for_url(re.compile(r"/budgets/commissioner/$"))
    journey.check("allocated")
    assert budget.allocations.count() == 3
    page.get_by_role("link", name=re.compile(r"^The report")).click()
    journey.check("the report")
    journey.assert_no_problems()
