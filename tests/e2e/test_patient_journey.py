"""Personal health budgets in the browser: a patient on a phone buys a walking aid within their
budget and downloads their statement; the care coordinator approves an item over the plan's cap and
revises a support plan, which the patient then agrees; the ICB's budget manager allocates money to a
budget and gives a patient their next budget in quarterly instalments, calling off the last. Every
page is checked by axe (conftest)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from organisations import demo as organisations_demo
from personal_budgets import demo as budgets_demo
from personal_budgets import selectors
from personal_budgets.models import Budget
from personal_budgets.periods import add_months
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
    page.get_by_label("When").select_option(label="One-off, paid in now")
    page.get_by_role("button", name="Allocate").click()
    page.wait_for_url(re.compile(r"/budgets/commissioner/$"))
    journey.check("allocated")
    assert budget.allocations.count() == 6  # the demo's first payment and four instalments, and this
    page.get_by_role("link", name=re.compile(r"^The report")).click()
    journey.check("the report")
    journey.assert_no_problems()


def test_the_budget_manager_gives_a_patient_their_next_budget_in_quarterly_instalments(demo, journey):
    page = journey.page
    ending = Budget.objects.get(patient__user__email="patient3@demo.example")  # Kim's ends in 7 weeks
    start = ending.period_end + dt.timedelta(days=1)
    journey.sign_in(budgets_demo.MANAGER, PASSWORD)
    page.get_by_role("link", name="Personal health budgets", exact=True).click()
    page.get_by_role("link", name="Give a patient a budget").click()
    journey.check("a new budget")
    page.get_by_label("Patient").select_option(label=f"Kim Khan (NHS number {ending.patient.nhs_number})")
    page.get_by_label("Name of the budget").fill("Personal health budget")
    page.get_by_label("Amount in pounds").fill("1200")
    page.get_by_label("First day").fill(start.isoformat())
    page.get_by_label("Last day").fill((start + dt.timedelta(days=364)).isoformat())
    page.get_by_role("button", name="Make the budget").click()
    page.wait_for_url(re.compile(r"/budgets/commissioner/budgets/\d+/allocate/$"))
    journey.check("allocate to the new budget")
    assert page.get_by_text("Nothing is allocated yet.").is_visible()

    page.get_by_label("Amount in pounds").fill("300")
    page.get_by_label("When").select_option(label="In instalments, paid in every few months")
    page.get_by_label(re.compile(r"^Day to pay it in")).fill(start.isoformat())
    page.get_by_label(re.compile(r"^How many instalments")).fill("4")
    page.get_by_label(re.compile(r"^Months between instalments")).fill("3")
    page.get_by_role("button", name="Allocate").click()
    page.wait_for_url(re.compile(r"/budgets/commissioner/$"))
    journey.check("instalments scheduled")
    assert page.get_by_text("4 instalments of £300.00 scheduled for Kim Khan").is_visible()
    following = Budget.objects.exclude(pk=ending.pk).get(patient__user__email="patient3@demo.example")
    assert [a.due_on for a in following.allocations.all()] == [
        start,
        add_months(start, 3),
        add_months(start, 6),
        add_months(start, 9),
    ]

    # Kim's care changes: the last instalment is called off before its day.
    last = following.allocations.order_by("due_on").last()
    origin = page.url.split("/budgets/")[0]
    page.goto(f"{origin}/budgets/commissioner/budgets/{following.pk}/allocate/")
    page.get_by_role("link", name=f"Cancel the £300.00 due on {last.due_on:%-d %b %Y}").click()
    journey.check("cancel an instalment")
    page.get_by_label("Why are you cancelling it?").fill("Kim's plan is reviewed before then")
    page.get_by_role("button", name="Cancel this allocation").click()
    page.wait_for_url(re.compile(r"/budgets/commissioner/budgets/\d+/allocate/$"))
    journey.check("instalment cancelled")
    assert page.get_by_text("Cancelled: Kim's plan is reviewed before then").is_visible()
    last.refresh_from_db()
    assert last.state == "cancelled"

    # The money not needed any more comes off the budget.
    page.get_by_role("link", name="Change or end this budget").click()
    journey.check("change a budget")
    page.get_by_label("Amount in pounds").fill("900")
    page.get_by_label("Why are you changing it?").fill("Three instalments are enough")
    page.get_by_role("button", name="Save the changes").click()
    page.wait_for_url(re.compile(r"/budgets/commissioner/budgets/\d+/allocate/$"))
    journey.check("budget changed")
    following.refresh_from_db()
    assert following.amount == 900
    journey.assert_no_problems()


def test_the_care_coordinator_revises_a_plan_and_the_patient_agrees_it(demo, journey):
    page = journey.page
    budget = Budget.objects.get(patient__user__email="patient1@demo.example")
    journey.sign_in(budgets_demo.COORDINATOR, PASSWORD)
    page.get_by_role("link", name=re.compile(r"^Orders waiting for you")).click()
    page.get_by_role("link", name="Version 2 for Pat Patel").click()
    journey.check("the plan and its history")
    assert page.get_by_role("heading", name="Version 1: replaced").is_visible()
    page.get_by_role("link", name="Write a new version").click()
    journey.check("write version 3")
    page.get_by_label(re.compile(r"^Most one item may cost")).fill("500.00")
    page.get_by_label("Notes (optional)").fill("A cushion and a wheelchair up to £500.")
    page.get_by_role("button", name="Save this version").click()
    page.wait_for_url(re.compile(r"/budgets/coordinator/budgets/\d+/plan/$"))
    journey.check("version 3 waits for Pat")
    assert page.get_by_role("heading", name="Version 3: waiting for the patient to agree").is_visible()
    page.get_by_role("button", name="Sign out").click()

    journey.sign_in("patient1@demo.example", PASSWORD)
    journey.goto("/budgets/", "the new plan to agree")
    assert page.get_by_text("Your new plan is ready").is_visible()
    page.get_by_role("button", name="Yes, I agree to the new plan").click()
    journey.check("the plan agreed")
    assert selectors.current_plan(budget=budget).version == 3
    journey.assert_no_problems()
