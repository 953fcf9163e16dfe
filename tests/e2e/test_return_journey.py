"""Returns in the browser: Pat (the demo patient) sends her walking frame back from her order page;
Pennine's staff find the return waiting in their inbox and accept it; Pat's statement shows the
money back. Every page is checked by axe, on a desktop and a phone (conftest)."""

from __future__ import annotations

import re

import pytest

from organisations import demo as organisations_demo
from personal_budgets import demo as budgets_demo
from purchasing.models import OrderReturn, PurchaseOrder, ReturnState

pytestmark = pytest.mark.e2e
PASSWORD = organisations_demo.DEMO_PASSWORD
PAT = "patient1@demo.example"


def test_pat_sends_her_frame_back_the_shop_accepts_and_her_statement_shows_the_money(demo, journey):
    page = journey.page
    frame = PurchaseOrder.objects.get(checkout__key="demo-pat-frame")
    journey.sign_in(PAT, PASSWORD)
    journey.goto("/budgets/orders/", "Pat's orders")
    journey.goto(f"/budgets/orders/{frame.pk}/", "the frame's order")
    page.get_by_role("link", name="Send something back").click()
    journey.check("send something back")
    page.get_by_label("How many").fill("1")
    page.get_by_label("Why are you sending it back?").fill("It is too wide for my hall.")
    page.get_by_role("button", name="Send back").click()
    page.wait_for_url(re.compile(rf"/budgets/orders/{frame.pk}/$"))
    journey.check("asked")
    assert page.get_by_text("we are waiting for the shop to take it back").is_visible()

    page.context.clear_cookies()
    journey.sign_in(budgets_demo.SUPPLIER_STAFF, PASSWORD)
    journey.goto("/purchasing/supplier/orders/", "orders, with returns waiting")
    assert page.get_by_role("heading", name="Returns waiting for your answer").is_visible()
    page.get_by_role("link", name=re.compile(r"^Walking frame")).first.click()
    journey.check("Pat's return")
    page.get_by_label(re.compile(r"^Accept")).check()
    page.get_by_role("button", name="Send your answer").click()
    page.wait_for_url(re.compile(rf"/purchasing/supplier/orders/{frame.pk}/$"))
    journey.check("accepted, on the order")
    assert page.get_by_text("Return accepted: money given back").first.is_visible()
    found = OrderReturn.objects.get(order=frame)
    assert found.state == ReturnState.ACCEPTED and found.refund_amount == frame.total_incl_vat

    page.context.clear_cookies()
    journey.sign_in(PAT, PASSWORD)
    journey.goto("/budgets/statement/", "the statement with the money back")
    assert page.get_by_text(f"Money back for order {frame.number}").is_visible()
    journey.goto(f"/budgets/orders/{frame.pk}/", "the order, taken back")
    assert page.get_by_text(re.compile(r"is back in your budget")).is_visible()
    journey.assert_no_problems()
