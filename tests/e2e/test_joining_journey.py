"""Organisations join without a developer: a supplier registers itself (after a mistyped VAT
number); the Leeds trust admin invites a buyer, who follows the emailed link and sets a password."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from organisations.demo import DEMO_PASSWORD
from organisations.models import Membership, Role, SupplierRegistration

pytestmark = pytest.mark.e2e

TRUST_ADMIN = "trust.admin@leeds.demo.example"


def test_a_supplier_registers_and_a_trust_admin_invites_a_buyer_who_joins(demo, journey):
    page = journey.page
    journey.goto("/accounts/suppliers/register/", "supplier registration")
    page.get_by_label("Company's legal name").fill("Airedale Orthotics Ltd")
    page.get_by_label("Companies House number").fill("07654321")
    page.get_by_label("UK VAT number").fill("GB 123 4567 89")
    page.get_by_label("Contact's full name").fill("Ann Aire")
    page.get_by_label("Contact's email address").fill("ann@airedale.example")
    page.get_by_label("What you sell").fill("Orthotics\nFootwear")
    page.get_by_role("button", name="Send registration").click()
    journey.check("registration refused: VAT check digits")
    assert page.get_by_role("alert").get_by_text("check digits do not match").is_visible()
    page.get_by_label("UK VAT number").fill("GB 999 9999 73")
    page.get_by_role("button", name="Send registration").click()
    page.wait_for_url("**/suppliers/register/sent/")
    journey.check("registration sent")
    assert SupplierRegistration.objects.filter(organisation__legal_name="Airedale Orthotics Ltd").exists()

    journey.sign_in(TRUST_ADMIN, DEMO_PASSWORD)
    leeds = Membership.objects.get(user__email=TRUST_ADMIN).organisation
    journey.goto(f"/accounts/organisations/{leeds.pk}/", "trust page")
    page.get_by_role("link", name="Invite people").click()
    journey.check("invitations page")
    page.get_by_label("Email address").fill("bo@leeds.example")
    page.get_by_label("Role").select_option(Role.APPROVER)
    page.get_by_role("button", name="Send invitation").click()
    journey.check("invitation sent")
    assert page.get_by_text("Invitation sent to bo@leeds.example").is_visible()
    link = re.search(r"https?://\S+/accounts/invitations/\S+/", mail.outbox[-1].body).group(0)
    page.get_by_role("button", name="Sign out").click()

    page.goto(link)
    journey.check("invitation")
    page.get_by_label("Full name").fill("Bo Approver")
    page.get_by_label("Password").fill("a-long-new-password-77")
    page.get_by_role("button", name="Accept invitation").click()
    journey.check("joined")
    assert page.get_by_text(f"You now act for {leeds.name} as Approver").is_visible()
    journey.assert_no_problems()
