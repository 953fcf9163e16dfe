"""Every demo user signs in on the sign-in page and reaches a start page made for their role."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse

from organisations import demo
from organisations.models import Organisation, Role, User
from tests.organisations.factories import MembershipFactory, TrustFactory, UserFactory

pytestmark = pytest.mark.django_db

# What each demo user's start page shows: (welcome heading, section titles).
EXPECTED = {
    "buyer@leeds.demo.example": ("Welcome, Beth", ["Buyer at Leeds Teaching Hospitals NHS Trust (RR8)"]),
    "approver@leeds.demo.example": (
        "Welcome, Alan",
        ["Approver at Leeds Teaching Hospitals NHS Trust (RR8)"],
    ),
    "trust.admin@leeds.demo.example": (
        "Welcome, Tara",
        ["Trust admin at Leeds Teaching Hospitals NHS Trust (RR8)"],
    ),
    "buyer@gstt.demo.example": (
        "Welcome, Sam",
        ["Buyer at Guy&#x27;s and St Thomas&#x27; NHS Foundation Trust (RJ1)"],
    ),
    "buyer@yorkshire.demo.example": (
        "Welcome, Yusuf",
        [
            "Buyer at Leeds Teaching Hospitals NHS Trust (RR8)",
            "Buyer at York and Scarborough Teaching Hospitals NHS Foundation Trust (RCB)",
        ],
    ),
    "supplier.admin@pennine.demo.example": ("Welcome, Priya", ["Supplier admin at Pennine Medical Supplies"]),
    "supplier.staff@pennine.demo.example": ("Welcome, Steve", ["Supplier staff at Pennine Medical Supplies"]),
    "budget.manager@wy-icb.demo.example": (
        "Welcome, Bina",
        ["Commissioner budget manager at NHS West Yorkshire Integrated Care Board (QWO)"],
    ),
    "care.coordinator@wy-icb.demo.example": (
        "Welcome, Chris",
        ["Care coordinator at NHS West Yorkshire Integrated Care Board (QWO)", "People you support"],
    ),
    "carer@demo.example": ("Welcome, Casey", ["People you support"]),
    "patient1@demo.example": ("Welcome, Pat", ["Your personal health budget"]),
    "patient2@demo.example": ("Welcome, Jo", ["Your personal health budget"]),
    "patient3@demo.example": ("Welcome, Kim", ["Your personal health budget"]),
    "admin@demo.example": ("Welcome, Demo", ["Marketplace administration"]),
}
ALL_SECTIONS = {title for _, titles in EXPECTED.values() for title in titles}


def sign_in(client, email: str):
    return client.post(reverse("organisations:sign-in"), {"username": email, "password": demo.DEMO_PASSWORD})


@pytest.fixture
def demo_data():
    demo.seed(io.StringIO())


def test_the_expectations_cover_every_demo_user(demo_data):
    assert set(User.objects.values_list("email", flat=True)) == set(EXPECTED)


@pytest.mark.parametrize("email", list(EXPECTED))
def test_each_demo_user_signs_in_and_sees_their_sections(client, demo_data, email):
    response = client.post(
        reverse("organisations:sign-in"), {"username": email, "password": demo.DEMO_PASSWORD}, follow=True
    )  # the real sign-in page, as a person would
    assert response.redirect_chain[-1][0] == reverse("start")
    page = response.content.decode()
    heading, sections = EXPECTED[email]
    assert f"<h1>{heading}</h1>" in page
    for title in sections:
        assert f"<h2>{title}</h2>" in page
    for other in ALL_SECTIONS - set(sections):
        assert f"<h2>{other}</h2>" not in page


def test_member_admins_get_a_link_to_their_members_and_buyers_do_not(client, demo_data):
    leeds = Organisation.objects.get(ods_code="RR8")
    members_url = reverse("organisations:membership-list", kwargs={"pk": leeds.pk})
    sign_in(client, "trust.admin@leeds.demo.example")
    assert members_url in client.get(reverse("start")).content.decode()
    sign_in(client, "buyer@leeds.demo.example")
    assert members_url not in client.get(reverse("start")).content.decode()


def test_the_staff_user_reaches_the_back_office(client, demo_data):
    sign_in(client, demo.STAFF_EMAIL)
    assert client.get("/cms/").status_code == 200


def test_the_start_page_costs_the_same_queries_however_many_memberships(
    client, django_assert_max_num_queries
):
    user = UserFactory()
    for _ in range(6):
        MembershipFactory(user=user, organisation=TrustFactory(), role=Role.TRUST_ADMIN)
    client.force_login(user)
    # 7: one of them counts the orders of all six trusts at once (purchasing.selectors.start_counts).
    with django_assert_max_num_queries(7):
        response = client.get(reverse("start"))
    assert response.content.decode().count("<h2>Trust admin at") == 6


@pytest.mark.parametrize("email", list(EXPECTED))
def test_every_link_on_a_start_page_opens_a_working_page_for_that_user(client, demo_data, email):
    """A start page promises nothing that is not there: each link answers 200 for its reader."""
    import re

    sign_in(client, email)
    page = client.get(reverse("start")).content.decode()
    main = page.split('id="maincontent"', 1)[1].split("</main>", 1)[0]
    links = [href.replace("&amp;", "&") for href in re.findall(r'href="([^"#]+)"', main)]
    assert links, email
    for href in links:
        response = client.get(href)
        assert response.status_code == 200, (email, href, response.status_code)


@pytest.mark.parametrize("email", list(EXPECTED))
def test_every_section_says_what_its_reader_can_do_now(client, demo_data, email):
    sign_in(client, email)
    response = client.get(reverse("start"))
    for section in response.context["start"]["sections"]:
        assert section.summary, (email, section.title)
        assert section.links, (email, section.title)


def test_a_buyer_reaches_their_own_trusts_savings_from_the_start_page(client, demo_data):
    sign_in(client, "buyer@leeds.demo.example")
    page = client.get(reverse("start")).content.decode()
    assert reverse("pricing:trust", kwargs={"ods_code": "RR8"}) in page
